// The server: its workers (one reactor thread each), their listeners, and what they share —
// the config, the counters, the connection budget and the rate limits on peer-error logging.
#pragma once

#include <spdlog/spdlog.h>

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/recent_keys.h"
#include "server/config.h"
#include "server/connection_budget.h"
#include "server/counters.h"
#include "server/handshake_rate.h"
#include "server/health_report.h"
#include "server/peer_error_log.h"
#include "server/rejected_handshakes.h"
#include "server/worker_context.h"

namespace wshub::tls {
class TlsContext;
}

namespace wshub::server {

class Worker;

class Server {
 public:
  explicit Server(ServerConfig config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds every listener on every worker and starts the threads. Throws std::runtime_error
  // naming the address when a listener cannot be opened, or when another process already
  // listens on its address and the listener does not have share_port.
  void start();
  // Any thread, any number of times: stop accepting, close every connection with 1001, and let
  // the threads end when they are done or the grace period passed.
  void request_shutdown();
  // Joins the worker threads.
  void wait();

  // The ports actually bound, in listener order (differs from the config for port 0).
  const std::vector<uint16_t>& bound_ports() const { return bound_ports_; }
  const ServerConfig& config() const { return config_; }
  ServerCounters& counters() { return counters_; }
  uint64_t open_connections() const { return budget_.open(); }
  // Sections of /health from other layers; add them before start().
  HealthReport& health() { return health_; }
  std::string health_json() const { return health_.json(); }
  // Reloads every TLS listener's certificates (SIGHUP). A listener whose new files are bad
  // keeps its current certificates; each outcome is logged. Any thread.
  void reload_tls(std::string_view cause);
  // Reloads the listeners whose certificate or key files changed and then stayed unchanged
  // for one call; called about once a second by the main thread.
  void reload_changed_tls();
  // Writes how many peer-error lines the rate limit held back since the last report; the main
  // thread calls it once a second.
  void report_suppressed_logs() { peer_log_.report_suppressed(config_.health_path); }
  // The last rejected handshakes with their diagnoses (the admin page shows them). Any thread.
  const RejectedHandshakes& rejected_handshakes() const { return rejected_handshakes_; }

 private:
  void add_health_sections();

  ServerConfig config_;
  ServerCounters counters_;
  ConnectionBudget budget_;
  HandshakeRate handshake_rate_;
  PeerErrorLog peer_log_;
  RejectedHandshakes rejected_handshakes_;
  HealthReport health_;
  RecentKeys recently_noted_peers_{60};
  std::vector<std::unique_ptr<tls::TlsContext>> tls_contexts_;  // by listener; null: ws://
  std::vector<tls::TlsContext*> tls_by_listener_;                // the same, for the workers
  std::vector<uint16_t> bound_ports_;
  WorkerContext worker_context_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
  uint64_t started_ms_ = 0;
};

}  // namespace wshub::server
