#include "server/builtin_routes.h"

#include "server/fanout.h"

namespace wshub::server {

namespace {

class EchoHandler final : public RouteHandler {
 public:
  void on_message(Session& session, proto::Opcode opcode, Bytes payload) override {
    session.send(opcode, payload);
  }
};

class EchoRoute final : public RouteService {
 public:
  std::unique_ptr<RouteHandler> make_handler(RouteHost&) override {
    return std::make_unique<EchoHandler>();
  }
};

class ReplyHandler final : public RouteHandler {
 public:
  explicit ReplyHandler(SharedBuffer frame) : frame_(std::move(frame)) {}
  void on_message(Session& session, proto::Opcode, Bytes) override { session.send_frame(frame_); }

 private:
  SharedBuffer frame_;
};

class ReplyRoute final : public RouteService {
 public:
  // Framed once, shared by every answer on every worker.
  explicit ReplyRoute(std::string_view text)
      : frame_(proto::encode_shared_frame(proto::Opcode::text, as_bytes(text))) {}
  std::unique_ptr<RouteHandler> make_handler(RouteHost&) override {
    return std::make_unique<ReplyHandler>(frame_);
  }

 private:
  SharedBuffer frame_;
};

// Relays every message to every connection on the route, on every worker, the sender
// included: the test bed for fan-out until the hub existed, and its benchmark baseline.
class BroadcastHandler final : public RouteHandler {
 public:
  BroadcastHandler(FanoutGroup& group, RouteHost& host)
      : group_(group), members_(host), worker_index_(host.worker_index()) {
    group_.attach(worker_index_, host.reactor(), members_);
  }
  void on_open(Session& session) override { members_.add(session.ref()); }
  void on_close(Session& session) override { members_.remove(session.ref()); }
  void on_message(Session& session, proto::Opcode opcode, Bytes payload) override {
    // Framed once; compressed at most once per window size for all receivers without context
    // takeover, on every worker.
    std::shared_ptr<const proto::FrameVariants> frame = proto::FrameVariants::make(opcode, payload);
    if (frame) group_.publish(std::move(frame), worker_index_);
  }

 private:
  FanoutGroup& group_;
  FanoutMembers members_;
  uint32_t worker_index_;
};

class BroadcastRoute final : public RouteService {
 public:
  std::unique_ptr<RouteHandler> make_handler(RouteHost& host) override {
    return std::make_unique<BroadcastHandler>(group_, host);
  }

 private:
  FanoutGroup group_;
};

}  // namespace

std::shared_ptr<RouteService> make_echo_route() { return std::make_shared<EchoRoute>(); }
std::shared_ptr<RouteService> make_reply_route(std::string_view text) {
  return std::make_shared<ReplyRoute>(text);
}
std::shared_ptr<RouteService> make_broadcast_route() { return std::make_shared<BroadcastRoute>(); }

}  // namespace wshub::server
