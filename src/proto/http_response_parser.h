// The sans-I/O reader of HTTP/1.1 responses, for the tests, the load tool and outbound clients:
// status line, header fields, then a Content-Length, chunked or read-until-close body, with the
// same limits and named errors as the request side. It owns no socket and no buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "proto/http_body.h"
#include "proto/http_framing.h"
#include "proto/http_head.h"
#include "proto/http_message_error.h"

namespace wshub::proto {

// A parsed response head. Its views point into the buffer given to the parser's last call.
struct HttpResponseHead {
  uint8_t version_major = 1;
  uint8_t version_minor = 1;
  uint16_t status = 0;
  std::string_view reason;
  uint32_t header_count = 0;
  uint32_t head_size = 0;  // bytes of the head, including the final blank line
  HttpHeader headers[kMaxHeaders];

  // The first header with this name (case-insensitive), or nullptr.
  const HttpHeader* find(std::string_view name) const;
  uint32_t count(std::string_view name) const;
};

// Validates a complete response head (`head` ends with the blank line) and fills `out`.
HttpReadError parse_complete_response_head(std::string_view head, const HttpLimits& limits,
                                           HttpResponseHead& out);

// Reads one response after another from a connection, driven exactly like HttpRequestReader
// (see http_request_reader.h): `input` is every unconsumed byte, each call reports one event
// and what it consumed, nothing of a head is consumed until it is complete. A 1xx response is
// a head with no body, followed by the final response; after a 101 the bytes are no longer
// HTTP and the caller stops.
class HttpResponseParser {
 public:
  explicit HttpResponseParser(const HttpMessageLimits& limits = {});

  // The method of the request the next responses answer: after HEAD they carry no body
  // whatever their headers say. GET until set.
  void set_request_method(std::string_view method) { request_was_head_ = method == "HEAD"; }

  HttpReadEvent next(std::string_view input, HttpResponseHead& head);
  HttpReadEvent next(std::string_view input, HttpResponseHead& head, std::string& body_store);

  // The server closed the connection. Ends a body read until close (`complete`; collecting
  // form: `body` is `body_store`); any other response in progress is cut short
  // (incomplete_message). Between responses it returns need_more: nothing was lost.
  HttpReadEvent finish(std::string* body_store = nullptr);

  // The current response's framing, from its `head` event until the next head.
  const HttpResponseFraming& framing() const { return framing_; }
  bool mid_message() const { return state_ == State::body || scanned_ != 0; }
  const HttpReadError& error() const { return error_; }

 private:
  enum class State : uint8_t { head, body, failed };

  HttpReadEvent read(std::string_view input, HttpResponseHead& head, std::string* store);
  HttpReadEvent read_head(std::string_view input, HttpResponseHead& head, std::string* store);
  HttpReadEvent fail(HttpReadError error, size_t consumed);

  HttpMessageLimits limits_;
  HttpBodyReader body_;
  HttpResponseFraming framing_;
  HttpReadError error_;
  uint16_t scanned_ = 0;     // head bytes already searched for line ends
  uint16_t line_start_ = 0;  // first byte of the head line being scanned
  State state_ = State::head;
  bool request_was_head_ = false;
};

}  // namespace wshub::proto
