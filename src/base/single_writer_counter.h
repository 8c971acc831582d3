#pragma once

#include <atomic>
#include <cstdint>

namespace wshub {

// Adds to a counter that only one thread writes and others read (for /health): a relaxed load
// and store, so the writer pays no locked instruction on its hot path. Not for counters that
// several threads write.
inline void add_single_writer(std::atomic<uint64_t>& counter, uint64_t amount = 1) {
  counter.store(counter.load(std::memory_order_relaxed) + amount, std::memory_order_relaxed);
}

}  // namespace wshub
