// Bytes a socket has not yet accepted, in order: chunks that are either shared frames (queued
// by reference, never copied) or private copies. Exists only while a connection has unsent
// bytes; the reactor frees it once drained.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>

#include "base/bytes.h"
#include "base/shared_buffer.h"

namespace wshub::net {

class WriteQueue {
 public:
  WriteQueue() = default;
  WriteQueue(const WriteQueue&) = delete;
  WriteQueue& operator=(const WriteQueue&) = delete;
  ~WriteQueue();

  // Appends a copy of `bytes`, filling the last private chunk first. False if out of memory.
  bool append_copy(Bytes bytes);
  // Appends a reference to `frame` starting `offset` bytes in.
  bool append_shared(const SharedBuffer& frame, size_t offset = 0);

  // Fills up to `max` iovecs with the bytes at the front; returns how many it filled.
  int gather(iovec* out, int max) const;
  // Drops `count` bytes from the front (what the socket accepted).
  void consume(size_t count);

  size_t bytes() const { return bytes_; }
  bool empty() const { return bytes_ == 0; }
  // When the peer last took bytes from this queue (or when the queue was made: the moment the
  // socket first refused some), in the reactor's milliseconds.
  uint64_t last_progress_ms() const { return last_progress_ms_; }
  void note_progress(uint64_t now_ms) { last_progress_ms_ = now_ms; }

 private:
  bool push(SharedBuffer chunk);

  SharedBuffer* chunks_ = nullptr;  // ring of `capacity_` slots
  uint32_t capacity_ = 0;
  uint32_t head_ = 0;
  uint32_t count_ = 0;
  uint32_t head_offset_ = 0;  // bytes of the front chunk already sent
  size_t bytes_ = 0;
  uint64_t last_progress_ms_ = 0;
};

}  // namespace wshub::net
