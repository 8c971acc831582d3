// A token bucket that decides whether a log line about peer misbehaviour may be written.
// Peer errors are always counted by the caller; only their log lines are rate limited, so a
// hostile client cannot turn the log into the bottleneck. Thread-safe and lock-free.
#pragma once

#include <atomic>
#include <cstdint>

#include "base/clock.h"

namespace wshub {

class LogLimiter {
 public:
  explicit LogLimiter(uint32_t lines_per_second = 10) : per_second_(lines_per_second) {}

  // True when a line may be written now. `suppressed()` tells how many were refused since the
  // last line that was allowed, so that line can say "(N similar suppressed)".
  bool allow() {
    uint64_t second = monotonic_ms() / 1000;
    uint64_t window = window_.load(std::memory_order_relaxed);
    if (second != window && window_.compare_exchange_strong(window, second)) {
      used_.store(0, std::memory_order_relaxed);
    }
    if (used_.fetch_add(1, std::memory_order_relaxed) < per_second_) return true;
    suppressed_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  uint64_t take_suppressed() { return suppressed_.exchange(0, std::memory_order_relaxed); }

 private:
  uint32_t per_second_;
  std::atomic<uint64_t> window_{0};
  std::atomic<uint32_t> used_{0};
  std::atomic<uint64_t> suppressed_{0};
};

}  // namespace wshub
