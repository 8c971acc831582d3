#include "app/config_schema.h"

#include <fmt/format.h>

#include "app/config_file.h"

namespace wshub::app {

const char* key_type_name(KeyType type) {
  switch (type) {
    case KeyType::count: return "count";
    case KeyType::size: return "size";
    case KeyType::duration_ms: return "duration (ms)";
    case KeyType::flag: return "bool";
    case KeyType::text: return "string";
    case KeyType::text_list: return "list of strings";
    case KeyType::path: return "path";
    case KeyType::choice: return "one of";
    case KeyType::table: return "table";
    case KeyType::table_list: return "array of tables";
  }
  return "?";
}

const KeyDescriptor* ConfigTable::find(std::string_view name) const {
  for (const KeyDescriptor& key : keys)
    if (key.name == name) return &key;
  return nullptr;
}

std::string show_size(uint64_t bytes) {
  // Only the units parse_byte_size reads, so the text can be pasted back into a config.
  static constexpr std::pair<uint64_t, const char*> kUnits[] = {
      {uint64_t(1) << 30, "GiB"}, {uint64_t(1) << 20, "MiB"}, {uint64_t(1) << 10, "KiB"}};
  for (const auto& [scale, unit] : kUnits)
    if (bytes >= scale && bytes % scale == 0) return fmt::format("{}{}", bytes / scale, unit);
  return std::to_string(bytes);
}

std::string show_text(std::string_view text) { return toml_quoted(text); }

std::string show_text_list(const std::vector<std::string>& list) {
  std::string out = "[";
  for (const std::string& item : list) out += fmt::format("{}{}", out.size() > 1 ? ", " : "", toml_quoted(item));
  return out + "]";
}

}  // namespace wshub::app
