// HTTP/1.1 responses the server writes itself: handshake rejections, /health and 404 (closing,
// plain std::string), and responses on keep-alive API connections (into a caller's buffer).
// Knows nothing about sockets or routes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "proto/http_framing.h"

namespace wshub::proto {

// The interim response a client that sent `Expect: 100-continue` waits for (RFC 9110 §10.1.1).
inline constexpr std::string_view kHttpContinue = "HTTP/1.1 100 Continue\r\n\r\n";

std::string_view http_reason_phrase(uint16_t status);

// A complete response with Content-Length and `Connection: close`. `extra_headers` is either
// empty or whole lines, each ending in CRLF. `headers_only` answers a HEAD request: the same
// headers, Content-Length included, and no body.
std::string make_http_response(uint16_t status, std::string_view content_type,
                               std::string_view body, std::string_view extra_headers = {},
                               bool headers_only = false);

// What a response on a keep-alive connection says besides its body.
struct HttpResponseFields {
  uint16_t status = 200;
  std::string_view content_type;   // omitted when empty
  std::string_view extra_headers;  // empty or whole lines, each ending in CRLF
  bool close = false;              // `Connection: close`: the server closes after this response
  bool http10_keep_alive = false;  // `Connection: keep-alive`, which an HTTP/1.0 client needs
  bool headers_only = false;       // HEAD: the body's Content-Length, no body (RFC 9110 §9.3.2)

  // Sets close, http10_keep_alive and headers_only to answer a request framed so.
  HttpResponseFields& answering(const HttpRequestFraming& request);
};

// The head's size for these fields and a body of `body_size` bytes, exactly.
size_t http_response_head_size(const HttpResponseFields& fields, size_t body_size);

// Writes the status line and header fields, through the blank line, into `out`, which holds at
// least http_response_head_size(fields, body_size) bytes; returns the bytes written. The body
// follows it, in the same buffer or in a gathered write. 1xx, 204 and 304 responses carry no
// Content-Length (RFC 9110 §8.6).
size_t write_http_response_head(char* out, const HttpResponseFields& fields, size_t body_size);

// Appends the head and, unless headers_only (or a status without content), the body to `out`. A
// buffer reused from response to response allocates only for a response larger than any before.
void append_http_response(std::string& out, const HttpResponseFields& fields,
                          std::string_view body);

}  // namespace wshub::proto
