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

void AdminStatsTicker::start(uint32_t worker) {
  hub::HubWorker* hub_worker = hub_ ? hub_->worker(worker) : nullptr;
  if (!hub_worker || started_.exchange(true)) return;
  worker_ = hub_worker->index();
  reactor_ = &hub_worker->host().reactor();
  reactor_->post(new ArmTicker(*reactor_, *this));
}

void AdminStatsTicker::on_timer() {
  if (hub_->broker().subscribers(hub::kAdminStatsChannel) != 0) {
    const std::string state = render_();
    hub_->broker().publish(worker_, hub::Publication{hub::kAdminStatsChannel, state, wall_ms()}, nullptr);
    published_.fetch_add(1, std::memory_order_relaxed);
  }
  reactor_->arm(*this, reactor_->now_ms() + kPeriodMs);
}

}  // namespace wshub::api
