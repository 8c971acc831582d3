// What the main thread and the load threads share during a run: the phase (written by the
// main thread only), and per-thread progress counters the threads publish once per loop turn
// for the progress line and for "are we there yet" checks. Nothing here is touched per message.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace wshub::load {

enum class Phase : uint8_t {
  opening,    // connections are being opened; no traffic yet
  warmup,     // traffic flows, nothing is recorded
  measuring,  // traffic flows and is recorded
  stopping,   // threads stop sending, close their connections and exit
};

struct alignas(64) ThreadProgress {
  std::atomic<uint64_t> opened{0};    // handshakes completed
  std::atomic<uint64_t> failed{0};    // connections that failed to open
  std::atomic<uint64_t> messages{0};  // the mode's units of work so far, warmup included
  std::atomic<uint64_t> errors{0};
  std::atomic<bool> exited{false};
};

struct RunControl {
  explicit RunControl(size_t threads) : progress(new ThreadProgress[threads]), thread_count(threads) {}

  std::atomic<Phase> phase{Phase::opening};
  std::unique_ptr<ThreadProgress[]> progress;
  size_t thread_count;

  Phase current() const { return phase.load(std::memory_order_acquire); }
  void set(Phase next) { phase.store(next, std::memory_order_release); }
  uint64_t sum(std::atomic<uint64_t> ThreadProgress::*field) const {
    uint64_t total = 0;
    for (size_t i = 0; i < thread_count; ++i) total += (progress[i].*field).load(std::memory_order_relaxed);
    return total;
  }
  bool all_exited() const {
    for (size_t i = 0; i < thread_count; ++i)
      if (!progress[i].exited.load(std::memory_order_acquire)) return false;
    return true;
  }
};

// Counts errors of one thread and keeps the first one's text (allocating only then), so the
// report can say what went wrong, not just how often.
struct ErrorTally {
  uint64_t count = 0;
  std::string first;
  void add(std::string_view why) {
    if (count++ == 0) first = why;
  }
  void merge(const ErrorTally& other) {
    if (count == 0 && other.count) first = other.first;
    count += other.count;
  }
};

}  // namespace wshub::load
