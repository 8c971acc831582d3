// The hub shared by every worker and every hub route: its settings, the broker and store that
// place publications, the token verifier, the backend, and each worker's HubWorker. Made once
// by the app layer before the server starts; after that only the workers change their own
// parts, and the API reaches them through their mailboxes.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "hub/backend.h"
#include "hub/broker.h"
#include "hub/hub_config.h"
#include "hub/identity.h"
#include "hub/mid_table.h"
#include "server/peer_error_log.h"
#include "server/route_handler.h"

namespace wshub::server {
class HealthReport;
}

namespace wshub::hub {

class HubWorker;
class Hub;

// The receipts' webhooks (hub_inbox.cpp).
std::unique_ptr<InboxEvents> make_inbox_events(Hub& hub);

class Hub {
 public:
  Hub(HubConfig config, std::unique_ptr<Store> store, std::unique_ptr<TokenVerifier> verifier);
  ~Hub();
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  // The backend the webhooks reach, if any; set before the server starts.
  void set_backend(std::shared_ptr<Backend> backend) { backend_ = std::move(backend); }

  const HubConfig& config() const { return config_; }
  Broker& broker() { return *broker_; }
  Store& store() { return *store_; }
  const Store& store() const { return *store_; }
  // Commits what the store holds queued and stops it (after the workers stopped, before they
  // are destroyed: its last answers go to their mailboxes).
  void close_store() { store_->close(); }
  // The message ids of client publish and rpc, for deduplication. Any thread.
  MidTable& mids() { return mids_; }
  // The device inbox, or null when the store keeps none.
  InboxStore* inbox() const { return store_->inbox(); }
  // Runs `task` on worker `worker`'s thread. Any thread.
  void post(uint32_t worker, std::function<void()> task);
  const TokenVerifier* verifier() const { return verifier_.get(); }
  Backend* backend() const { return backend_.get(); }
  bool has_webhook(BackendEvent event) const { return backend_ && backend_->has(event); }
  // Lines about what clients and the backend did wrong, and about the sessions the hub ends,
  // limited together across workers (each case is counted where it happens). Any thread.
  server::PeerErrorLog& fault_log() { return fault_log_; }

  // A route service for a hub route with `params` (a kind the app registers as "hub").
  std::shared_ptr<server::RouteService> make_route(HubRouteParams params);

  // The HubWorker of the worker behind `host`, made at its first hub route (main thread, before
  // the workers run).
  HubWorker& worker_for(server::RouteHost& host);
  HubWorker* worker(uint32_t index) { return index < workers_.size() ? workers_[index].get() : nullptr; }
  size_t worker_count() const { return workers_.size(); }

  // Runs `action` on every worker's thread, then `done(total)` on worker `from`'s thread with
  // the sum of what the actions returned. Any worker thread.
  void for_each_worker(uint32_t from, std::function<size_t(HubWorker&)> action,
                       std::function<void(size_t)> done);

  // A number for each connect, increasing across workers: of two connections of one device, the
  // one with the larger number is the newer and stays. Any thread.
  uint64_t next_connect_sequence() { return connect_sequence_.fetch_add(1, std::memory_order_relaxed) + 1; }

  // Registers the "hub" section of /health.
  void add_health_section(server::HealthReport& health);
  std::string health_json() const;

 private:
  HubConfig config_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Broker> broker_;
  std::unique_ptr<InboxEvents> inbox_events_;
  std::unique_ptr<TokenVerifier> verifier_;
  std::shared_ptr<Backend> backend_;
  MidTable mids_;
  std::vector<std::unique_ptr<HubWorker>> workers_;
  std::atomic<uint64_t> connect_sequence_{0};
  server::PeerErrorLog fault_log_;
};

}  // namespace wshub::hub
