#include "proto/http_message_error.h"

namespace wshub::proto {

uint16_t http_status_of(HttpMessageError error) {
  switch (error) {
    case HttpMessageError::none: return 200;
    case HttpMessageError::body_too_large: return 413;
    case HttpMessageError::unsupported_transfer_coding: return 501;
    case HttpMessageError::unsupported_expectation: return 417;
    case HttpMessageError::too_many_trailers:
    case HttpMessageError::trailers_too_large: return 431;
    case HttpMessageError::bad_status_line:
    case HttpMessageError::bad_status_code:
    case HttpMessageError::incomplete_message: return 502;
    default: return 400;
  }
}

std::string_view http_error_name(HttpMessageError error) {
  switch (error) {
    case HttpMessageError::none: return "none";
    case HttpMessageError::bad_content_length: return "bad_content_length";
    case HttpMessageError::conflicting_content_length: return "conflicting_content_length";
    case HttpMessageError::content_length_with_transfer_encoding:
      return "content_length_with_transfer_encoding";
    case HttpMessageError::transfer_encoding_in_http10: return "transfer_encoding_in_http10";
    case HttpMessageError::bad_transfer_encoding: return "bad_transfer_encoding";
    case HttpMessageError::chunked_not_final: return "chunked_not_final";
    case HttpMessageError::unsupported_transfer_coding: return "unsupported_transfer_coding";
    case HttpMessageError::body_too_large: return "body_too_large";
    case HttpMessageError::missing_host: return "missing_host";
    case HttpMessageError::duplicate_host: return "duplicate_host";
    case HttpMessageError::unsupported_expectation: return "unsupported_expectation";
    case HttpMessageError::bad_chunk_size: return "bad_chunk_size";
    case HttpMessageError::chunk_size_overflow: return "chunk_size_overflow";
    case HttpMessageError::bad_chunk_extension: return "bad_chunk_extension";
    case HttpMessageError::chunk_line_too_long: return "chunk_line_too_long";
    case HttpMessageError::chunk_extensions_too_large: return "chunk_extensions_too_large";
    case HttpMessageError::bad_chunk_end: return "bad_chunk_end";
    case HttpMessageError::bad_trailer: return "bad_trailer";
    case HttpMessageError::too_many_trailers: return "too_many_trailers";
    case HttpMessageError::trailers_too_large: return "trailers_too_large";
    case HttpMessageError::bad_status_line: return "bad_status_line";
    case HttpMessageError::bad_status_code: return "bad_status_code";
    case HttpMessageError::incomplete_message: return "incomplete_message";
  }
  return "unknown";
}

std::string_view http_error_sentence(HttpMessageError error) {
  switch (error) {
    case HttpMessageError::none: return "";
    case HttpMessageError::bad_content_length:
      return "The Content-Length header is not a plain decimal number (digits only: no sign, "
             "no spaces or other characters inside).";
    case HttpMessageError::conflicting_content_length:
      return "The message carries several Content-Length values that differ, so its end is "
             "ambiguous; send exactly one.";
    case HttpMessageError::content_length_with_transfer_encoding:
      return "The message has both Content-Length and Transfer-Encoding, which a proxy and this "
             "server could read differently (request smuggling); send only one (RFC 9112 "
             "§6.1).";
    case HttpMessageError::transfer_encoding_in_http10:
      return "An HTTP/1.0 message carries Transfer-Encoding, which HTTP/1.0 does not define; "
             "use HTTP/1.1 or Content-Length (RFC 9112 §6.1).";
    case HttpMessageError::bad_transfer_encoding:
      return "The Transfer-Encoding header is empty or holds something that is not a transfer "
             "coding.";
    case HttpMessageError::chunked_not_final:
      return "Transfer-Encoding lists chunked more than once or not last, so the body's end "
             "cannot be found; chunked must be the final coding, once (RFC 9112 §6.3).";
    case HttpMessageError::unsupported_transfer_coding:
      return "The body uses a transfer coding other than chunked, the only one implemented "
             "here; send it with Content-Length or with Transfer-Encoding: chunked alone.";
    case HttpMessageError::body_too_large:
      return "The body is larger than the server's limit (max_body_bytes); send a smaller "
             "body or raise the limit.";
    case HttpMessageError::missing_host:
      return "The HTTP/1.1 request has no Host header, which HTTP/1.1 requires (RFC 9112 "
             "§3.2).";
    case HttpMessageError::duplicate_host:
      return "The request has more than one Host header; send exactly one (RFC 9112 §3.2).";
    case HttpMessageError::unsupported_expectation:
      return "The Expect header asks for something other than 100-continue, the only "
             "expectation this server meets.";
    case HttpMessageError::bad_chunk_size:
      return "A chunk-size line is not a hexadecimal size, optionally followed by extensions, "
             "ending in CRLF (RFC 9112 §7.1).";
    case HttpMessageError::chunk_size_overflow: return "A chunk size does not fit in 64 bits.";
    case HttpMessageError::bad_chunk_extension:
      return "A chunk extension is not ';name' or ';name=value' with a token or quoted-string "
             "value (RFC 9112 §7.1.1).";
    case HttpMessageError::chunk_line_too_long:
      return "A chunk-size line is longer than the limit (max_chunk_line_bytes); send shorter "
             "chunk extensions.";
    case HttpMessageError::chunk_extensions_too_large:
      return "The chunk extensions of one message add up to more than the limit "
             "(max_chunk_extension_bytes); send fewer or no chunk extensions.";
    case HttpMessageError::bad_chunk_end:
      return "Chunk data is not followed by CRLF: the chunk is longer than its declared size.";
    case HttpMessageError::bad_trailer:
      return "A trailer line after the last chunk is not a valid 'name: value' field line.";
    case HttpMessageError::too_many_trailers:
      return "The message has more trailer fields than the limit (max_trailers).";
    case HttpMessageError::trailers_too_large:
      return "The trailer section is larger than the limit (max_trailer_bytes).";
    case HttpMessageError::bad_status_line:
      return "The response's status line is not 'HTTP/1.1 SP 3-digit-code SP reason'.";
    case HttpMessageError::bad_status_code:
      return "The response's status code is not a number from 100 to 599.";
    case HttpMessageError::incomplete_message:
      return "The connection closed in the middle of a response: before the end of its head "
             "or of the body its head announced.";
  }
  return "";
}

uint16_t HttpReadError::status() const {
  return head != HttpHeadError::none ? http_status_of(head) : http_status_of(message);
}

std::string_view HttpReadError::name() const {
  return head != HttpHeadError::none ? http_error_name(head) : http_error_name(message);
}

std::string_view HttpReadError::sentence() const {
  return head != HttpHeadError::none ? http_error_sentence(head) : http_error_sentence(message);
}

}  // namespace wshub::proto
