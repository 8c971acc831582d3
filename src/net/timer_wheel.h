// A hashed timing wheel with one intrusive slot per stream: arming, re-arming and cancelling
// are O(1) and cost no allocation; each tick visits only one slot.
#pragma once

#include <cstdint>
#include <vector>

#include "net/stream.h"

namespace wshub::net {

class TimerWheel {
 public:
  static constexpr uint32_t kTickMs = 100;
  static constexpr uint32_t kSlots = 512;  // one turn spans 51.2 s; later deadlines wait turns

  explicit TimerWheel(uint64_t now_ms);

  // Arms (or re-arms) the stream's timer to fire at `deadline_ms` or within one tick after.
  void arm(Stream& stream, uint64_t deadline_ms);
  void cancel(Stream& stream);
  bool armed(const Stream& stream) const { return stream.timer_prev != nullptr; }

  // Calls `fire(stream)` for every stream whose deadline has passed by `now_ms`; the callback
  // may arm, cancel or close any stream.
  template <typename Fire>
  void advance(uint64_t now_ms, Fire&& fire);

  // Milliseconds until the next tick boundary, for the reactor's wait.
  int wait_ms(uint64_t now_ms) const;
  uint32_t tick_of(uint64_t ms) const { return uint32_t(ms / kTickMs); }
  size_t armed_count() const { return armed_; }

 private:
  void link(Stream& stream, uint32_t slot);

  std::vector<Stream> heads_;  // sentinel per slot
  uint32_t current_tick_;  // the next tick to process
  size_t armed_ = 0;
};

template <typename Fire>
void TimerWheel::advance(uint64_t now_ms, Fire&& fire) {
  const uint32_t target = tick_of(now_ms);
  while (int32_t(target - current_tick_) >= 0) {
    const uint32_t tick = current_tick_++;
    Stream& head = heads_[tick % kSlots];
    if (head.timer_next == &head) continue;
    // Detach the slot first: anything armed by a callback lands at tick + 1 or later.
    Stream due;
    due.timer_next = head.timer_next;
    due.timer_prev = head.timer_prev;
    due.timer_next->timer_prev = &due;
    due.timer_prev->timer_next = &due;
    head.timer_next = head.timer_prev = &head;
    while (due.timer_next != &due) {
      Stream& stream = *due.timer_next;
      cancel(stream);
      if (int32_t(stream.timer_tick - tick) > 0) {
        link(stream, tick % kSlots);  // due on a later turn of the wheel
        continue;
      }
      fire(stream);
    }
  }
}

}  // namespace wshub::net
