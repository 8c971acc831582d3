#include "server/builtin_routes.h"

#include "server/fanout.h"
#include "server/worker.h"

namespace wshub::server {

namespace {

class EchoHandler final : public RouteHandler {
 public:
  void on_message(Session& session, proto::Opcode opcode, Bytes payload) override {
    session.send(opcode, payload);
  }
};

class ReplyHandler final : public RouteHandler {
 public:
  explicit ReplyHandler(std::string_view text)
      : frame_(proto::encode_shared_frame(proto::Opcode::text, as_bytes(text))) {}
  void on_message(Session& session, proto::Opcode, Bytes) override { session.send_frame(frame_); }

 private:
  SharedBuffer frame_;  // framed once, shared by every answer
};

// Relays every message to every connection on the route, on every worker, the sender
// included: the test bed for fan-out until the hub exists.
class BroadcastHandler final : public RouteHandler {
 public:
  BroadcastHandler(FanoutGroup& group, Worker& worker) : group_(group), members_(worker), worker_index_(worker.index()) {
    group_.attach(worker_index_, worker.reactor(), members_);
  }
  void on_open(Session& session) override { members_.add(session.connection()); }
  void on_close(Session& session) override { members_.remove(session.connection()); }
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

}  // namespace

std::unique_ptr<RouteHandler> make_builtin_handler(const RouteConfig& config,
                                                   FanoutGroup* fanout, Worker& worker) {
  switch (config.kind) {
    case RouteKind::echo: return std::make_unique<EchoHandler>();
    case RouteKind::reply: return std::make_unique<ReplyHandler>(config.reply_text);
    case RouteKind::broadcast: return std::make_unique<BroadcastHandler>(*fanout, worker);
  }
  return nullptr;
}

}  // namespace wshub::server
