// permessage-deflate message codec (RFC 7692 §7.2) over zlib raw DEFLATE streams: an Inflater
// that stops at a decompressed-size limit, and a Deflater that strips the 00 00 ff ff tail.
// Sans-I/O: bytes in, bytes out. zlib stays behind this header; streams are created lazily, so
// an object that is never used costs a few bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "base/bytes.h"

namespace wshub::proto {

// Output bytes that grow by what is actually written. Keeps its memory between messages; the
// owner trims it after a large one.
class DeflateBuffer {
 public:
  DeflateBuffer() = default;
  DeflateBuffer(const DeflateBuffer&) = delete;
  DeflateBuffer& operator=(const DeflateBuffer&) = delete;
  ~DeflateBuffer();

  uint8_t* data() { return data_; }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  Bytes bytes() const { return {data_, size_}; }
  void clear() { size_ = 0; }
  void set_size(size_t size) { size_ = size; }
  // Grows the capacity to at least `capacity`; false when memory is short.
  bool reserve(size_t capacity);
  // Frees the memory when it holds more than `keep` bytes of capacity.
  void trim(size_t keep);

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

enum class InflateResult : uint8_t {
  ok,
  too_large,  // the message inflates to more than the limit; inflating stopped there
  corrupt,    // not a DEFLATE stream RFC 7692 allows (bad data, a truncated block, data after
              // a final block)
  no_memory,  // zlib could not allocate its state or window
};

// Inflates messages from one peer. With `context_takeover` the LZ77 window carries over from
// message to message (the peer did not agree to client_no_context_takeover); without it every
// message starts afresh, so one Inflater can serve many connections in turn.
class Inflater {
 public:
  explicit Inflater(uint8_t window_bits = 15, bool context_takeover = false);
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;
  ~Inflater();

  // Inflates a piece of one compressed message (pieces may be split anywhere), appending to
  // `out`. Output is produced in steps bounded by the room left under `limit`, so `out` never
  // holds more than `limit` bytes of this message and the peer's claims size nothing.
  InflateResult feed(Bytes compressed, DeflateBuffer& out, uint64_t limit);
  // Ends the message: inflates the 00 00 ff ff tail RFC 7692 §7.2.2 asks the receiver to append
  // and checks that the message ended on a block boundary. Without context takeover the stream
  // then forgets the message.
  InflateResult finish(DeflateBuffer& out, uint64_t limit);
  // Abandons the message in progress (after an error, or a message dropped unread). With
  // context takeover the window is lost too, so the connection cannot continue.
  void reset();

  // Bytes zlib holds for this stream right now (state and window), 0 before first use.
  size_t memory_bytes() const { return memory_; }

 private:
  struct Stream;
  InflateResult run(const uint8_t* in, size_t size, DeflateBuffer& out, uint64_t limit);
  bool start();
  bool restart_keeping_window();

  std::unique_ptr<Stream> stream_;
  size_t memory_ = 0;
  uint64_t message_out_ = 0;     // bytes of the current message produced so far
  uint8_t window_bits_;
  bool context_takeover_;
  bool in_message_ = false;
  bool stream_ended_ = false;   // the message held a block with BFINAL set
};

struct DeflateSettings {
  uint8_t level = 6;         // 1..9
  uint8_t window_bits = 15;  // 9..15
  uint8_t mem_level = 8;     // 1..9
};

// Compresses messages for one peer. With `context_takeover` the window carries over (the peer
// did not ask for server_no_context_takeover); without it every message starts afresh, so one
// Deflater can serve many connections in turn.
class Deflater {
 public:
  explicit Deflater(DeflateSettings settings = {}, bool context_takeover = false);
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;
  ~Deflater();

  // Compresses one whole message into `out` (replacing what it held), flushed to a byte
  // boundary with the 00 00 ff ff tail removed (RFC 7692 §7.2.1). False when zlib fails or
  // memory is short; with context takeover the connection cannot continue after that.
  bool compress(Bytes message, DeflateBuffer& out);

  const DeflateSettings& settings() const { return settings_; }
  size_t memory_bytes() const { return memory_; }

 private:
  struct Stream;
  bool start();

  std::unique_ptr<Stream> stream_;
  size_t memory_ = 0;
  DeflateSettings settings_;
  bool context_takeover_;
  bool dirty_ = false;  // holds a previous message's context
};

// The tail a sync flush ends with; stripped by the sender and appended by the receiver.
inline constexpr uint8_t kDeflateTail[4] = {0x00, 0x00, 0xFF, 0xFF};

}  // namespace wshub::proto
