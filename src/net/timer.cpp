#include "net/timer.h"


namespace wshub::net {

TimerHeap::~TimerHeap() {
  for (Timer* timer : heap_) timer->heap_index_ = Timer::kNotArmed;
}

bool TimerHeap::earlier(size_t a, size_t b) const {
  const Timer& x = *heap_[a];
  const Timer& y = *heap_[b];
  return x.deadline_ms_ != y.deadline_ms_ ? x.deadline_ms_ < y.deadline_ms_ : x.sequence_ < y.sequence_;
}

void TimerHeap::place(size_t index, Timer* timer) {
  heap_[index] = timer;
  timer->heap_index_ = index;
}

void TimerHeap::sift_up(size_t index) {
  while (index > 0) {
    const size_t parent = (index - 1) / 2;
    if (!earlier(index, parent)) return;
    Timer* child = heap_[index];
    place(index, heap_[parent]);
    place(parent, child);
    index = parent;
  }
}

void TimerHeap::sift_down(size_t index) {
  for (;;) {
    const size_t left = 2 * index + 1;
    if (left >= heap_.size()) return;
    size_t first = left;
    if (left + 1 < heap_.size() && earlier(left + 1, left)) first = left + 1;
    if (!earlier(first, index)) return;
    Timer* parent = heap_[index];
    place(index, heap_[first]);
    place(first, parent);
    index = first;
  }
}

void TimerHeap::arm(Timer& timer, uint64_t deadline_ms) {
  if (timer.armed()) cancel(timer);
  timer.deadline_ms_ = deadline_ms;
  timer.sequence_ = next_sequence_++;
  heap_.push_back(nullptr);
  place(heap_.size() - 1, &timer);
  sift_up(heap_.size() - 1);
}

void TimerHeap::remove_at(size_t index) {
  heap_[index]->heap_index_ = Timer::kNotArmed;
  Timer* last = heap_.back();
  heap_.pop_back();
  if (index == heap_.size()) return;
  place(index, last);
  sift_down(index);
  sift_up(index);
}

void TimerHeap::cancel(Timer& timer) {
  if (!timer.armed()) return;
  remove_at(timer.heap_index_);
}

uint64_t TimerHeap::next_deadline() const { return heap_.empty() ? UINT64_MAX : heap_[0]->deadline_ms_; }

void TimerHeap::fire_due(uint64_t now_ms) {
  while (!heap_.empty() && heap_[0]->deadline_ms_ <= now_ms) {
    Timer* due = heap_[0];
    remove_at(0);
    due->on_timer();
  }
}

}  // namespace wshub::net
