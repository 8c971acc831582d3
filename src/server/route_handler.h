// The narrow interface between the connection engine and what a route does with messages.
// Built-in routes (echo, reply, broadcast) implement it in builtin_routes.cpp; the hub
// implements it in its own layer. A handler runs on its connection's worker thread and needs
// no locks for per-connection state; it sees a connection only through `Session`, which a unit
// test can fake.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/shared_buffer.h"
#include "net/peer_address.h"
#include "proto/frame.h"
#include "proto/frame_variants.h"
#include "proto/handshake.h"
#include "server/connection.h"

namespace wshub::net {
class Reactor;
}

namespace wshub::server {

struct RouteConfig;

// What a handler may do with one connection. Valid for the duration of the callback it was
// passed to (or of the RouteHost::with_session call that made it).
class Session {
 public:
  // Frames and sends one message. False when the connection is closing or was just closed
  // (for example because it passed its buffered-bytes cap).
  virtual bool send(proto::Opcode opcode, Bytes payload) = 0;
  bool send_text(std::string_view text) { return send(proto::Opcode::text, as_bytes(text)); }
  // Sends a complete frame encoded once for many receivers (see proto::encode_shared_frame).
  virtual bool send_frame(const SharedBuffer& frame) = 0;
  // Sends a message framed once for many receivers, compressed or not as this connection
  // negotiated (see proto::FrameVariants): what a fan-out sends to each receiver.
  virtual bool send_variants(const proto::FrameVariants& frame) = 0;
  // Sends one message even past the buffered-bytes cap: a short notice before a close.
  virtual bool send_urgent(proto::Opcode opcode, Bytes payload) = 0;
  // Starts the close handshake with `code` (never 1005/1006/1015) and a short UTF-8 reason.
  virtual void close(uint16_t code, std::string_view reason) = 0;

  // The TCP peer (maybe a proxy).
  virtual const net::PeerAddress& peer() const = 0;
  // The client's address: the TCP peer's, or what a trusted proxy forwarded (docs/config.md).
  virtual const net::IpAddress& client() const = 0;
  // A handle that stays safe to keep after the callback returns (see RouteHost::with_session).
  virtual ConnectionRef ref() const = 0;
  // Bytes accepted for sending that the socket has not taken yet: a handler that produces
  // much (a replay) waits for on_drained while this is high.
  virtual size_t unsent_bytes() const = 0;

  // The handler's per-connection state; null until set. The session takes ownership.
  virtual RouteState* state() const = 0;
  virtual void set_state(std::unique_ptr<RouteState> state) = 0;
  template <typename T>
  T* state_as() const {
    return static_cast<T*>(state());
  }

  // Asks for one on_deadline call at `deadline_ms` (the reactor's clock, 100 ms resolution)
  // or soon after; a later call replaces the earlier one, 0 cancels.
  virtual void set_deadline(uint64_t deadline_ms) = 0;
  virtual uint64_t now_ms() const = 0;

 protected:
  ~Session() = default;
};

// The request of an upgrade that passed the RFC 6455 checks, before the 101 is sent.
struct UpgradeRequest {
  const proto::HttpRequestHead& head;
  const net::IpAddress& client;
  std::string_view subprotocol;  // the one agreed, or empty
  ConnectionRef ref;             // for RouteHost::finish_upgrade after `defer`
};

struct UpgradeVerdict {
  enum class Decision : uint8_t {
    accept,  // send the 101 now
    refuse,  // answer `status` with `body` (text) and close
    defer,   // decide later with RouteHost::finish_upgrade, within limits.handshake_timeout_ms
  };
  Decision decision = Decision::accept;
  uint16_t status = 0;
  std::string body;

  static UpgradeVerdict accept() { return {}; }
  static UpgradeVerdict defer() { return {Decision::defer, 0, {}}; }
  static UpgradeVerdict refuse(uint16_t status, std::string body) {
    return {Decision::refuse, status, std::move(body)};
  }
};

// What the worker offers a route's handler outside of callbacks. Implemented by the worker.
class RouteHost {
 public:
  virtual uint32_t worker_index() const = 0;
  // This worker's reactor: `post` for work from other threads, timers, the clock.
  virtual net::Reactor& reactor() = 0;
  // Runs `use` with a session for `ref` when that connection is still open on this worker;
  // false when it is gone or closing.
  template <typename Use>
  bool with_session(ConnectionRef ref, Use&& use) {
    SessionVisitor<Use> visitor(use);
    return visit_session(ref, visitor);
  }
  // The fan-out path: sends one shared frame to a connection of this worker, as
  // Session::send_variants, without making a session for it.
  virtual bool send_variants(Connection& connection, const proto::FrameVariants& frame) = 0;
  // Ends a deferred upgrade (see RouteHandler::on_upgrade): a 101 and on_open when `accept`,
  // else the refusal. False when the connection is gone.
  virtual bool finish_upgrade(ConnectionRef ref, const UpgradeVerdict& verdict) = 0;

 protected:
  ~RouteHost() = default;
  class SessionUse {
   public:
    virtual void operator()(Session& session) = 0;

   protected:
    ~SessionUse() = default;
  };
  virtual bool visit_session(ConnectionRef ref, SessionUse& use) = 0;

 private:
  template <typename Use>
  class SessionVisitor final : public SessionUse {
   public:
    explicit SessionVisitor(Use& use) : use_(use) {}
    void operator()(Session& session) override { use_(session); }

   private:
    Use& use_;
  };
};

class RouteHandler {
 public:
  virtual ~RouteHandler() = default;
  // Before the 101: decide now or later. The default accepts.
  virtual UpgradeVerdict on_upgrade(const UpgradeRequest& request) { return UpgradeVerdict::accept(); }
  virtual void on_open(Session& session) {}
  // `payload` is valid only during the call.
  virtual void on_message(Session& session, proto::Opcode opcode, Bytes payload) = 0;
  // Everything sent so far has gone to the socket after some of it had to wait.
  virtual void on_drained(Session& session) {}
  // The deadline set with Session::set_deadline has come.
  virtual void on_deadline(Session& session) {}
  // The server is about to close the connection with `code` (a limit, a timeout, the
  // shutdown, a protocol error, or the handler's own close): the last chance to send a notice.
  virtual void before_close(Session& session, uint16_t code, std::string_view reason) {}
  // The connection is gone or going; no more sends will succeed.
  virtual void on_close(Session& session) {}
};

// The close codes the server uses for a route's connections where the route has its own.
struct RouteCloseCodes {
  uint16_t slow_consumer = 1008;  // passed limits.max_buffered_bytes
  std::string_view slow_consumer_reason = "send buffer limit reached: the client does not read";
  uint16_t shutdown = 1001;
  std::string_view shutdown_reason = "server shutting down";
};

// One configured route's behaviour, shared by every worker: made once (by the app layer, from
// the route kind's registry entry and the route's parameters); each worker asks it for the
// handler instance it runs.
class RouteService {
 public:
  virtual ~RouteService() = default;
  // On the main thread before any worker runs, once per worker in worker order.
  virtual std::unique_ptr<RouteHandler> make_handler(RouteHost& host) = 0;
  virtual RouteCloseCodes close_codes() const { return {}; }
};

// A route as one worker holds it: its config, its handler instance and its handshake policy.
struct WorkerRoute {
  const RouteConfig* config = nullptr;
  std::unique_ptr<RouteHandler> handler;
  proto::HandshakePolicy policy;
  RouteCloseCodes close_codes;
};

}  // namespace wshub::server
