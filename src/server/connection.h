// One client connection as the server sees it: the reactor's Stream plus the WebSocket state.
// An idle open connection is only this struct (kept small: see docs/capacity.md); partial
// heads, partial messages and unsent bytes live in side objects that exist only while needed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "net/peer_address.h"
#include "net/stream.h"
#include "proto/deflate_negotiation.h"
#include "proto/http_head.h"
#include "proto/message_reader.h"
#include "server/compression.h"

namespace wshub::server {

// A worker serves at most this many routes (checked when the config is read).
constexpr uint8_t kNoRoute = 255;
constexpr size_t kMaxRoutes = kNoRoute;

// A route handler's own state for one connection (see route_handler.h). The connection owns
// it once set; it is deleted after the handler's on_close.
class RouteState {
 public:
  virtual ~RouteState() = default;
};

enum class ConnectionState : uint8_t {
  http,       // reading the request head
  open,       // WebSocket open
  closing,    // we sent a close frame and wait for the peer's
  finishing,  // close handshake done or connection failed: flushing, then TCP close
};

// An upgrade its route's handler decided to decide later (RouteHandler::on_upgrade): what the
// 101 needs, and the bytes that arrived after the head meanwhile.
struct DeferredUpgrade {
  std::string key;
  std::string_view subprotocol;  // points into the route's policy, which outlives connections
  proto::DeflateNegotiation deflate;
  std::string rest;
};

// A request head that did not arrive in one read: its bytes so far and the parser's place;
// or, once complete, an upgrade waiting for its handler's decision.
struct PendingHead {
  explicit PendingHead(const proto::HttpLimits& limits) : parser(limits) {}
  proto::HttpHeadParser parser;
  std::string bytes;
  std::unique_ptr<DeferredUpgrade> deferred;
};

enum ConnectionFlags : uint8_t {
  kPingOutstanding = 1,
  kCountedPerIp = 2,      // `client` holds one place in the per-address budget
  kTrustedPeer = 4,       // the TCP peer is a trusted proxy (server.trusted_proxies)
  kForwardedClient = 8,   // `client` came from that proxy's X-Forwarded-For / X-Real-IP
  kHeadRequest = 16,      // the request was HEAD: answers carry headers only (RFC 9110 §9.3.2)
  kApiConnection = 32,    // accepted on an `api` listener: keep-alive HTTP, never WebSocket
};

struct Connection : net::Stream {
  proto::MessageReader reader;
  std::unique_ptr<PendingHead> pending_head;
  ConnectionDeflatePtr deflate;  // null: no permessage-deflate (see server/compression.h)
  std::unique_ptr<RouteState> route_state;  // the route handler's (the hub keeps its session here)
  net::PeerAddress peer;         // the TCP peer: the client, or a proxy in front of it
  net::IpAddress client;         // the client: `peer.ip`, or what a trusted proxy forwarded
  ConnectionState state = ConnectionState::http;
  uint8_t flags = 0;
  uint8_t ping_window = 0;       // low bits of the second the ping count belongs to
  uint8_t pings_in_window = 0;   // pings received in that second, saturating
  uint8_t route = kNoRoute;      // index of its route in the worker's list, once known
  uint32_t last_rx_tick = 0;     // reactor time / 100 ms when bytes last arrived
  uint32_t last_tx_tick = 0;     // ... and when a frame was last sent
  uint32_t route_deadline_tick = 0;  // when the handler's on_deadline is due; 0: none
  uint32_t route_slot = 0;           // the handler's own index for this connection (fan-out)
};

// A handle that stays safe to test after the connection is gone: the memory is pooled and
// the generation changes when it is reused.
struct ConnectionRef {
  Connection* connection = nullptr;
  uint32_t generation = 0;
  bool alive() const {
    return connection && connection->fd >= 0 && connection->generation == generation;
  }
};

// Fixed-size connection objects carved from slabs, per worker thread: no allocator call per
// accept, and the memory of a closed connection is only ever reused as a Connection. A free
// slot holds a closed Stream (fd -1, its last generation) whose timer link chains the free list,
// so the list costs no memory of its own.
class ConnectionPool {
 public:
  ConnectionPool() = default;
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;
  Connection* acquire();
  void release(Connection* connection);
  size_t in_use() const { return in_use_; }

 private:
  static constexpr size_t kSlab = 256;
  struct alignas(Connection) Slot {
    unsigned char bytes[sizeof(Connection)];
  };
  std::vector<std::unique_ptr<Slot[]>> slabs_;
  net::Stream* free_ = nullptr;
  size_t in_use_ = 0;
};

}  // namespace wshub::server

namespace wshub::server {
// How log lines name a connection: "1.2.3.4:5678", or "203.0.113.7 via 10.0.0.2:5678" when
// a trusted proxy forwarded the client's address.
std::string describe_peer(const Connection& connection);
}  // namespace wshub::server
