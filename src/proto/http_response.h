// Small HTTP/1.1 responses the server writes itself: handshake rejections, /health, 404.
// Not on the per-message path, so plain std::string is fine here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace wshub::proto {

std::string_view http_reason_phrase(uint16_t status);

// A complete response with Content-Length and `Connection: close`. `extra_headers` is either
// empty or whole lines, each ending in CRLF. `headers_only` answers a HEAD request: the same
// headers, Content-Length included, and no body.
std::string make_http_response(uint16_t status, std::string_view content_type,
                               std::string_view body, std::string_view extra_headers = {},
                               bool headers_only = false);

}  // namespace wshub::proto
