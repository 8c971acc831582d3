// One worker thread: its reactor, its connections and its instance of every route. It turns
// bytes into HTTP, the upgrade, and WebSocket messages, and enforces the limits. Nothing here
// is shared with other workers except through the WorkerContext's atomics and the mailboxes.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "net/reactor.h"
#include "proto/handshake.h"
#include "proto/http_head.h"
#include "proto/frame_variants.h"
#include "proto/message_reader.h"
#include "server/compression.h"
#include "server/connection.h"
#include "server/http_service.h"
#include "server/route_handler.h"
#include "server/worker_context.h"

namespace wshub::tls {
class TlsSession;
}

namespace wshub::server {

class ApiConnectionState;

// Whether a connection's first bytes (`held` from earlier reads, then `data`) are a TLS
// ClientHello (worker_http.cpp).
bool starts_with_tls_client_hello(std::string_view held, MutableBytes data);

class Worker final : public net::StreamHandler, public RouteHost, public HttpResponseSink {
 public:
  // Makes the reactor and asks every route's service for this worker's handler.
  Worker(WorkerContext& context, uint32_t index);
  ~Worker() override;

  net::Reactor& reactor() override { return *reactor_; }
  uint32_t worker_index() const override { return index_; }
  const CompressionCounters& compression_counters() const { return compression_.counters(); }
  uint32_t index() const { return index_; }
  net::IoBackend io_backend() const { return io_backend_; }
  const std::string& io_fallback_reason() const { return io_fallback_reason_; }
  void run() { reactor_->run(); }

  // For WorkerSession; see route_handler.h for the contracts.
  // `force` sends past the buffered-bytes cap (a notice before a close).
  bool send_message(Connection& c, proto::Opcode opcode, Bytes payload, bool force = false);
  bool send_frame(Connection& c, const SharedBuffer& frame);
  // The variant of `frame` that suits `c`: plain, compressed once for everyone without context
  // takeover, or compressed for `c` alone (worker_deflate.cpp).
  bool send_variants(Connection& c, const proto::FrameVariants& frame) override;
  void close_connection(Connection& c, uint16_t code, std::string_view reason);
  void set_route_deadline(Connection& c, uint64_t deadline_ms);

  // RouteHost
  bool finish_upgrade(ConnectionRef ref, const UpgradeVerdict& verdict) override;
  // HttpResponseSink
  bool respond_http(ConnectionRef ref, uint32_t serial, const HttpResponse& response) override;

  // net::StreamHandler
  net::Stream* open_stream(int fd, const net::PeerAddress& peer, uint16_t listener) override;
  void on_data(net::Stream& stream, MutableBytes data) override;
  void on_hangup(net::Stream& stream) override;
  void on_drained(net::Stream& stream) override;
  void on_timer(net::Stream& stream) override;
  void on_closed(net::Stream& stream) override;
  void on_shutdown() override;

 private:
  // HTTP side (worker_http.cpp).
  void read_head(Connection& c, MutableBytes data);
  void answer_head(Connection& c, const proto::HttpRequestHead& head, MutableBytes rest);
  void open_websocket(Connection& c, WorkerRoute& route, const proto::HandshakeOutcome& outcome,
                      MutableBytes rest);
  void reject_handshake(Connection& c, proto::HandshakeError error,
                        const proto::HttpRequestHead& head);
  void upgrade(Connection& c, WorkerRoute& route, const proto::HttpRequestHead& head,
               const proto::HandshakeOutcome& outcome, MutableBytes rest);
  void respond_and_close(Connection& c, uint16_t status, std::string_view content_type,
                         std::string_view body, std::string_view extra_headers = {});
  WorkerRoute* find_route(std::string_view path);
  bool adopt_forwarded_client(Connection& c, const proto::HttpRequestHead& head);
  bool admit_handshake_rate(Connection& c);
  // A TLS ClientHello on a plain listener: counted, logged with the listener, closed unanswered.
  void refuse_tls_client_hello(Connection& c);
  // Adds a rejected handshake to the ring the admin page shows (next to its log line, which
  // the rate limit may hold back). `status` 0: cut without an answer.
  void remember_rejection(const Connection& c, uint16_t status, std::string_view reason,
                          std::string_view request, std::string_view sentence);
  bool admit_ping(Connection& c);
  void log_tls_failure(Connection& c, const tls::TlsSession& session);

  // Keep-alive HTTP on `api` listeners (worker_api.cpp).
  ApiConnectionState& api_state(Connection& c);
  void read_api(Connection& c, MutableBytes data);
  void serve_api(Connection& c, ApiConnectionState& state);
  void on_api_timer(Connection& c);

  // permessage-deflate (worker_deflate.cpp).
  bool inflate_message(Connection& c, proto::ReadEvent& event);
  bool send_compressed(Connection& c, proto::Opcode opcode, Bytes payload);

  // WebSocket side (worker.cpp).
  void read_frames(Connection& c, MutableBytes data);
  void on_close_frame(Connection& c, const proto::ReadEvent& event);
  void fail(Connection& c, proto::ReaderError error);
  bool after_send(Connection& c, net::SendResult result);
  // `ours`: the server closes (the handler's before_close runs first); else it answers the
  // peer's close.
  void send_close_frame(Connection& c, uint16_t code, std::string_view reason, bool ours = true);
  void send_control(Connection& c, proto::Opcode opcode, Bytes payload);
  void leave_open(Connection& c);
  void finish(Connection& c);
  void on_open_timer(Connection& c);
  void arm_open_timer(Connection& c);

  bool visit_session(ConnectionRef ref, SessionUse& use) override;

  WorkerRoute& route_of(const Connection& c) { return routes_[c.route]; }
  uint32_t tick() const { return uint32_t(reactor_->now_ms() / net::TimerWheel::kTickMs); }

  WorkerContext& context_;
  const uint32_t index_;
  std::unique_ptr<net::Reactor> reactor_;
  net::IoBackend io_backend_ = net::IoBackend::epoll;
  std::string io_fallback_reason_;
  ConnectionPool pool_;
  std::vector<WorkerRoute> routes_;
  proto::ReaderLimits reader_limits_;
  WorkerCompression compression_;
  proto::HttpLimits http_limits_;
  proto::HttpRequestHead api_head_;  // the API request being handed over
  uint32_t ping_ticks_ = 0;
  uint32_t idle_ticks_ = 0;
};

}  // namespace wshub::server
