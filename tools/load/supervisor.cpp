#include "supervisor.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "base/clock.h"

namespace wshub::load {

namespace {
constexpr uint64_t kPollNs = 10'000'000;    // how often milestones are checked
constexpr uint64_t kRedrawNs = 250'000'000;  // how often the progress line changes
}  // namespace

Supervisor::Supervisor(std::string mode, RunControl& control, uint64_t hard_deadline_ns)
    : mode_(std::move(mode)),
      control_(control),
      hard_deadline_ns_(hard_deadline_ns),
      show_progress_(isatty(STDERR_FILENO) == 1),
      started_ns_(monotonic_ns()) {}

Supervisor::~Supervisor() {
  // Threads still running here means the run was abandoned; the process is about to exit.
  for (std::thread& thread : threads_)
    if (thread.joinable()) thread.detach();
}

void Supervisor::start_threads(const std::function<void(uint32_t)>& body) {
  for (uint32_t index = 0; index < control_.thread_count; ++index) {
    threads_.emplace_back([this, body, index] {
      body(index);
      control_.progress[index].exited.store(true, std::memory_order_release);
    });
  }
}

bool Supervisor::wait_until(uint64_t until_ns, const std::function<bool()>& done,
                            const std::function<std::string()>& status) {
  for (;;) {
    const uint64_t now = monotonic_ns();
    if (show_progress_ && now - last_draw_ns_ >= kRedrawNs) {
      const std::string line = status();
      std::fprintf(stderr, "\r\033[K[%s %5.1f s] %s", mode_.c_str(), double(now - started_ns_) / 1e9, line.c_str());
      std::fflush(stderr);
      progress_drawn_ = true;
      last_draw_ns_ = now;
    }
    if (done && done()) return true;
    if (now >= until_ns) return true;
    if (now >= hard_deadline_ns_) return false;
    uint64_t step = std::min(kPollNs, std::min(until_ns, hard_deadline_ns_) - now);
    std::this_thread::sleep_for(std::chrono::nanoseconds(step));
  }
}

bool Supervisor::stop_and_join() {
  control_.set(Phase::stopping);
  while (!control_.all_exited()) {
    if (monotonic_ns() >= hard_deadline_ns_) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
  return true;
}

void Supervisor::end_progress() {
  if (progress_drawn_) std::fprintf(stderr, "\r\033[K");
  progress_drawn_ = false;
}

}  // namespace wshub::load
