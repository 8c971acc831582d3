#include "net/write_queue.h"

#include <algorithm>
#include <cstring>
#include <new>

namespace wshub::net {

namespace {
// Private copies are packed into chunks of at least this size, so a slow reader's many small
// messages cost a few allocations, not one each.
constexpr size_t kCopyChunkSize = 4096;
constexpr size_t kLargestCopyChunk = 64 * 1024;
}  // namespace

WriteQueue::~WriteQueue() {
  for (uint32_t i = 0; i < count_; ++i) chunks_[(head_ + i) % capacity_].~SharedBuffer();
  ::operator delete(chunks_);
}

bool WriteQueue::push(SharedBuffer chunk) {
  if (count_ == capacity_) {
    const uint32_t grown = capacity_ ? capacity_ * 2 : 4;
    auto* slots = static_cast<SharedBuffer*>(::operator new(sizeof(SharedBuffer) * grown, std::nothrow));
    if (!slots) return false;
    for (uint32_t i = 0; i < count_; ++i) {
      SharedBuffer& old = chunks_[(head_ + i) % capacity_];
      new (&slots[i]) SharedBuffer(std::move(old));
      old.~SharedBuffer();
    }
    ::operator delete(chunks_);
    chunks_ = slots;
    capacity_ = grown;
    head_ = 0;
  }
  new (&chunks_[(head_ + count_) % capacity_]) SharedBuffer(std::move(chunk));
  ++count_;
  return true;
}

bool WriteQueue::append_copy(Bytes bytes) {
  if (bytes.empty()) return true;
  if (count_ != 0) {
    SharedBuffer& tail = chunks_[(head_ + count_ - 1) % capacity_];
    // Only a chunk nobody else holds may grow in place.
    if (tail.use_count() == 1 && tail.capacity() > tail.size()) {
      const size_t room = tail.capacity() - tail.size();
      const size_t n = std::min(room, bytes.size());
      std::memcpy(tail.writable_data() + tail.size(), bytes.data(), n);
      tail.set_size(tail.size() + n);
      bytes_ += n;
      bytes = bytes.subspan(n);
      if (bytes.empty()) return true;
    }
  }
  // Chunks grow with the queue (up to 64 KiB), so a backlog drains in few large gathers while a
  // queue of a few small messages stays small.
  const size_t chunk_size = std::max(bytes.size(), std::clamp(bytes_ / 2, kCopyChunkSize, kLargestCopyChunk));
  SharedBuffer chunk = SharedBuffer::allocate(chunk_size);
  if (!chunk) return false;
  std::memcpy(chunk.writable_data(), bytes.data(), bytes.size());
  chunk.set_size(bytes.size());
  if (!push(std::move(chunk))) return false;
  bytes_ += bytes.size();
  return true;
}

bool WriteQueue::append_shared(const SharedBuffer& frame, size_t offset) {
  if (offset >= frame.size()) return true;
  if (count_ == 0) head_offset_ = uint32_t(offset);
  else if (offset != 0) return append_copy(frame.bytes().subspan(offset));
  if (!push(frame)) return false;
  bytes_ += frame.size() - offset;
  return true;
}

int WriteQueue::gather(iovec* out, int max) const {
  int n = 0;
  for (uint32_t i = 0; i < count_ && n < max; ++i) {
    const SharedBuffer& chunk = chunks_[(head_ + i) % capacity_];
    const size_t skip = i == 0 ? head_offset_ : 0;
    out[n].iov_base = const_cast<uint8_t*>(chunk.bytes().data() + skip);
    out[n].iov_len = chunk.size() - skip;
    ++n;
  }
  return n;
}

void WriteQueue::consume(size_t count) {
  bytes_ -= count;
  while (count > 0 && count_ > 0) {
    SharedBuffer& front = chunks_[head_];
    const size_t left = front.size() - head_offset_;
    if (count < left) {
      head_offset_ += uint32_t(count);
      return;
    }
    count -= left;
    front.~SharedBuffer();
    head_ = (head_ + 1) % capacity_;
    --count_;
    head_offset_ = 0;
  }
}

}  // namespace wshub::net
