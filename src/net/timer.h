// A timer that belongs to no connection: periodic work of a layer above (presence flushes,
// inbox redelivery, webhook retries). The owner embeds it and arms it on its reactor; the
// reactor keeps armed timers in a heap and calls on_timer on its own thread once the deadline
// has passed. Connections keep using the timer wheel (net/timer_wheel.h), which costs them no
// allocation; these are few and long-lived.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace wshub::net {

class Timer {
 public:
  Timer() = default;
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // On the reactor's thread, once per arming; the timer is no longer armed when this runs, so
  // it may arm itself again.
  virtual void on_timer() = 0;
  bool armed() const { return heap_index_ != kNotArmed; }
  uint64_t deadline_ms() const { return deadline_ms_; }

 protected:
  // The owner cancels an armed timer before destroying it (Reactor::cancel).
  ~Timer() = default;

 private:
  friend class TimerHeap;
  static constexpr size_t kNotArmed = ~size_t(0);
  uint64_t deadline_ms_ = 0;
  uint64_t sequence_ = 0;  // arming order: equal deadlines fire in the order they were armed
  size_t heap_index_ = kNotArmed;
};

// A binary min-heap of armed timers by (deadline, arming order). One per reactor.
class TimerHeap {
 public:
  void arm(Timer& timer, uint64_t deadline_ms);
  void cancel(Timer& timer);
  // The earliest deadline, or UINT64_MAX when nothing is armed.
  uint64_t next_deadline() const;
  // Fires every timer whose deadline is at or before `now_ms`, in order. Timers armed by a
  // callback for a deadline already past fire in the same call.
  void fire_due(uint64_t now_ms);
  size_t size() const { return heap_.size(); }
  ~TimerHeap();

 private:
  bool earlier(size_t a, size_t b) const;
  void place(size_t index, Timer* timer);
  void sift_up(size_t index);
  void sift_down(size_t index);
  void remove_at(size_t index);

  std::vector<Timer*> heap_;
  uint64_t next_sequence_ = 0;
};

}  // namespace wshub::net
