// Remembers which keys (hashes of client addresses, say) were let through recently, so a
// line about a client can be written once per window instead of once per connection.
// Bounded (a fixed table), thread-safe and lock-free; knows nothing about what a key means.
#pragma once

#include <atomic>
#include <cstdint>

namespace wshub {

class RecentKeys {
 public:
  explicit RecentKeys(uint32_t window_seconds) : window_seconds_(window_seconds) {}

  // True when `key` was not let through within the last window, and remembers it from now.
  // The table keeps one key per slot: a key pushed out by another that maps to its slot may
  // be let through again early, so this bounds repeats, it does not forbid them. `now_ms` is
  // a monotonic time (monotonic_ms()).
  bool first_in_window(uint64_t key, uint64_t now_ms) {
    const uint64_t mixed = mix(key);
    const uint32_t fingerprint = uint32_t(mixed >> 32) | 1;  // never 0, the empty slot
    const uint32_t second = uint32_t(now_ms / 1000);
    std::atomic<uint64_t>& slot = slots_[mixed % kSlots];
    uint64_t seen = slot.load(std::memory_order_relaxed);
    for (;;) {
      if (uint32_t(seen >> 32) == fingerprint && second - uint32_t(seen) < window_seconds_) return false;
      if (slot.compare_exchange_weak(seen, uint64_t(fingerprint) << 32 | second, std::memory_order_relaxed))
        return true;
    }
  }

 private:
  static constexpr uint64_t kSlots = 256;

  // A 64-bit finaliser (splitmix64's), so keys that differ in few bits use different slots.
  static uint64_t mix(uint64_t x) {
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
  }

  uint32_t window_seconds_;
  std::atomic<uint64_t> slots_[kSlots] = {};
};

}  // namespace wshub
