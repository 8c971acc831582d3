#include "hub/hub.h"

#include <atomic>

#include "base/clock.h"

#include "hub/channel_name.h"
#include "hub/hub_worker.h"
#include "hub/json_writer.h"
#include "hub/local_broker.h"
#include "net/mailbox.h"
#include "net/reactor.h"
#include "server/health_report.h"

namespace wshub::hub {

namespace {

// One hub route on one worker: its heartbeat settings, and everything else in the worker's
// HubWorker, which all hub routes of the worker share.
class HubRouteHandler final : public server::RouteHandler {
 public:
  HubRouteHandler(HubWorker& worker, const HubRouteParams& params) : worker_(worker), params_(params) {}
  server::UpgradeVerdict on_upgrade(const server::UpgradeRequest& request) override {
    return worker_.upgrade(request);
  }
  void on_open(server::Session& session) override { worker_.open(session, params_); }
  void on_message(server::Session& session, proto::Opcode opcode, Bytes payload) override {
    worker_.message(session, opcode, payload);
  }
  void on_deadline(server::Session& session) override { worker_.deadline(session); }
  void before_close(server::Session& session, uint16_t code, std::string_view reason) override {
    worker_.before_close(session, code, reason);
  }
  void on_close(server::Session& session) override { worker_.close(session); }

 private:
  HubWorker& worker_;
  const HubRouteParams& params_;
};

class HubRoute final : public server::RouteService {
 public:
  HubRoute(Hub& hub, HubRouteParams params) : hub_(hub), params_(params) {}
  std::unique_ptr<server::RouteHandler> make_handler(server::RouteHost& host) override {
    return std::make_unique<HubRouteHandler>(hub_.worker_for(host), params_);
  }
  server::RouteCloseCodes close_codes() const override {
    server::RouteCloseCodes codes;
    codes.slow_consumer = uint16_t(HubClose::slow_consumer);
    codes.slow_consumer_reason = close_reason(HubClose::slow_consumer);
    codes.shutdown = uint16_t(HubClose::shutdown);
    codes.shutdown_reason = close_reason(HubClose::shutdown);
    return codes;
  }

 private:
  Hub& hub_;
  const HubRouteParams params_;
};

// A fan-out of one action to every worker and the sum of its results back to the caller.
struct WorkerSweep {
  std::function<size_t(HubWorker&)> action;
  std::function<void(size_t)> done;
  std::atomic<size_t> remaining{0};
  std::atomic<size_t> total{0};
  net::Reactor* origin = nullptr;
};

class SweepDone final : public net::MailItem {
 public:
  explicit SweepDone(std::shared_ptr<WorkerSweep> sweep) : sweep_(std::move(sweep)) {}
  void run() override { sweep_->done(sweep_->total.load()); }

 private:
  std::shared_ptr<WorkerSweep> sweep_;
};

class SweepStep final : public net::MailItem {
 public:
  SweepStep(std::shared_ptr<WorkerSweep> sweep, HubWorker& worker) : sweep_(std::move(sweep)), worker_(worker) {}
  void run() override {
    sweep_->total.fetch_add(sweep_->action(worker_));
    if (sweep_->remaining.fetch_sub(1) == 1) sweep_->origin->post(new SweepDone(std::move(sweep_)));
  }

 private:
  std::shared_ptr<WorkerSweep> sweep_;
  HubWorker& worker_;
};

}  // namespace

HubConfig default_hub_config() {
  HubConfig config;
  config.namespaces.push_back(NamespaceConfig{});
  return config;
}

const char* subscribe_policy_name(SubscribePolicy policy) {
  switch (policy) {
    case SubscribePolicy::anyone: return "anyone";
    case SubscribePolicy::authenticated: return "authenticated";
    case SubscribePolicy::token: return "token";
    case SubscribePolicy::webhook: return "webhook";
  }
  return "?";
}

const char* publish_policy_name(PublishPolicy policy) {
  switch (policy) {
    case PublishPolicy::backend: return "backend";
    case PublishPolicy::subscribers: return "subscribers";
    case PublishPolicy::webhook: return "webhook";
  }
  return "?";
}

Hub::Hub(HubConfig config, std::unique_ptr<Store> store, std::unique_ptr<TokenVerifier> verifier)
    : config_(std::move(config)), store_(std::move(store)), verifier_(std::move(verifier)),
      mids_(config_.mid_ttl_s, config_.max_mids, config_.mid_memory_bytes) {
  // The mids a durable store kept (those of stored publications and remembered rpc answers).
  if (mids_.enabled()) mids_.load(store_->load_mids(wall_ms(), config_.max_mids));
  LocalBrokerOptions options;
  // A channel keeps history when its namespace says so and the store can keep it. Personal
  // channels keep none (the device inbox is their durable path).
  if (store_->keeps_history())
    options.retention = [this](std::string_view channel) {
      ChannelName name;
      if (parse_channel_name(channel, name) != ChannelNameError::none || name.kind == ChannelKind::personal_user ||
          name.kind == ChannelKind::personal_device)
        return HistoryRetention{};
      const NamespaceConfig* ns = config_.find_namespace(name.ns);
      if (!ns || !ns->history_size) return HistoryRetention{};
      return HistoryRetention{ns->history_size, ns->history_bytes, ns->history_ttl_s};
    };
  broker_ = make_local_broker(*store_, std::move(options));
  if (InboxStore* inbox = store_->inbox()) {
    inbox_events_ = make_inbox_events(*this);
    inbox->configure(config_.inbox, inbox_events_.get());
  }
}

Hub::~Hub() = default;

namespace {

class PostedTask final : public net::MailItem {
 public:
  explicit PostedTask(std::function<void()> task) : task_(std::move(task)) {}
  void run() override { task_(); }

