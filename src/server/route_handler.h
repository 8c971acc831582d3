// The narrow interface between the connection engine and what a route does with messages.
// Built-in routes (echo, reply, broadcast) implement it here; the hub implements it later.
// Handlers run on the connection's worker thread and need no locks for per-connection state.
#pragma once

#include <memory>
#include <string_view>

#include "base/bytes.h"
#include "base/shared_buffer.h"
#include "proto/frame.h"
#include "proto/frame_variants.h"
#include "proto/handshake.h"
#include "server/config.h"
#include "server/connection.h"

namespace wshub::server {

class Worker;

// What a handler may do with one connection during a callback.
class Session {
 public:
  Session(Worker& worker, Connection& connection) : worker_(worker), connection_(connection) {}

  // Frames and sends one message. False when the connection is closing or was just closed
  // (for example because it passed its buffered-bytes cap).
  bool send(proto::Opcode opcode, Bytes payload);
  bool send_text(std::string_view text) { return send(proto::Opcode::text, as_bytes(text)); }
  // Sends a complete frame encoded once for many receivers (see proto::encode_shared_frame).
  bool send_frame(const SharedBuffer& frame);
  // Sends a message framed once for many receivers, compressed or not as this connection
  // negotiated (see proto::FrameVariants): what a fan-out sends to each receiver.
  bool send_variants(const proto::FrameVariants& frame);
  // Starts the close handshake with `code` (never 1005/1006/1015) and a short UTF-8 reason.
  void close(uint16_t code, std::string_view reason);

  const net::PeerAddress& peer() const { return connection_.peer; }  // the TCP peer (maybe a proxy)
  // The client's address: the TCP peer's, or what a trusted proxy forwarded (docs/config.md).
  const net::IpAddress& client() const { return connection_.client; }
  ConnectionRef ref() const { return {&connection_, connection_.generation}; }
  void*& state() { return connection_.route_state; }
  Worker& worker() { return worker_; }
  Connection& connection() { return connection_; }

 private:
  Worker& worker_;
  Connection& connection_;
};

class RouteHandler {
 public:
  virtual ~RouteHandler() = default;
  virtual void on_open(Session& session) {}
  // `payload` is valid only during the call.
  virtual void on_message(Session& session, proto::Opcode opcode, Bytes payload) = 0;
  // The connection is gone or going; no more sends will succeed.
  virtual void on_close(Session& session) {}
};

// A route as one worker holds it: its config, its handler instance and its handshake policy.
struct WorkerRoute {
  const RouteConfig* config = nullptr;
  std::unique_ptr<RouteHandler> handler;
  proto::HandshakePolicy policy;
};

}  // namespace wshub::server
