// Connection lifecycle and the WebSocket side of a worker: frames in, messages to the route,
// pings, the close handshake, timeouts and the buffered-bytes cap.
#include "server/worker.h"

#include <cstring>

#include "proto/close_code.h"
#include "server/worker_session.h"
#include "tls/tls_context.h"
#include "tls/tls_session.h"

namespace wshub::server {

namespace {

uint32_t ticks_of(uint32_t ms) {
  return (ms + net::TimerWheel::kTickMs - 1) / net::TimerWheel::kTickMs;
}

// Cuts `reason` to what fits a close frame (123 bytes) without splitting a UTF-8 sequence.
std::string_view close_reason_prefix(std::string_view reason) {
  if (reason.size() <= 123) return reason;
  size_t end = 123;
  while (end > 0 && (uint8_t(reason[end]) & 0xC0) == 0x80) --end;
  return reason.substr(0, end);
}

}  // namespace

Worker::Worker(WorkerContext& context, uint32_t index)
    : context_(context), index_(index), compression_(context.config().compression) {
  const Limits& limits = context.config().limits;
  net::ReactorOptions options;
  options.max_queued_bytes = limits.max_buffered_bytes;
  reactor_ = net::make_reactor(context.config().io_backend, *this, options, io_backend_, io_fallback_reason_);
  // The first SHA-1 makes OpenSSL load its default provider, which faults in about 2 MiB of
  // libcrypto. Done here it is a fixed cost of the process, in the baseline, instead of RSS
  // growth the first upgrades are charged with (0.2 KiB per connection over 10,000).
  char accept_key[proto::kAcceptKeySize];
  proto::compute_accept_key("dGhlIHNhbXBsZSBub25jZQ==", accept_key);  // RFC 6455 §1.3's example
  reader_limits_.max_frame_bytes = limits.max_frame_bytes;
  reader_limits_.max_message_bytes = limits.max_message_bytes;
  reader_limits_.max_fragments = limits.max_fragments;
  compression_.set_reader_limits(reader_limits_);
  http_limits_.max_head_bytes = limits.max_head_bytes;
  http_limits_.max_headers = limits.max_headers;
  ping_ticks_ = ticks_of(limits.ping_interval_ms);
  idle_ticks_ = ticks_of(limits.idle_timeout_ms);
  routes_.reserve(context.config().routes.size());
  for (const RouteConfig& config : context.config().routes) {
    WorkerRoute& route = routes_.emplace_back();
    route.config = &config;
    route.handler = config.service->make_handler(*this);
    route.close_codes = config.service->close_codes();
    route.policy.allowed_origins = config.allowed_origins;
    route.policy.subprotocols = config.subprotocols;
    route.policy.require_subprotocol = config.require_subprotocol;
    route.policy.refuse_unmatched_offers = config.refuse_unmatched_subprotocols;
    route.policy.deflate = &compression_.policy();
  }
}

Worker::~Worker() { reactor_.reset(); }

net::Stream* Worker::open_stream(int fd, const net::PeerAddress& peer, uint16_t listener) {
  context_.counters().connections_accepted.fetch_add(1, std::memory_order_relaxed);
  if (reactor_->shutting_down()) return nullptr;
  // A trusted proxy carries many clients: its connections count toward the total now and
  // toward their client's address once the request head names it (worker_http.cpp).
  const bool trusted = !context_.config().trusted_proxies.empty() &&
                       context_.config().trusted_proxies.contains(peer.ip);
  switch (context_.budget().admit(peer.ip, /*per_ip=*/!trusted)) {
    case ConnectionBudget::Verdict::admitted: break;
    case ConnectionBudget::Verdict::over_total:
    case ConnectionBudget::Verdict::over_per_ip: {
      const bool total = context_.budget().open() >= context_.budget().max_total();
      const Limit limit = total ? Limit::max_connections : Limit::max_connections_per_ip;
      context_.counters().count(limit);
      context_.log_peer_error("{} refused: limits.{} ({}) reached", peer.to_string(),
                             limit_name(limit),
                             total ? context_.budget().max_total() : context_.budget().max_per_ip());
      // Plain text on a TLS listener would only confuse the client: just close there.
      if (context_.tls_context(listener)) return nullptr;
      static constexpr std::string_view kBusy =
          "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 52\r\n"
          "Connection: close\r\nRetry-After: 5\r\n\r\n"
          "The server is at its connection limit; retry later.\n";
      [[maybe_unused]] ssize_t n = ::send(fd, kBusy.data(), kBusy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      return nullptr;
    }
  }
  tls::TlsSession* session = nullptr;
  if (tls::TlsContext* tls = context_.tls_context(listener)) {
    session = tls->new_session();
    if (!session) {
      context_.budget().release(peer.ip, !trusted);
      context_.log_peer_error("{} refused: no memory for a TLS session", peer.to_string());
      return nullptr;
    }
  }
  Connection* c = pool_.acquire();
  c->peer = peer;
  c->client = peer.ip;
  c->filter = session;
  c->flags = trusted ? kTrustedPeer : kCountedPerIp;
  if (context_.config().listeners[listener].api) c->flags |= kApiConnection;
  c->last_rx_tick = c->last_tx_tick = tick();
  // Covers the TLS handshake and the request head together.
  reactor_->arm_timer(*c, reactor_->now_ms() + context_.config().limits.handshake_timeout_ms);
  return c;
}

void Worker::on_data(net::Stream& stream, MutableBytes data) {
  Connection& c = static_cast<Connection&>(stream);
  switch (c.state) {
    case ConnectionState::http:
      if (c.flags & kApiConnection) return read_api(c, data);
      return read_head(c, data);
    case ConnectionState::open:
    case ConnectionState::closing: return read_frames(c, data);
    case ConnectionState::finishing: return;  // nothing more is read once we are finishing
  }
}

void Worker::on_hangup(net::Stream& stream) {
  // The peer closed TCP (or reset it) without finishing the close handshake: nothing can be
  // sent any more, so release everything now. Or TLS refused the peer: see below.
  Connection& c = static_cast<Connection&>(stream);
  if (auto* session = static_cast<tls::TlsSession*>(c.filter);
      session && c.state != ConnectionState::finishing &&
      (session->handshaking() || session->failure() != tls::TlsFailure::none)) {
    // TLS refused the client: its alert (protocol_version, handshake_failure, ...) may still
    // wait in the backend's queue, so it goes out before the FIN instead of being cut.
    const bool refused = session->failure() != tls::TlsFailure::none;
    session->note_peer_closed();  // no-op when already failed
    log_tls_failure(c, *session);
    if (refused) return finish(c);
  }
  reactor_->abort(stream);
}

void Worker::log_tls_failure(Connection& c, const tls::TlsSession& session) {
  const tls::TlsFailure failure = session.failure();
  const std::string_view name = tls::tls_failure_name(failure);
  const std::string_view sentence = tls::tls_failure_sentence(failure);
  switch (failure) {
    case tls::TlsFailure::closed_in_handshake:
      // Before the certificate: port scanners and TCP health checks do this.
      spdlog::debug("{} TLS handshake failed ({}): {}", c.peer.to_string(), name, sentence);
      return;
    case tls::TlsFailure::closed_after_certificate:
      remember_rejection(c, 0, name, "TLS handshake", sentence);
      // Usually a client that does not trust the certificate: the operator needs to hear it,
      // but a client retrying in a loop would repeat it, so once a minute per address.
      if (context_.recently_noted_peers().first_in_window(net::IpAddressHash{}(c.peer.ip), reactor_->now_ms()))
        context_.log_peer_note("{} TLS handshake failed ({}): {} Further closes like this from {} "
                              "are logged at debug level for a minute.",
                              c.peer.to_string(), name, sentence, c.peer.ip.to_string());
      else
        spdlog::debug("{} TLS handshake failed ({}): {}", c.peer.to_string(), name, sentence);
      return;
    default: {
      const std::string reason = tls::tls_error_reason(session.error_code());
      remember_rejection(c, 0, name, "TLS handshake", reason.empty() ? std::string(sentence)
                                                                     : "OpenSSL: " + reason + ": " + std::string(sentence));
      context_.log_peer_error("{} TLS handshake failed ({}{}{}): {}", c.peer.to_string(), name,
                             reason.empty() ? "" : ": OpenSSL: ", reason, sentence);
    }
  }
}

void Worker::on_closed(net::Stream& stream) {
  Connection& c = static_cast<Connection&>(stream);
  leave_open(c);
  const bool per_ip = c.flags & kCountedPerIp;
  if (c.flags & kTrustedPeer) {
    context_.budget().release(c.peer.ip, /*per_ip=*/false);
    if (per_ip) context_.budget().release_ip(c.client);
  } else {
    context_.budget().release(c.client, per_ip);
  }
  delete static_cast<tls::TlsSession*>(c.filter);
  c.filter = nullptr;
  pool_.release(&c);
}

void Worker::on_shutdown() {
  reactor_->for_each_stream([this](net::Stream& stream) {
    Connection& c = static_cast<Connection&>(stream);
    if (c.state == ConnectionState::open) {
      const RouteCloseCodes& codes = route_of(c).close_codes;
      close_connection(c, codes.shutdown, codes.shutdown_reason);
    }
    else if (c.state == ConnectionState::http) reactor_->abort(c);
  });
}

void Worker::on_timer(net::Stream& stream) {
  Connection& c = static_cast<Connection&>(stream);
  switch (c.state) {
    case ConnectionState::http:
      if (c.flags & kApiConnection) return on_api_timer(c);
      context_.counters().count(Limit::handshake_timeout);
      if (auto* session = static_cast<tls::TlsSession*>(c.filter); session && session->handshaking()) {
        // No HTTP answer is possible before TLS is up: count, log and cut.
        session->note_failure(tls::TlsFailure::handshake_timeout);
        context_.log_peer_error("{} TLS handshake timeout: not finished within {} ms "
                               "(limits.handshake_timeout_ms)",
                               c.peer.to_string(), context_.config().limits.handshake_timeout_ms);
        return reactor_->abort(c);
      }
      if (c.pending_head && c.pending_head->deferred) {
        context_.log_peer_error("{} upgrade of {} refused with 503: its route did not decide within "
                                "{} ms (limits.handshake_timeout_ms)", describe_peer(c),
                                route_of(c).config->path, context_.config().limits.handshake_timeout_ms);
        return respond_and_close(c, 503, "text/plain; charset=utf-8",
                                 "The server could not decide on this connection in time "
                                 "(an authorization backend is slow or down); retry later.\n");
      }
      context_.log_peer_error("{} handshake timeout: no complete request head within {} ms",
                             describe_peer(c), context_.config().limits.handshake_timeout_ms);
      return respond_and_close(c, 408, "text/plain; charset=utf-8",
                               "The request head did not arrive within the handshake timeout "
                               "(limits.handshake_timeout_ms).\n");
    case ConnectionState::open: return on_open_timer(c);
    case ConnectionState::closing:
    case ConnectionState::finishing:
      context_.counters().count(Limit::close_timeout);
      return reactor_->abort(c);
  }
}

void Worker::on_open_timer(Connection& c) {
  const uint32_t now = tick();
  if (idle_ticks_ && int32_t(now - (c.last_rx_tick + idle_ticks_)) >= 0) {
    context_.counters().count(Limit::idle_timeout);
    return close_connection(c, 1001, "idle timeout");
  }
  if (ping_ticks_) {
    const uint32_t quiet_since =
        int32_t(c.last_rx_tick - c.last_tx_tick) < 0 ? c.last_rx_tick : c.last_tx_tick;
    if (int32_t(now - (quiet_since + ping_ticks_)) >= 0) {
      c.flags |= kPingOutstanding;
      send_control(c, proto::Opcode::ping, {});
      if (c.fd < 0 || c.state != ConnectionState::open) return;
    }
  }
  if (c.route_deadline_tick && int32_t(now - c.route_deadline_tick) >= 0) {
    c.route_deadline_tick = 0;
    WorkerSession session(*this, c);
    route_of(c).handler->on_deadline(session);
    if (c.fd < 0 || c.state != ConnectionState::open) return;
  }
  arm_open_timer(c);
}

// One timer per connection covers the idle limit, the next ping and the handler's deadline.
void Worker::arm_open_timer(Connection& c) {
  uint32_t due = idle_ticks_ ? c.last_rx_tick + idle_ticks_ : tick() + 600;
  if (ping_ticks_) {
    const uint32_t quiet_since =
        int32_t(c.last_rx_tick - c.last_tx_tick) < 0 ? c.last_rx_tick : c.last_tx_tick;
    const uint32_t ping_due = quiet_since + ping_ticks_;
    if (int32_t(ping_due - due) < 0) due = ping_due;
  }
  if (c.route_deadline_tick && int32_t(c.route_deadline_tick - due) < 0) due = c.route_deadline_tick;
  reactor_->arm_timer(c, uint64_t(due) * net::TimerWheel::kTickMs);
}

void Worker::read_frames(Connection& c, MutableBytes data) {
  c.last_rx_tick = tick();
  for (;;) {
    proto::ReadEvent event =
        c.reader.next(data, c.deflate ? compression_.reader_limits() : reader_limits_);
    switch (event.kind) {
      case proto::ReadEvent::Kind::need_more: return;
      case proto::ReadEvent::Kind::message:
        if (c.state != ConnectionState::open) continue;  // after our close: discard (§5.5.1)
        if (event.compressed && !inflate_message(c, event)) return;
        {
          WorkerSession session(*this, c);
          route_of(c).handler->on_message(session, event.opcode, event.payload);
        }
        if (event.compressed) compression_.after_message();
        if (c.fd < 0 || c.state == ConnectionState::finishing) return;
        continue;
      case proto::ReadEvent::Kind::ping:
        if (c.state != ConnectionState::open) continue;
        if (!admit_ping(c)) return;
        if (c.pings_in_window <= context_.config().limits.max_pings_per_second)
          send_control(c, proto::Opcode::pong, event.payload);
        else
          context_.counters().count(Limit::pongs_withheld);
        if (c.fd < 0) return;
        continue;
      case proto::ReadEvent::Kind::pong:
        c.flags &= ~kPingOutstanding;
        continue;
      case proto::ReadEvent::Kind::close: return on_close_frame(c, event);
      case proto::ReadEvent::Kind::error: return fail(c, event.error);
    }
  }
}

// Counts the ping in its one-second window. Pongs beyond limits.max_pings_per_second are
// withheld (RFC 6455 §5.5.3 lets an endpoint answer only the latest ping); past four times
// that, the client is closed with 1008. False when it was closed.
bool Worker::admit_ping(Connection& c) {
  const uint32_t limit = context_.config().limits.max_pings_per_second;
  if (limit == 0) return true;
  const uint8_t second = uint8_t(reactor_->now_ms() / 1000);
  if (c.ping_window != second) {
    c.ping_window = second;
    c.pings_in_window = 0;
  }
  if (c.pings_in_window < 255) ++c.pings_in_window;
  const uint32_t flood = std::min<uint32_t>(4 * limit, 254);  // the count saturates at 255
  if (c.pings_in_window <= flood) return true;
  context_.counters().count(Limit::ping_flood);
  context_.log_peer_error("{} closed with 1008: more than {} pings in one second "
                         "(4 x limits.max_pings_per_second)",
                         describe_peer(c), flood);
  send_close_frame(c, 1008, "ping flood: too many pings per second");
  finish(c);
  return false;
}

void Worker::on_close_frame(Connection& c, const proto::ReadEvent& event) {
  context_.counters().closes_received.fetch_add(1, std::memory_order_relaxed);
  if (c.state == ConnectionState::open) {
    // Echo the peer's code (§5.5.1); a close without a code is answered without one.
    if (event.close_code == uint16_t(proto::CloseCode::no_status)) {
      leave_open(c);
      uint8_t header[2];
      proto::write_frame_header(header, proto::Opcode::close, 0);
      iovec iov{header, 2};
      reactor_->send(c, &iov, 1, /*force=*/true);
    } else {
      send_close_frame(c, event.close_code, {}, /*ours=*/false);
    }
  }
  finish(c);
}

void Worker::fail(Connection& c, proto::ReaderError error) {
  context_.counters().count(error);
  const proto::CloseCode code = proto::close_code_of(error);
  context_.log_peer_error("{} closed with {}: {} ({})", describe_peer(c), uint16_t(code),
                         proto::reader_error_sentence(error), proto::reader_error_name(error));
  if (c.state == ConnectionState::open) send_close_frame(c, uint16_t(code), proto::reader_error_sentence(error));
  finish(c);
}

bool Worker::send_message(Connection& c, proto::Opcode opcode, Bytes payload, bool force) {
  if (c.state != ConnectionState::open) return false;
  if (c.deflate && !force && compression_.worth_compressing(payload.size()))
    return send_compressed(c, opcode, payload);
  uint8_t header[proto::kMaxHeaderSize];
  const size_t header_size = proto::write_frame_header(header, opcode, payload.size());
  iovec iov[2] = {{header, header_size}, {const_cast<uint8_t*>(payload.data()), payload.size()}};
  return after_send(c, reactor_->send(c, iov, payload.empty() ? 1 : 2, force));
}

bool Worker::send_frame(Connection& c, const SharedBuffer& frame) {
  if (c.state != ConnectionState::open) return false;
  return after_send(c, reactor_->send_shared(c, frame));
}

bool Worker::after_send(Connection& c, net::SendResult result) {
  switch (result) {
    case net::SendResult::sent:
    case net::SendResult::queued: c.last_tx_tick = tick(); return true;
    case net::SendResult::closed: return false;
    case net::SendResult::over_limit: {
      context_.counters().count(Limit::buffered_bytes);
      const RouteCloseCodes& codes = route_of(c).close_codes;
      context_.log_peer_error("{} closed with {}: it does not read what is sent to it and passed "
                              "limits.max_buffered_bytes ({})",
                              describe_peer(c), codes.slow_consumer,
                              context_.config().limits.max_buffered_bytes);
      send_close_frame(c, codes.slow_consumer, codes.slow_consumer_reason);
      finish(c);
      return false;
    }
  }
  return false;
}

void Worker::send_control(Connection& c, proto::Opcode opcode, Bytes payload) {
  uint8_t header[proto::kMaxHeaderSize];
  const size_t header_size = proto::write_frame_header(header, opcode, payload.size());
  iovec iov[2] = {{header, header_size}, {const_cast<uint8_t*>(payload.data()), payload.size()}};
  after_send(c, reactor_->send(c, iov, payload.empty() ? 1 : 2));
}

void Worker::send_close_frame(Connection& c, uint16_t code, std::string_view reason, bool ours) {
  if (ours && c.state == ConnectionState::open) {
    WorkerSession session(*this, c);
    route_of(c).handler->before_close(session, code, reason);
    if (c.fd < 0) return;
  }
  leave_open(c);
  reason = close_reason_prefix(reason);
  uint8_t frame[2 + 2 + 123];
  const size_t header_size = proto::write_frame_header(frame, proto::Opcode::close, 2 + reason.size());
  store_be16(frame + header_size, code);
  if (!reason.empty()) std::memcpy(frame + header_size + 2, reason.data(), reason.size());
  iovec iov{frame, header_size + 2 + reason.size()};
  // Forced past the buffered-bytes cap: the close frame is what tells the peer why.
  reactor_->send(c, &iov, 1, /*force=*/true);
}

void Worker::close_connection(Connection& c, uint16_t code, std::string_view reason) {
  if (c.state != ConnectionState::open) return;
  send_close_frame(c, code, reason);
  if (c.fd < 0) return;
  c.state = ConnectionState::closing;
  reactor_->arm_timer(c, reactor_->now_ms() + context_.config().limits.close_timeout_ms);
}

void Worker::leave_open(Connection& c) {
  if (c.state != ConnectionState::open) return;
  c.state = ConnectionState::closing;
  WorkerSession session(*this, c);
  route_of(c).handler->on_close(session);
  c.route_state.reset();
  c.route_deadline_tick = 0;
}

void Worker::finish(Connection& c) {
  leave_open(c);
  c.state = ConnectionState::finishing;
  c.reader.release();
  c.deflate.reset();  // no message is read or sent any more
  if (c.fd < 0) return;
  reactor_->close_after_flush(c);
  if (c.fd >= 0)
    reactor_->arm_timer(c, reactor_->now_ms() + context_.config().limits.close_timeout_ms);
}

void Worker::on_drained(net::Stream& stream) {
  Connection& c = static_cast<Connection&>(stream);
  if (c.state != ConnectionState::open) return;
  WorkerSession session(*this, c);
  route_of(c).handler->on_drained(session);
}

bool Worker::visit_session(ConnectionRef ref, SessionUse& use) {
  if (!ref.alive() || ref.connection->state != ConnectionState::open) return false;
  WorkerSession session(*this, *ref.connection);
  use(session);
  return true;
}

void Worker::set_route_deadline(Connection& c, uint64_t deadline_ms) {
  if (c.state != ConnectionState::open) return;
  // 0 means none, so a deadline that lands on tick 0 moves to tick 1.
  c.route_deadline_tick = deadline_ms ? std::max<uint32_t>(1, uint32_t((deadline_ms + net::TimerWheel::kTickMs - 1) / net::TimerWheel::kTickMs)) : 0;
  arm_open_timer(c);
}

}  // namespace wshub::server
