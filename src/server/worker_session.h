// The worker's Session: one connection as a route handler sees it. Two references, made on
// the stack for each callback; everything it does goes through the worker.
#pragma once

#include "net/reactor.h"
#include "net/write_queue.h"
#include "server/worker.h"

namespace wshub::server {

class WorkerSession final : public Session {
 public:
  WorkerSession(Worker& worker, Connection& connection) : worker_(worker), c_(connection) {}

  bool send(proto::Opcode opcode, Bytes payload) override { return worker_.send_message(c_, opcode, payload); }
  bool send_frame(const SharedBuffer& frame) override { return worker_.send_frame(c_, frame); }
  bool send_variants(const proto::FrameVariants& frame) override { return worker_.send_variants(c_, frame); }
  bool send_urgent(proto::Opcode opcode, Bytes payload) override {
    return worker_.send_message(c_, opcode, payload, /*force=*/true);
  }
  void close(uint16_t code, std::string_view reason) override { worker_.close_connection(c_, code, reason); }
  const net::PeerAddress& peer() const override { return c_.peer; }
  const net::IpAddress& client() const override { return c_.client; }
  ConnectionRef ref() const override { return {&c_, c_.generation}; }
  size_t unsent_bytes() const override { return c_.pending ? c_.pending->bytes() : 0; }
  RouteState* state() const override { return c_.route_state.get(); }
  void set_state(std::unique_ptr<RouteState> state) override { c_.route_state = std::move(state); }
  void set_deadline(uint64_t deadline_ms) override { worker_.set_route_deadline(c_, deadline_ms); }
  uint64_t now_ms() const override { return worker_.reactor().now_ms(); }

 private:
  Worker& worker_;
  Connection& c_;
};

}  // namespace wshub::server
