// The server: its workers (one reactor thread each), their listeners, and what they share —
// the config, the counters, the connection budget and the rate limits on peer-error logging.
#pragma once

#include <spdlog/spdlog.h>

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/log_limiter.h"
#include "base/recent_keys.h"
#include "server/config.h"
#include "server/connection_budget.h"
#include "server/handshake_rate.h"
#include "server/counters.h"

namespace wshub::tls {
class TlsContext;
}

namespace wshub::server {

class Worker;
class FanoutGroup;

class Server {
 public:
  explicit Server(ServerConfig config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds every listener on every worker and starts the threads. Throws std::runtime_error
  // naming the address when a listener cannot be opened.
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
  ConnectionBudget& budget() { return budget_; }
  HandshakeRate& handshake_rate() { return handshake_rate_; }
  std::string health_json() const;
  // The TLS context of listener `index`, or null for a ws:// listener.
  tls::TlsContext* tls_context(size_t index) {
    return index < tls_contexts_.size() ? tls_contexts_[index].get() : nullptr;
  }
  // Reloads every TLS listener's certificates (SIGHUP). A listener whose new files are bad
  // keeps its current certificates; each outcome is logged. Any thread.
  void reload_tls(std::string_view cause);
  // Reloads the listeners whose certificate or key files changed and then stayed unchanged
  // for one call; called about once a second by the main thread.
  void reload_changed_tls();
  // The cross-worker group of route `route_index`, or null if that route does not fan out.
  FanoutGroup* fanout_group(size_t route_index) { return fanout_groups_[route_index].get(); }

  // Writes how many peer-error lines the rate limit held back since the last report; the main
  // thread calls it once a second.
  void report_suppressed_logs();

  // Rate-limited log line about a peer's mistake; the counter is kept by the caller.
  template <typename... Args>
  void log_peer_error(fmt::format_string<Args...> format, Args&&... args) {
    log_limited(spdlog::level::warn, format, std::forward<Args>(args)...);
  }
  // The same, at info level: for what is usually the operator's setup rather than a bad peer
  // (a client that does not trust the certificate). Shares the rate limit with the errors.
  template <typename... Args>
  void log_peer_note(fmt::format_string<Args...> format, Args&&... args) {
    log_limited(spdlog::level::info, format, std::forward<Args>(args)...);
  }
  // Client addresses told about recently, so a note about a client is written once per minute
  // (IpAddressHash of the address as the key).
  RecentKeys& recently_noted_peers() { return recently_noted_peers_; }

 private:
  template <typename... Args>
  void log_limited(spdlog::level::level_enum level, fmt::format_string<Args...> format, Args&&... args) {
    if (!peer_log_limiter_.allow()) return;
    uint64_t suppressed = peer_log_limiter_.take_suppressed();
    std::string line = fmt::format(format, std::forward<Args>(args)...);
    if (suppressed) spdlog::log(level, "{} ({} similar lines suppressed)", line, suppressed);
    else spdlog::log(level, "{}", line);
  }

  ServerConfig config_;
  ServerCounters counters_;
  ConnectionBudget budget_;
  HandshakeRate handshake_rate_;
  LogLimiter peer_log_limiter_{20};
  RecentKeys recently_noted_peers_{60};
  std::vector<std::unique_ptr<tls::TlsContext>> tls_contexts_;  // by listener; null: ws://
  std::vector<std::unique_ptr<FanoutGroup>> fanout_groups_;  // by route index
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
  std::vector<uint16_t> bound_ports_;
  uint64_t started_ms_ = 0;
};

}  // namespace wshub::server
