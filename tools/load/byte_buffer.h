// A connection's unsent bytes: append at the back, consume from the front. It allocates only
// when it must grow (a connection is given its steady-state capacity up front), and it frees
// its memory on release() so an idle connection holds none.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

namespace wshub::load {

class ByteBuffer {
 public:
  // Room for `bytes` more at the back; returns where to write them. Grows geometrically,
  // moving the unsent bytes to the front first.
  uint8_t* extend(size_t bytes) {
    if (size_ + bytes > capacity_) make_room(bytes);
    uint8_t* at = data_.get() + size_;
    size_ += bytes;
    return at;
  }
  void reserve(size_t bytes) {
    if (bytes > capacity_) make_room(bytes - (size_ - sent_));
  }
  const uint8_t* unsent() const { return data_.get() + sent_; }
  size_t unsent_size() const { return size_ - sent_; }
  void consume(size_t bytes) {
    sent_ += bytes;
    if (sent_ == size_) sent_ = size_ = 0;
  }
  void release() {
    data_.reset();
    size_ = sent_ = capacity_ = 0;
  }

 private:
  void make_room(size_t bytes) {
    const size_t live = size_ - sent_;
    size_t capacity = capacity_ ? capacity_ : 256;
    while (capacity < live + bytes) capacity *= 2;
    if (capacity == capacity_ && sent_ > 0) {
      std::memmove(data_.get(), data_.get() + sent_, live);
    } else {
      std::unique_ptr<uint8_t[]> grown(new uint8_t[capacity]);
      if (live) std::memcpy(grown.get(), data_.get() + sent_, live);
      data_ = std::move(grown);
      capacity_ = capacity;
    }
    sent_ = 0;
    size_ = live;
  }

  std::unique_ptr<uint8_t[]> data_;
  size_t size_ = 0;
  size_t sent_ = 0;
  size_t capacity_ = 0;
};

}  // namespace wshub::load
