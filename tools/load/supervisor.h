// The main thread's side of a run: starts the load threads, waits for milestones while
// drawing the one-line progress indicator (only when stderr is a terminal), enforces the hard
// deadline, and joins the threads. It knows phases and deadlines, not what a mode measures.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "run_control.h"

namespace wshub::load {

class Supervisor {
 public:
  // `hard_deadline_ns` is monotonic; past it every wait fails and the run is abandoned.
  Supervisor(std::string mode, RunControl& control, uint64_t hard_deadline_ns);
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;
  ~Supervisor();

  // Runs body(thread_index) on each of the control's threads; the thread's `exited` flag is
  // set when body returns.
  void start_threads(const std::function<void(uint32_t)>& body);

  // Sleeps until `until_ns` (monotonic) or until `done()` holds, redrawing the progress line
  // from `status()`. Returns false only when the hard deadline passed first.
  bool wait_until(uint64_t until_ns, const std::function<bool()>& done,
                  const std::function<std::string()>& status);

  // Sets Phase::stopping and joins the threads; false if they did not all exit before the
  // hard deadline (they are then left running: the caller must exit the process).
  bool stop_and_join();

  uint64_t hard_deadline_ns() const { return hard_deadline_ns_; }
  // Erases the progress line so the report starts on a clean line.
  void end_progress();

 private:
  std::string mode_;
  RunControl& control_;
  uint64_t hard_deadline_ns_;
  bool show_progress_;
  bool progress_drawn_ = false;
  uint64_t last_draw_ns_ = 0;
  uint64_t started_ns_;
  std::vector<std::thread> threads_;
};

}  // namespace wshub::load
