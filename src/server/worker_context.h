// What a worker may use of the server it belongs to: the settings, the shared counters, the
// connection budget, the handshake rate, the peer-error log, the TLS contexts by listener and
// the /health report. Narrow on purpose: a worker never calls back into the Server, so the
// server can change without touching the connection engine.
#pragma once

#include <vector>

#include "base/recent_keys.h"
#include "server/config.h"
#include "server/connection_budget.h"
#include "server/counters.h"
#include "server/handshake_rate.h"
#include "server/health_report.h"
#include "server/peer_error_log.h"
#include "server/rejected_handshakes.h"

namespace wshub::tls {
class TlsContext;
}

namespace wshub::server {

class WorkerContext {
 public:
  WorkerContext(const ServerConfig& config, ServerCounters& counters, ConnectionBudget& budget,
                HandshakeRate& handshake_rate, PeerErrorLog& peer_log,
                RejectedHandshakes& rejected_handshakes, const std::vector<tls::TlsContext*>& tls_by_listener,
                const std::vector<uint16_t>& bound_ports, const HealthReport& health,
                RecentKeys& recently_noted_peers)
      : config_(config), counters_(counters), budget_(budget), handshake_rate_(handshake_rate),
        peer_log_(peer_log), rejected_handshakes_(rejected_handshakes), tls_by_listener_(tls_by_listener), bound_ports_(bound_ports),
        health_(health), recently_noted_peers_(recently_noted_peers) {}

  const ServerConfig& config() const { return config_; }
  ServerCounters& counters() const { return counters_; }
  ConnectionBudget& budget() const { return budget_; }
  HandshakeRate& handshake_rate() const { return handshake_rate_; }
  // The TLS context of listener `index`, or null for a ws:// listener.
  tls::TlsContext* tls_context(size_t index) const {
    return index < tls_by_listener_.size() ? tls_by_listener_[index] : nullptr;
  }
  std::string health_json() const { return health_.json(); }
  // The ports actually bound, in listener order (the config may say 0).
  const std::vector<uint16_t>& bound_ports() const { return bound_ports_; }

  // Rate-limited log line about a peer's mistake; the counter is kept by the caller.
  template <typename... Args>
  void log_peer_error(fmt::format_string<Args...> format, Args&&... args) const {
    peer_log_.write(format, std::forward<Args>(args)...);
  }
  // The same at info level: the operator's setup rather than a bad peer (see PeerErrorLog).
  template <typename... Args>
  void log_peer_note(fmt::format_string<Args...> format, Args&&... args) const {
    peer_log_.write_at(spdlog::level::info, format, std::forward<Args>(args)...);
  }
  // Where each rejected handshake is also recorded, with its diagnosis, for the admin page.
  RejectedHandshakes& rejected_handshakes() const { return rejected_handshakes_; }
  // Client addresses told about recently, so a note about a client is written once a minute
  // (keyed by IpAddressHash of the address).
  RecentKeys& recently_noted_peers() const { return recently_noted_peers_; }

 private:
  const ServerConfig& config_;
  ServerCounters& counters_;
  ConnectionBudget& budget_;
  HandshakeRate& handshake_rate_;
  PeerErrorLog& peer_log_;
  RejectedHandshakes& rejected_handshakes_;
  const std::vector<tls::TlsContext*>& tls_by_listener_;
  const std::vector<uint16_t>& bound_ports_;
  const HealthReport& health_;
  RecentKeys& recently_noted_peers_;
};

}  // namespace wshub::server
