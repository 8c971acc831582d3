// Publishes the admin state to $admin:stats once a second while someone subscribes to it: a
// timer on one worker's reactor that looks the channel up once a second (one hash lookup under
// its shard lock) and renders and publishes only when it has a subscriber. It runs from the
// server's start, not from a page's first request, because a page's SDK that reconnects (after
// a network drop, or to a restarted server) subscribes again with the token it holds and asks
// the admin endpoints for nothing.
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

  AdminStatsTicker(hub::Hub* hub, std::function<std::string()> render)
      : hub_(hub), render_(std::move(render)) {}
  // The timer lives in a reactor's heap only while the workers run; the server joins them and
  // destroys its reactors before this is destroyed (app::Runtime's order).
  ~AdminStatsTicker() = default;

  // Once the workers run, any thread: starts ticking on worker `worker` (which must serve a hub
  // route); later calls do nothing.
  void start(uint32_t worker);
  uint64_t published() const { return published_.load(std::memory_order_relaxed); }

 private:
  void on_timer() override;  // on the ticking worker's thread

  hub::Hub* hub_;
  std::function<std::string()> render_;
  net::Reactor* reactor_ = nullptr;  // written before the mail that first arms the timer
  uint32_t worker_ = 0;
  std::atomic<bool> started_{false};
  std::atomic<uint64_t> published_{0};
};

}  // namespace wshub::api
