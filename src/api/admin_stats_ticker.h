// Publishes the admin state to $admin:stats once a second while someone subscribes to it: a
// timer on one worker's reactor, woken when a page asks for a hub token and stopping by itself
// after kIdleTicks seconds without subscribers, so an unwatched server pays nothing.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "net/timer.h"

namespace wshub::hub {
class Hub;
}
namespace wshub::net {
class Reactor;
}

namespace wshub::api {

class AdminStatsTicker final : private net::Timer {
 public:
  static constexpr uint64_t kPeriodMs = 1000;
  static constexpr uint32_t kIdleTicks = 10;

  AdminStatsTicker(hub::Hub* hub, std::function<std::string()> render)
      : hub_(hub), render_(std::move(render)) {}
  // The timer lives in a reactor's heap only while the workers run; the server joins them
  // before this is destroyed, and a stopped reactor never calls it again.
  ~AdminStatsTicker() = default;

  // Any thread: start ticking on worker `worker`'s reactor unless it already ticks somewhere.
  void wake(uint32_t worker);
  uint64_t published() const { return published_.load(std::memory_order_relaxed); }

 private:
  void on_timer() override;  // on the ticking worker's thread

  hub::Hub* hub_;
  std::function<std::string()> render_;
  net::Reactor* reactor_ = nullptr;  // written only by the wake that turns running_ on
  uint32_t worker_ = 0;
  std::atomic<bool> running_{false};
  std::atomic<bool> woken_{false};    // a page asked since the last tick
  uint32_t idle_ticks_ = 0;           // the ticking thread's only
  std::atomic<uint64_t> published_{0};
};

}  // namespace wshub::api
