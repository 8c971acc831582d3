// How an HTTP/1.1 message's body is delimited (RFC 9112 §6.3) and whether its connection
// persists (§9.3), decided from the parsed head alone, with the request-smuggling rules applied
// strictly. Pure functions of header values: no parser state, no bytes of the body.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "proto/http_head.h"
#include "proto/http_message_error.h"

namespace wshub::proto {

enum class HttpBodyKind : uint8_t {
  none,         // no body: no Content-Length or Transfer-Encoding, Content-Length: 0, HEAD, 204...
  length,       // exactly `content_length` bytes
  chunked,      // Transfer-Encoding: chunked
  until_close,  // a response without either: the body ends when the server closes
};

struct HttpRequestFraming {
  HttpBodyKind body = HttpBodyKind::none;
  uint64_t content_length = 0;   // body == length: at least 1 and at most max_body_bytes
  bool keep_alive = true;        // the connection may carry another request after this one
  bool expect_continue = false;  // a body follows, and the client waits for 100 Continue first
  bool head_method = false;      // HEAD: the response carries headers only (RFC 9110 §9.3.2)
  uint8_t version_minor = 1;     // HTTP/1.0 needs `Connection: keep-alive` in the response
};

struct HttpResponseFraming {
  HttpBodyKind body = HttpBodyKind::none;
  uint64_t content_length = 0;  // body == length
  bool keep_alive = true;       // false for HTTP/1.0 without keep-alive, close, until_close
};

// Whether a message of this version with these header fields leaves the connection open
// (RFC 9112 §9.3): `close` in Connection ends it; else HTTP/1.1 persists, and HTTP/1.0 only
// with `keep-alive` in Connection.
bool connection_persists(uint8_t version_minor, std::span<const HttpHeader> headers);

// Decides a request's framing. Fails when Content-Length and Transfer-Encoding disagree or are
// malformed, when chunked is not the single final coding (400) or another coding is used (501),
// when Host is missing or repeated in HTTP/1.1, when Expect asks for anything but 100-continue
// (417), and when Content-Length is above `max_body_bytes` (413): all before any body byte is
// read. Expect is ignored in HTTP/1.0 requests (RFC 9110 §10.1.1).
HttpMessageError frame_request(const HttpRequestHead& head, uint64_t max_body_bytes,
                               HttpRequestFraming& out);

// Decides a response's framing. Responses to HEAD, 1xx, 204 and 304 have no body whatever
// their headers say; a response with neither Content-Length nor Transfer-Encoding is read until
// the server closes. Content-Length with Transfer-Encoding is refused rather than resolved.
HttpMessageError frame_response(uint8_t version_minor, uint16_t status,
                                std::span<const HttpHeader> headers, bool request_was_head,
                                uint64_t max_body_bytes, HttpResponseFraming& out);

}  // namespace wshub::proto
