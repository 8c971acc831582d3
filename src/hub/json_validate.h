// Checks that a text is one JSON object or array (RFC 8259) before anything of it is used, by
// walking every value with simdjson's on-demand reader. Numbers are checked by their grammar
// only and never converted, so integers beyond 64 bits and 1e400 pass: the hub hands a
// client's `data` on as it came. Sans-I/O.
#pragma once

#include <cstddef>
#include <string_view>

#include <simdjson.h>

namespace wshub::hub {

enum class JsonVerdict : uint8_t { ok, not_json, too_deep, not_container };

struct JsonShape {
  bool is_array = false;
  size_t elements = 0;  // of the top-level array
};

// `padded` holds the text in its first `size` bytes followed by at least
// simdjson::SIMDJSON_PADDING more. `what` gets simdjson's reason when the text is refused.
JsonVerdict validate_json(simdjson::ondemand::parser& parser, const std::string& padded, size_t size,
                          size_t max_depth, JsonShape& shape, std::string_view& what);

// True when `token` is a JSON number (RFC 8259 §6): -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
bool is_json_number(std::string_view token);

}  // namespace wshub::hub
