#include "base/shared_buffer.h"

#include <cstdlib>
#include <limits>
#include <new>

namespace wshub {

SharedBuffer SharedBuffer::allocate(size_t capacity) {
  SharedBuffer buffer;
  if (capacity > std::numeric_limits<uint32_t>::max()) return buffer;
  void* memory = std::malloc(sizeof(Block) + capacity);
  if (!memory) return buffer;
  buffer.block_ = new (memory) Block{{1}, uint32_t(capacity), 0};
  return buffer;
}

SharedBuffer SharedBuffer::copy_of(Bytes bytes) {
  SharedBuffer buffer = allocate(bytes.size());
  if (buffer && !bytes.empty()) {
    std::memcpy(buffer.writable_data(), bytes.data(), bytes.size());
    buffer.set_size(bytes.size());
  }
  return buffer;
}

void SharedBuffer::release() {
  if (block_ && block_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    block_->~Block();
    std::free(block_);
  }
  block_ = nullptr;
}

}  // namespace wshub
