#include "api/admin_stats_ticker.h"

#include "base/clock.h"
#include "hub/channel_name.h"
#include "hub/hub.h"
#include "hub/hub_worker.h"
#include "net/reactor.h"

namespace wshub::api {

namespace {

class ArmTicker final : public net::MailItem {
 public:
  ArmTicker(net::Reactor& reactor, net::Timer& timer) : reactor_(reactor), timer_(timer) {}
  void run() override { reactor_.arm(timer_, reactor_.now_ms() + AdminStatsTicker::kPeriodMs); }

 private:
  net::Reactor& reactor_;
  net::Timer& timer_;
};

}  // namespace

void AdminStatsTicker::wake(uint32_t worker) {
  if (!hub_) return;
  woken_.store(true, std::memory_order_release);
  if (running_.load(std::memory_order_acquire)) return;
  hub::HubWorker* hub_worker = hub_->worker(worker);
  if (!hub_worker) return;
  if (running_.exchange(true, std::memory_order_acq_rel)) return;
  // Only the caller that turned running_ on writes these, and a ticking thread reads them only
  // after the mail below reached it (or after it turned running_ on itself, in on_timer).
  worker_ = hub_worker->index();
  reactor_ = &hub_worker->host().reactor();
  reactor_->post(new ArmTicker(*reactor_, *this));
}

void AdminStatsTicker::on_timer() {
  if (woken_.exchange(false, std::memory_order_acq_rel)) idle_ticks_ = 0;
  if (hub_->broker().subscribers(hub::kAdminStatsChannel) == 0) {
    if (++idle_ticks_ >= kIdleTicks) {
      running_.store(false, std::memory_order_release);
      // A wake between the test above and the store saw running_ on and posted nothing.
      if (!woken_.load(std::memory_order_acquire) || running_.exchange(true, std::memory_order_acq_rel)) return;
      idle_ticks_ = 0;
    }
  } else {
    idle_ticks_ = 0;
    const std::string state = render_();
    hub_->broker().publish(worker_, hub::Publication{hub::kAdminStatsChannel, state, wall_ms()}, nullptr);
    published_.fetch_add(1, std::memory_order_relaxed);
  }
  reactor_->arm(*this, reactor_->now_ms() + kPeriodMs);
}

}  // namespace wshub::api
