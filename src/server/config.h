// The server's settings as plain values. The app layer fills them from TOML and the command
// line; nothing below reads files or the environment.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "net/reactor.h"
#include "net/socket_ops.h"
#include "proto/deflate_negotiation.h"
#include "server/trusted_proxies.h"
#include "tls/tls_config.h"

namespace wshub::server {

struct Limits {
  uint32_t max_connections = 0;           // 0: as many as open files allow
  uint32_t max_connections_per_ip = 0;    // 0: no per-address limit
  uint32_t max_head_bytes = 8192;
  uint32_t max_headers = 64;
  uint64_t max_frame_bytes = 16u << 20;
  uint64_t max_message_bytes = 16u << 20;
  uint32_t max_fragments = 131072;
  // Off by default: behind a proxy without trusted_proxies, or behind carrier NAT, many
  // clients share one address. docs/config.md gives recommended values.
  uint32_t max_handshakes_per_second_per_ip = 0;
  uint32_t max_handshakes_per_second = 0;  // all clients together; 0: off
  // Pings answered per connection per second; a client sending more than four times this is
  // closed with 1008. Well above any keep-alive (browsers send none, libraries one per 20 s).
  uint32_t max_pings_per_second = 20;
  uint64_t max_buffered_bytes = 1u << 20;  // unsent bytes per connection before it is cut
  uint32_t handshake_timeout_ms = 10000;
  // Below nginx's default proxy_read_timeout (60 s) and common load balancer idle timeouts
  // (60 s), so a quiet connection behind them is never cut: the ping is traffic.
  uint32_t ping_interval_ms = 25000;
  uint32_t idle_timeout_ms = 60000;        // nothing received for this long: close 1001
  uint32_t close_timeout_ms = 5000;        // close handshake or lingering close, then cut
  uint32_t shutdown_grace_ms = 5000;       // on SIGTERM: time for peers to answer the 1001
};

class RouteService;

struct RouteConfig {
  std::string path;
  std::string kind = "echo";                 // the name the route kind is registered under
  std::shared_ptr<RouteService> service;     // made from the kind and the route's parameters
  std::vector<std::string> allowed_origins;  // empty: any
  std::vector<std::string> subprotocols;
  bool require_subprotocol = false;
  bool refuse_unmatched_subprotocols = false;  // see proto::HandshakePolicy
};

struct ListenerConfig {
  net::ListenAddress address;
  std::optional<tls::TlsConfig> tls;  // set: this listener speaks wss:// (TLS), else ws://
  bool api = false;  // serves the backend HTTP API (ServerConfig::api_service), not WebSocket
  // Start even when another process already listens on the address, and share it: the kernel
  // then splits new connections between the processes (a zero-downtime restart). Off, a taken
  // address stops the start, so a forgotten server cannot silently take half the traffic.
  bool share_port = false;
};

class HttpService;

struct ServerConfig {
  std::vector<ListenerConfig> listeners;
  std::vector<RouteConfig> routes;
  std::string health_path = "/health";
  uint32_t threads = 0;  // 0: one per core
  net::IoBackend io_backend = net::IoBackend::automatic;
  // Peers whose X-Forwarded-For / X-Real-IP name the client; other peers' are ignored.
  TrustedProxies trusted_proxies;
  Limits limits;
  proto::DeflatePolicy compression;  // [compression]: permessage-deflate (docs/compression.md)
  std::shared_ptr<HttpService> api_service;  // what `api` listeners serve
  uint64_t max_api_body_bytes = 1u << 20;    // past it: 413
  uint32_t api_response_timeout_ms = 30000;  // a request unanswered this long gets 504
};

// The defaults with no config at all: the seed's port and /health (routes come from the app).
ServerConfig default_server_config();

}  // namespace wshub::server
