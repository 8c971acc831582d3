#include "proto/token_list.h"

namespace wshub::proto {

bool header_has_token(const HttpRequestHead& head, std::string_view name, std::string_view token) {
  for (uint32_t i = 0; i < head.header_count; ++i) {
    if (!equals_ignore_case(head.headers[i].name, name)) continue;
    if (any_list_element(head.headers[i].value,
                         [&](std::string_view e) { return equals_ignore_case(e, token); }))
      return true;
  }
  return false;
}

bool header_has_quoted_token(const HttpRequestHead& head, std::string_view name,
                             std::string_view token) {
  for (uint32_t i = 0; i < head.header_count; ++i) {
    if (!equals_ignore_case(head.headers[i].name, name)) continue;
    if (any_list_element(head.headers[i].value, [&](std::string_view e) {
          return e.size() == token.size() + 2 && e.front() == '"' && e.back() == '"' &&
                 equals_ignore_case(e.substr(1, token.size()), token);
        }))
      return true;
  }
  return false;
}

}  // namespace wshub::proto
