// The sans-I/O reader of HTTP/1.1 requests on a keep-alive connection: head, framing decision,
// body, then the next pipelined request. Bytes in, events or a named error out; it owns no
// socket and no buffer, and holds a few dozen bytes of state between calls.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "proto/http_body.h"
#include "proto/http_framing.h"
#include "proto/http_head.h"
#include "proto/http_message_error.h"

namespace wshub::proto {

// Reading one request after another. How a caller drives it:
//
//   * `input` is every byte received and not yet consumed, in order: the unconsumed rest of
//     the last call's input followed by what arrived since (the buffer may move between calls).
//   * Each call reports one event and how many bytes it consumed. While a head is incomplete
//     nothing is consumed (the caller keeps fewer than `limits.head.max_head_bytes` bytes);
//     while a body is read everything is consumed except part of a chunk-size or trailer line.
//   * `head`: `head` holds the request, its views pointing into `input`, valid until the
//     caller's buffer changes; `framing()` says how the body is delimited, whether the
//     connection persists and whether the client waits for `100 Continue`.
//   * `complete`: the request ended; the bytes after it (unconsumed) are the next request's.
//     The reader is ready for the next head; the caller stops reading when
//     `framing().keep_alive` was false.
//   * `error`: `error().status()` answers it; nothing more can be read from the connection.
//     Errors found in a parsed head's framing (413 on a declared length, 417, smuggling rules)
//     are reported on the call that completes the head, and `head` is filled for logging.
//
// A request whose body is shorter than its Content-Length keeps asking for more: the caller's
// request timeout ends it. Bytes beyond a Content-Length are the next request.
class HttpRequestReader {
 public:
  explicit HttpRequestReader(const HttpMessageLimits& limits = {});

  // Streaming form: body bytes come as `body` events pointing into `input`.
  HttpReadEvent next(std::string_view input, HttpRequestHead& head);

  // Collecting form: no `body` events; `complete` carries the whole body, in place in `input`
  // when it arrived whole in this call, else in `body_store`, which the reader clears at each
  // head and appends to only with bytes that arrived. Use one form for a whole message.
  HttpReadEvent next(std::string_view input, HttpRequestHead& head, std::string& body_store);

  // The current request's framing, from its `head` event until the next head.
  const HttpRequestFraming& framing() const { return framing_; }
  // True from the first byte of a head until its request is complete: the connection is busy,
  // not idle (the caller's request timeout applies, not its keep-alive timeout).
  bool mid_message() const { return state_ == State::body || partial_head_; }
  const HttpReadError& error() const { return error_; }
  const HttpMessageLimits& limits() const { return limits_; }

 private:
  enum class State : uint8_t { head, body, failed };

  HttpReadEvent read(std::string_view input, HttpRequestHead& head, std::string* store);
  HttpReadEvent read_head(std::string_view input, HttpRequestHead& head, std::string* store);
  HttpReadEvent fail(HttpReadError error, size_t consumed);

  HttpMessageLimits limits_;
  HttpHeadParser head_parser_;
  HttpBodyReader body_;
  HttpRequestFraming framing_;
  HttpReadError error_;
  State state_ = State::head;
  bool partial_head_ = false;
};

}  // namespace wshub::proto
