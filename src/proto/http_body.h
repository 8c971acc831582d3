// The sans-I/O body reader of an HTTP/1.1 message (RFC 9112 §6-7): a Content-Length body, the
// chunked coding with its extensions and trailers, or a response read until the peer closes.
// It is started from a framing decision (http_framing.h) and knows nothing about heads, sockets
// or who owns the bytes; body bytes come out as views into the caller's input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "proto/http_framing.h"
#include "proto/http_message_error.h"

namespace wshub::proto {

struct HttpBodyLimits {
  // The body after de-chunking. Checked against Content-Length before any byte is read, against
  // each chunk size before the chunk's bytes are, and against the running total otherwise.
  uint64_t max_body_bytes = 1u << 20;
  // One chunk-size line with its extensions, without the CRLF: what a caller may have to keep.
  uint32_t max_chunk_line_bytes = 256;
  // Every chunk-size line's bytes after the size, summed over one message. Without it a peer
  // could send endless extensions on one-byte chunks and never reach max_body_bytes.
  uint32_t max_chunk_extension_bytes = 4096;
  // The trailer section, its CRLFs and the final blank line included.
  uint32_t max_trailer_bytes = 4096;
  uint32_t max_trailers = 32;
};

struct HttpBodyStep {
  enum class Kind : uint8_t { need_more, data, done, error };
  Kind kind = Kind::need_more;
  size_t consumed = 0;    // from the front of the input; never more than was given
  std::string_view data;  // data: body bytes inside the input, never empty
  HttpMessageError error = HttpMessageError::none;
};

class HttpBodyReader {
 public:
  // Begins a body; `content_length` is read only for HttpBodyKind::length. A `none` body is
  // done at the first call.
  void start(HttpBodyKind kind, uint64_t content_length = 0);

  // Consumes from the front of `input` up to one step. Framing is consumed as soon as it is
  // understood; what a step leaves unconsumed (part of a chunk-size line, of a trailer line or
  // of a chunk's closing CRLF, or the bytes after the body) must be passed again at the front
  // of the next call, followed by whatever arrived since. So a caller keeps at most
  // max_chunk_line_bytes + 1 or max_trailer_bytes bytes while a body is read. `done` leaves
  // the bytes after the body unconsumed; after `error` the reader must be started again.
  HttpBodyStep next(std::string_view input, const HttpBodyLimits& limits);

  // The peer closed the connection: a body read until close is done; any other body in
  // progress is cut short (incomplete_message). Returns done when no body is in progress.
  HttpBodyStep finish();

  uint64_t received() const { return received_; }  // body bytes delivered so far
  bool in_body() const { return state_ != State::idle && state_ != State::failed; }

 private:
  enum class State : uint8_t {
    idle,
    length,
    until_close,
    chunk_size_line,
    chunk_data,
    chunk_data_end,
    trailers,
    failed,
  };
  enum class Line : uint8_t { complete, need_more, too_long };

  HttpBodyStep fail(HttpMessageError error, size_t consumed);
  Line find_line_end(std::string_view input, size_t budget, size_t& lf_at);
  HttpMessageError parse_chunk_size_line(std::string_view line, const HttpBodyLimits& limits);
  HttpMessageError parse_trailer_line(std::string_view line, const HttpBodyLimits& limits);

  uint64_t remaining_ = 0;  // length: body bytes left; chunk_data: bytes left in the chunk
  uint64_t received_ = 0;
  uint32_t line_scanned_ = 0;  // bytes of the current line already searched for its LF
  uint32_t extension_bytes_ = 0;
  uint32_t trailer_bytes_ = 0;
  uint32_t trailer_count_ = 0;
  State state_ = State::idle;
  HttpMessageError error_ = HttpMessageError::none;  // set in the failed state
};

// Collects one body into `store` instead of handing it out in steps. Runs `reader` over
// `input` until it needs more, ends or fails. On `done`, `body` is the whole body: a view into
// `input` when all of it arrived in this call and nothing was stored before (no copy), else
// into `store`. On `need_more` what arrived is appended to `store`, which therefore grows only
// by bytes received, never by a length the peer declared. `store` must be empty when a body
// starts.
struct HttpCollectResult {
  HttpBodyStep::Kind kind = HttpBodyStep::Kind::need_more;  // need_more, done or error
  size_t consumed = 0;
  std::string_view body;
  HttpMessageError error = HttpMessageError::none;
};
HttpCollectResult collect_body(HttpBodyReader& reader, std::string_view input,
                               const HttpBodyLimits& limits, std::string& store);

// What the request reader and the response parser built on HttpBodyReader share.
struct HttpMessageLimits {
  HttpLimits head;
  HttpBodyLimits body;
};

// One step of reading a message. `consumed` bytes are taken from the front of the input (never
// more than it holds); the rest must be passed again at the front of the next call.
struct HttpReadEvent {
  enum class Kind : uint8_t {
    need_more,  // feed more bytes
    head,       // a head was parsed into the caller's head object; consumed == its size
    body,       // body bytes, in `body` (streaming form only; never empty)
    complete,   // the message ended; collecting form: `body` is the whole body
    error,      // `error` says why; the connection cannot carry another message
  };
  Kind kind = Kind::need_more;
  size_t consumed = 0;
  std::string_view body;  // points into the input or into the caller's body store
  HttpReadError error;
};

}  // namespace wshub::proto
