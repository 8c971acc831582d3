#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace wshub::net {

// Memory for small sends in flight on an io_uring, bump-allocated in order from 64 KiB blocks.
// A send holds a reference to its block; a block goes back to the free list once no send uses
// it and it is no longer the one being filled. Blocks are kept for reuse, never freed while
// the arena lives, so a steady load allocates nothing.
class SendArena {
 public:
  static constexpr size_t kBlockBytes = 64 * 1024;

  struct Block {
    std::unique_ptr<uint8_t[]> data{new uint8_t[kBlockBytes]};
    uint32_t used = 0;
    uint32_t refs = 0;
  };

  SendArena() : current_(take()) {}

  Block* current() const { return current_; }
  bool fits(size_t size) const { return current_->used + size <= kBlockBytes; }
  // Where the next reserved byte will be: lets a caller tell whether two reservations touch.
  const uint8_t* end() const { return current_->data.get() + current_->used; }

  // Moves on to a fresh block; the old one lives on while sends still reference it.
  void next_block() {
    release(current_);
    current_ = take();
  }

  // `size` bytes in the current block; the caller has checked `fits` (or calls next_block).
  uint8_t* reserve(size_t size) {
    uint8_t* at = current_->data.get() + current_->used;
    current_->used += uint32_t(size);
    return at;
  }

  static void retain(Block* block) { ++block->refs; }
  void release(Block* block) {
    if (--block->refs == 0) free_.push_back(block);
  }

 private:
  Block* take() {
    Block* block;
    if (free_.empty()) {
      blocks_.push_back(std::make_unique<Block>());
      block = blocks_.back().get();
    } else {
      block = free_.back();
      free_.pop_back();
    }
    block->used = 0;
    block->refs = 1;  // the arena's own, while it is the block being filled
    return block;
  }

  std::vector<std::unique_ptr<Block>> blocks_;
  std::vector<Block*> free_;
  Block* current_;
};

}  // namespace wshub::net
