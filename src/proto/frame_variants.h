// One message framed once for many receivers (RFC 6455 §5.2), and compressed once per LZ77
// window size for the receivers that negotiated server_no_context_takeover (RFC 7692 §7.2.1):
// each variant is a complete frame in a SharedBuffer that any thread may queue to any
// connection. Receivers whose compressor keeps context cannot share: their sender compresses
// `payload()` itself. No I/O, no knowledge of connections.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "base/bytes.h"
#include "base/shared_buffer.h"
#include "proto/deflate_stream.h"
#include "proto/frame.h"

namespace wshub::proto {

// A thread's compressors for receivers without context takeover: one per window size, made
// on first use and reset before every message, so any number of connections share them.
class SharedDeflaters {
 public:
  explicit SharedDeflaters(uint8_t level = 6, uint8_t mem_level = 8)
      : level_(level), mem_level_(mem_level) {}

  // Compresses `message` from an empty window of at most 2^window_bits bytes (9..15). The
  // result is valid until the next call; empty (and false) when zlib failed.
  bool compress(Bytes message, uint8_t window_bits, Bytes& out);
  // Gives back the scratch output when a large message left it above `keep` bytes.
  void trim(size_t keep) { out_.trim(keep); }
  size_t memory_bytes() const;

 private:
  std::unique_ptr<Deflater> by_bits_[7];  // window bits 9..15
  DeflateBuffer out_;
  uint8_t level_;
  uint8_t mem_level_;
};

class FrameVariants {
 public:
  // The message framed plain; null when memory is short.
  static std::shared_ptr<FrameVariants> make(Opcode opcode, Bytes payload);

  FrameVariants(Opcode opcode, SharedBuffer plain, size_t header_size);
  FrameVariants(const FrameVariants&) = delete;
  FrameVariants& operator=(const FrameVariants&) = delete;
  ~FrameVariants();

  Opcode opcode() const { return opcode_; }
  // The frame without compression, for receivers that did not negotiate permessage-deflate.
  const SharedBuffer& plain() const { return plain_; }
  // The message itself (inside plain()).
  Bytes payload() const { return plain_.bytes().subspan(header_size_); }

  // The compressed frame (RSV1 set) for a receiver without context takeover whose window is
  // `window_bits`. Made on first need with this thread's `deflaters` and then shared with every
  // thread; two threads racing may both compress, and one result is kept. Null when
  // compressing does not make the frame smaller (or failed): send plain() then.
  const SharedBuffer* compressed(uint8_t window_bits, SharedDeflaters& deflaters) const;

 private:
  Opcode opcode_;
  SharedBuffer plain_;
  size_t header_size_;
  // By window bits 9..15: null (not made yet), kNoGain, or an owned frame.
  mutable std::atomic<SharedBuffer*> slots_[7] = {};
};

}  // namespace wshub::proto
