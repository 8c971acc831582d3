#include "net/timer_wheel.h"

namespace wshub::net {

TimerWheel::TimerWheel(uint64_t now_ms) : heads_(kSlots), current_tick_(tick_of(now_ms) + 1) {
  for (Stream& head : heads_) head.timer_prev = head.timer_next = &head;
}

void TimerWheel::link(Stream& stream, uint32_t slot) {
  Stream& head = heads_[slot];
  stream.timer_prev = head.timer_prev;
  stream.timer_next = &head;
  head.timer_prev->timer_next = &stream;
  head.timer_prev = &stream;
  ++armed_;
}

void TimerWheel::arm(Stream& stream, uint64_t deadline_ms) {
  if (armed(stream)) cancel(stream);
  // Round up so a timer never fires early.
  uint32_t tick = uint32_t((deadline_ms + kTickMs - 1) / kTickMs);
  if (int32_t(tick - current_tick_) < 0) tick = current_tick_;
  stream.timer_tick = tick;
  link(stream, tick % kSlots);
}

void TimerWheel::cancel(Stream& stream) {
  if (!armed(stream)) return;
  stream.timer_prev->timer_next = stream.timer_next;
  stream.timer_next->timer_prev = stream.timer_prev;
  stream.timer_prev = stream.timer_next = nullptr;
  --armed_;
}

int TimerWheel::wait_ms(uint64_t now_ms) const {
  if (armed_ == 0) return -1;
  const uint64_t next_tick_ms = uint64_t(current_tick_) * kTickMs;
  return next_tick_ms > now_ms ? int(next_tick_ms - now_ms) : 0;
}

}  // namespace wshub::net
