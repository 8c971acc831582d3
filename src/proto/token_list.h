// Comma-separated header lists (RFC 9110 §5.6.1): `Connection: keep-alive, Upgrade`.
#pragma once

#include <string_view>

#include "proto/http_head.h"

namespace wshub::proto {

// Calls `visit(element)` for each non-empty list element with surrounding whitespace removed;
// stops early when `visit` returns true, and returns whether it did.
template <typename Visit>
bool any_list_element(std::string_view value, Visit&& visit) {
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view element = value.substr(0, comma);
    while (!element.empty() && (element.front() == ' ' || element.front() == '\t'))
      element.remove_prefix(1);
    while (!element.empty() && (element.back() == ' ' || element.back() == '\t'))
      element.remove_suffix(1);
    if (!element.empty() && visit(element)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

// True when any header named `name` lists `token` (case-insensitive).
bool header_has_token(const HttpRequestHead& head, std::string_view name, std::string_view token);

// True when any header named `name` lists `token` wrapped in literal double quotes, as a proxy
// configured with `proxy_set_header Connection '"upgrade"'` sends it.
bool header_has_quoted_token(const HttpRequestHead& head, std::string_view name,
                             std::string_view token);

}  // namespace wshub::proto
