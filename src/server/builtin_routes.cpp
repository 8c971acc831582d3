#include "server/builtin_routes.h"

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
      : frame_(encode_shared_frame(proto::Opcode::text, as_bytes(text))) {}
  void on_message(Session& session, proto::Opcode, Bytes) override { session.send_frame(frame_); }

 private:
  SharedBuffer frame_;  // framed once, shared by every answer
};

}  // namespace

std::unique_ptr<RouteHandler> make_builtin_handler(const RouteConfig& config,
                                                   FanoutGroup* fanout, uint32_t worker_index) {
  switch (config.kind) {
    case RouteKind::echo: return std::make_unique<EchoHandler>();
    case RouteKind::reply: return std::make_unique<ReplyHandler>(config.reply_text);
    case RouteKind::broadcast: break;
  }
  return std::make_unique<EchoHandler>();
}

}  // namespace wshub::server
