// Named errors of HTTP/1.1 messages beyond the request head's syntax: how a body is framed
// (RFC 9112 §6-7), the body and its trailers, the status line of a response. Each maps to one
// HTTP status and one sentence. Knows nothing about parsers' state or sockets.
#pragma once

#include <cstdint>
#include <string_view>

#include "proto/http_head.h"

namespace wshub::proto {

enum class HttpMessageError : uint8_t {
  none,
  // How the body is delimited, decided from the head (the request-smuggling rules).
  bad_content_length,
  conflicting_content_length,
  content_length_with_transfer_encoding,
  transfer_encoding_in_http10,
  bad_transfer_encoding,
  chunked_not_final,
  unsupported_transfer_coding,
  body_too_large,
  // Other request-head rules a body reader enforces.
  missing_host,
  duplicate_host,
  unsupported_expectation,
  // The chunked coding (RFC 9112 §7.1).
  bad_chunk_size,
  chunk_size_overflow,
  bad_chunk_extension,
  chunk_line_too_long,
  chunk_extensions_too_large,
  bad_chunk_end,
  bad_trailer,
  too_many_trailers,
  trailers_too_large,
  // Responses, read by a client.
  bad_status_line,
  bad_status_code,
  incomplete_message,
};

// The status a server answers a request with this error, and a sentence a human can act on.
// Errors only a response can have map to 502, what a gateway would answer.
uint16_t http_status_of(HttpMessageError error);
std::string_view http_error_name(HttpMessageError error);
std::string_view http_error_sentence(HttpMessageError error);

// The one error that stopped a message reader: from the head's syntax and size, or from the
// message's framing and body. At most one of the two is set.
struct HttpReadError {
  HttpHeadError head = HttpHeadError::none;
  HttpMessageError message = HttpMessageError::none;

  bool any() const { return head != HttpHeadError::none || message != HttpMessageError::none; }
  uint16_t status() const;
  std::string_view name() const;
  std::string_view sentence() const;
  bool operator==(const HttpReadError&) const = default;
};

}  // namespace wshub::proto