 private:
  std::function<void()> task_;
};

}  // namespace

void Hub::post(uint32_t worker, std::function<void()> task) {
  workers_[worker]->host().reactor().post(new PostedTask(std::move(task)));
}

std::shared_ptr<server::RouteService> Hub::make_route(HubRouteParams params) {
  return std::make_shared<HubRoute>(*this, params);
}

HubWorker& Hub::worker_for(server::RouteHost& host) {
  const uint32_t index = host.worker_index();
  if (workers_.size() <= index) workers_.resize(index + 1);
  if (!workers_[index]) {
    workers_[index] = std::make_unique<HubWorker>(*this, host);
    broker_->attach_worker(index, host.reactor(), *workers_[index]);
  }
  return *workers_[index];
}

void Hub::for_each_worker(uint32_t from, std::function<size_t(HubWorker&)> action,
                          std::function<void(size_t)> done) {
  auto sweep = std::make_shared<WorkerSweep>();
  sweep->action = std::move(action);
  sweep->done = std::move(done);
  size_t count = 0;
  for (const auto& worker : workers_) count += worker != nullptr;
  HubWorker* origin = worker(from);
  if (count == 0 || !origin) {
    sweep->done(0);
    return;
  }
  sweep->origin = &origin->host().reactor();
  sweep->remaining = count;
  for (const auto& w : workers_)
    if (w) w->host().reactor().post(new SweepStep(sweep, *w));
}

std::string Hub::health_json() const {
  uint64_t sessions = 0, connected = 0, subscriptions = 0, delivered = 0, unavailable = 0;
  for (const auto& worker : workers_) {
    if (!worker) continue;
    const HubWorkerCounters& c = worker->counters();
    sessions += c.sessions.load(std::memory_order_relaxed);
    connected += c.connected.load(std::memory_order_relaxed);
    subscriptions += c.subscriptions.load(std::memory_order_relaxed);
    delivered += c.publications_delivered.load(std::memory_order_relaxed);
    unavailable += c.backend_unavailable.load(std::memory_order_relaxed);
  }
  std::string out;
  JsonWriter json(out);
  json.begin_object()
      .member("sessions", sessions)
      .member("connected", connected)
      .member("subscriptions", subscriptions)
      .member("publications_delivered", delivered)
      .member("backend_unavailable", unavailable)
      .end_object();
  return out;
}

void Hub::add_health_section(server::HealthReport& health) {
  health.add("hub", [this] { return health_json(); });
}

bool token_allows_channel(const Identity& identity, std::string_view channel) {
  for (const std::string& allowed : identity.channels) {
    if (allowed == channel) return true;
    if (!allowed.empty() && allowed.back() == '*' &&
        channel.substr(0, allowed.size() - 1) == std::string_view(allowed).substr(0, allowed.size() - 1))
      return true;
  }
  return false;
}

const char* backend_event_name(BackendEvent event) {
  switch (event) {
    case BackendEvent::connect: return "connect";
    case BackendEvent::rpc: return "rpc";
    case BackendEvent::publish: return "publish";
    case BackendEvent::subscribe: return "subscribe";
    case BackendEvent::disconnect: return "disconnect";
    case BackendEvent::inbox_delivered: return "inbox.delivered";
    case BackendEvent::inbox_acked: return "inbox.acked";
    case BackendEvent::inbox_expired: return "inbox.expired";
    case BackendEvent::inbox_undelivered: return "inbox.undelivered";
    case BackendEvent::count_: break;
  }
  return "?";
}

}  // namespace wshub::hub
