// An immutable, reference-counted byte block: one allocation holds the count and the bytes.
// Any thread may hold and release a reference; the bytes never change after `seal`.
// A frame for many receivers is encoded into one (docs/architecture.md, "Fan-out").
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "base/bytes.h"

namespace wshub {

class SharedBuffer {
 public:
  // Allocates room for `capacity` bytes; returns an empty handle if allocation fails.
  static SharedBuffer allocate(size_t capacity);
  static SharedBuffer copy_of(Bytes bytes);

  SharedBuffer() = default;
  SharedBuffer(const SharedBuffer& other) : block_(other.block_) { retain(); }
  SharedBuffer(SharedBuffer&& other) noexcept : block_(std::exchange(other.block_, nullptr)) {}
  SharedBuffer& operator=(SharedBuffer other) noexcept {
    std::swap(block_, other.block_);
    return *this;
  }
  ~SharedBuffer() { release(); }

  explicit operator bool() const { return block_ != nullptr; }
  Bytes bytes() const { return block_ ? Bytes{payload(), block_->size} : Bytes{}; }
  size_t size() const { return block_ ? block_->size : 0; }
  uint32_t use_count() const { return block_ ? block_->refs.load(std::memory_order_relaxed) : 0; }

  // Writable only by the creator, before the handle is shared.
  uint8_t* writable_data() { return payload(); }
  size_t capacity() const { return block_ ? block_->capacity : 0; }
  void set_size(size_t size) { block_->size = size; }

 private:
  struct Block {
    std::atomic<uint32_t> refs;
    uint32_t capacity;
    uint32_t size;
  };
  uint8_t* payload() const { return reinterpret_cast<uint8_t*>(block_ + 1); }
  void retain() {
    if (block_) block_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  void release();

  Block* block_ = nullptr;
};

}  // namespace wshub
