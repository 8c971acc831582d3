// Hashing and comparing names (channels, users, devices) so maps keyed by std::string can be
// searched with a std::string_view, without building a string per lookup on the hot path.
#pragma once

#include <functional>
#include <string_view>

namespace wshub::hub {

struct NameHash {
  using is_transparent = void;
  size_t operator()(std::string_view name) const { return std::hash<std::string_view>{}(name); }
};
struct NameEqual {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const { return a == b; }
};

}  // namespace wshub::hub
