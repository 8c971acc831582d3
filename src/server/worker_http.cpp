// The HTTP side of a worker: the request head, the upgrade, /health, and every rejection with
// its status, its sentence and its rate-limited log line.
#include <string>

#include "base/clock.h"
#include "net/socket_ops.h"
#include "proto/http_response.h"
#include "server/worker.h"
#include "server/worker_session.h"

namespace wshub::server {

namespace {

// The peer's path, cut short for a log line; the parser already refused controls and spaces.
std::string_view loggable(std::string_view text) { return text.substr(0, 120); }

// The scheme a client reaching this page the same way would use: wss:// on a TLS listener or
// behind a trusted proxy that says its client came over https, ws:// otherwise.
std::string_view websocket_scheme(const Connection& c, const proto::HttpRequestHead& head) {
  if (c.filter) return "wss://";
  const proto::HttpHeader* forwarded = (c.flags & kTrustedPeer) ? head.find("X-Forwarded-Proto")
                                                                 : nullptr;
  if (!forwarded) return "ws://";
  // A chain of proxies may list one scheme each; the first is the client's.
  std::string_view first = forwarded->value.substr(0, forwarded->value.find(','));
  while (!first.empty() && (first.back() == ' ' || first.back() == '\t')) first.remove_suffix(1);
  return proto::equals_ignore_case(first, "https") || proto::equals_ignore_case(first, "wss")
             ? "wss://"
             : "ws://";
}

std::string plain_request_page(std::string_view scheme, std::string_view path) {
  return "<!doctype html><meta charset=\"utf-8\"><title>WebSocket endpoint</title>"
         "<h1>This is a WebSocket endpoint</h1>"
         "<p>wshub serves <code>" + std::string(path) + "</code> to WebSocket clients only. "
         "Connect from a page or an app, for example:</p>"
         "<pre>const ws = new WebSocket(\"" + std::string(scheme) + "\" + location.host + \"" +
         std::string(path) + "\");\nws.onmessage = (e) =&gt; console.log(e.data);</pre>"
         "<p>A plain browser visit sends no Upgrade header, so there is nothing to show here.</p>\n";
}

}  // namespace

// Whether a connection's first bytes (`held` from earlier reads, then `data`) are a TLS
// ClientHello. Only the first three bytes decide, so once three are held it has passed.
bool starts_with_tls_client_hello(std::string_view held, MutableBytes data) {
  char first[3];
  if (held.size() >= sizeof first) return false;
  size_t n = held.copy(first, sizeof first);
  for (size_t i = 0; i < data.size() && n < sizeof first; ++i) first[n++] = char(data[i]);
  return proto::sniff_tls_client_hello({first, n}) == proto::TlsSniff::client_hello;
}

void Worker::remember_rejection(const Connection& c, uint16_t status, std::string_view reason,
                                std::string_view request, std::string_view sentence) {
  context_.rejected_handshakes().record(wall_ms(), status, describe_peer(c), reason, request, sentence);
}

void Worker::refuse_tls_client_hello(Connection& c) {
  // The client speaks TLS: an HTTP answer would only be a garbled record to it.
  constexpr proto::HttpHeadError error = proto::HttpHeadError::tls_client_hello;
  context_.counters().count(error);
  const size_t l = c.listener;
  context_.log_peer_error(
      "{} to {} rejected ({}): {}", describe_peer(c),
      net::with_port(context_.config().listeners[l].address, context_.bound_ports()[l]).text,
      proto::http_error_name(error), proto::http_error_sentence(error));
  remember_rejection(c, 0, proto::http_error_name(error), "TLS ClientHello", proto::http_error_sentence(error));
  c.pending_head.reset();
  finish(c);
}

namespace {

}  // namespace

WorkerRoute* Worker::find_route(std::string_view path) {
  for (WorkerRoute& route : routes_)
    if (route.config->path == path) return &route;
  return nullptr;
}

void Worker::read_head(Connection& c, MutableBytes data) {
  if (!c.filter && starts_with_tls_client_hello(c.pending_head ? c.pending_head->bytes : std::string_view{}, data))
    return refuse_tls_client_hello(c);
  proto::HttpRequestHead head;
  if (!c.pending_head) {
    // The usual case: the whole head in one read, parsed where it lies.
    proto::HttpHeadParser parser(http_limits_);
    switch (parser.parse(as_text(data), head)) {
      case proto::HttpHeadParser::Status::done:
        return answer_head(c, head, data.subspan(head.head_size));
      case proto::HttpHeadParser::Status::error: break;
      case proto::HttpHeadParser::Status::need_more:
        c.pending_head = std::make_unique<PendingHead>(http_limits_);
        c.pending_head->parser = parser;
        c.pending_head->bytes.assign(reinterpret_cast<const char*>(data.data()), data.size());
        return;
    }
    context_.counters().count(parser.error());
    context_.log_peer_error("{} bad request head: {}: {}", describe_peer(c),
                           proto::http_error_name(parser.error()),
                           proto::http_error_sentence(parser.error()));
    remember_rejection(c, proto::http_status_of(parser.error()), proto::http_error_name(parser.error()),
                       "request head", proto::http_error_sentence(parser.error()));
    return respond_and_close(c, proto::http_status_of(parser.error()), "text/plain; charset=utf-8",
                             std::string(proto::http_error_sentence(parser.error())) + "\n");
  }
  PendingHead& pending = *c.pending_head;
  if (pending.deferred) {
    // Frame bytes sent before the 101 (the client did not wait): kept for after it, within
    // the head limit, since no well-behaved client sends much before it is answered.
    std::string& rest = pending.deferred->rest;
    if (rest.size() + data.size() > http_limits_.max_head_bytes) {
      context_.log_peer_error("{} sent more than limits.max_head_bytes ({}) while its upgrade "
                              "was being decided", describe_peer(c), http_limits_.max_head_bytes);
      return reactor_->abort(c);
    }
    rest.append(reinterpret_cast<const char*>(data.data()), data.size());
    return;
  }
  // Never hold more than the head limit: bytes past it cannot be part of a valid head.
  const size_t room = http_limits_.max_head_bytes + 1 > pending.bytes.size()
                          ? http_limits_.max_head_bytes + 1 - pending.bytes.size()
                          : 0;
  const size_t keep = std::min(room, data.size());
  const size_t beyond = data.size() - keep;
  pending.bytes.append(reinterpret_cast<const char*>(data.data()), keep);
  switch (pending.parser.parse(pending.bytes, head)) {
    case proto::HttpHeadParser::Status::need_more: return;
    case proto::HttpHeadParser::Status::done: {
      // Frame bytes may follow the head, in the kept bytes and beyond them in `data`.
      std::unique_ptr<PendingHead> owned = std::move(c.pending_head);
      std::string rest = owned->bytes.substr(head.head_size);
      rest.append(reinterpret_cast<const char*>(data.data()) + keep, beyond);
      // `head` views point into owned->bytes, which lives until this returns.
      return answer_head(c, head, {reinterpret_cast<uint8_t*>(rest.data()), rest.size()});
    }
    case proto::HttpHeadParser::Status::error: {
      const proto::HttpHeadError error = pending.parser.error();
      c.pending_head.reset();
      context_.counters().count(error);
      context_.log_peer_error("{} bad request head: {}: {}", describe_peer(c),
                             proto::http_error_name(error), proto::http_error_sentence(error));
      remember_rejection(c, proto::http_status_of(error), proto::http_error_name(error), "request head",
                         proto::http_error_sentence(error));
      return respond_and_close(c, proto::http_status_of(error), "text/plain; charset=utf-8",
                               std::string(proto::http_error_sentence(error)) + "\n");
    }
  }
}

bool Worker::adopt_forwarded_client(Connection& c, const proto::HttpRequestHead& head) {
  if (!(c.flags & kTrustedPeer) || (c.flags & kCountedPerIp)) return true;
  net::IpAddress client;
  if (forwarded_client(head, context_.config().trusted_proxies, client)) {
    c.client = client;
    c.flags |= kForwardedClient;
  }
  // Counted per address now that the client is known (at accept only the proxy was).
  if (context_.budget().admit_ip(c.client)) {
    c.flags |= kCountedPerIp;
    return true;
  }
  context_.counters().count(Limit::max_connections_per_ip);
  context_.log_peer_error("{} refused: limits.max_connections_per_ip ({}) reached",
                         describe_peer(c), context_.budget().max_per_ip());
  respond_and_close(c, 503, "text/plain; charset=utf-8",
                    "This client address is at its connection limit "
                    "(limits.max_connections_per_ip); retry later.\n",
                    "Retry-After: 5\r\n");
  return false;
}

bool Worker::admit_handshake_rate(Connection& c) {
  const HandshakeRate::Verdict verdict = context_.handshake_rate().admit(c.client, reactor_->now_ms());
  if (verdict == HandshakeRate::Verdict::admitted) return true;
  const bool per_ip = verdict == HandshakeRate::Verdict::over_per_ip;
  const Limit limit = per_ip ? Limit::handshake_rate_per_ip : Limit::handshake_rate_total;
  const uint32_t value = per_ip ? context_.handshake_rate().per_ip_limit() : context_.handshake_rate().total_limit();
  context_.counters().count(limit);
  context_.log_peer_error("{} refused with 429: limits.{} ({} per second) reached", describe_peer(c),
                         limit_name(limit), value);
  respond_and_close(c, 429, "text/plain; charset=utf-8",
                    per_ip ? "This client address opens connections faster than "
                             "limits.max_handshakes_per_second_per_ip allows; retry in a second.\n"
                           : "The server takes no more handshakes this second "
                             "(limits.max_handshakes_per_second); retry in a second.\n",
                    "Retry-After: 1\r\n");
  return false;
}

void Worker::answer_head(Connection& c, const proto::HttpRequestHead& head, MutableBytes rest) {
  if (!adopt_forwarded_client(c, head)) return;
  if (head.method == "HEAD") c.flags |= kHeadRequest;
  const std::string_view path = head.path();
  if (path == context_.config().health_path && !head.find("Upgrade")) {
    context_.counters().http_responses.fetch_add(1, std::memory_order_relaxed);
    return respond_and_close(c, 200, "application/json", context_.health_json());
  }
  // Health checks are exempt: a balancer polling /health must never be locked out.
  if (!admit_handshake_rate(c)) return;
  WorkerRoute* route = find_route(path);
  if (!route) {
    context_.counters().not_found.fetch_add(1, std::memory_order_relaxed);
    // A WebSocket client on a wrong path is usually a proxy rewriting it (proxy_pass with a
    // trailing slash, a location prefix): worth telling the operator.
    if (head.find("Upgrade") || head.find("Sec-WebSocket-Key")) {
      constexpr std::string_view kWrongPath =
          "no WebSocket route has this path; check the path the proxy forwards (proxy_pass with a "
          "URI part rewrites it)";
      context_.log_peer_error("{} GET {} rejected (not_found): {}", describe_peer(c), loggable(path), kWrongPath);
      remember_rejection(c, 404, "not_found", std::string(loggable(head.method)) + " " + std::string(loggable(path)),
                         kWrongPath);
    }
    std::string body = "No route for " + std::string(loggable(path)) + ". WebSocket routes here:";
    for (const WorkerRoute& r : routes_) body += " " + r.config->path;
    body += "; health: " + context_.config().health_path + "\n";
    return respond_and_close(c, 404, "text/plain; charset=utf-8", body);
  }
  const proto::HandshakeOutcome outcome = proto::check_upgrade(head, route->policy);
  if (outcome.error != proto::HandshakeError::none) return reject_handshake(c, outcome.error, head);
  upgrade(c, *route, head, outcome, rest);
}

void Worker::upgrade(Connection& c, WorkerRoute& route, const proto::HttpRequestHead& head,
                     const proto::HandshakeOutcome& outcome, MutableBytes rest) {
  const UpgradeRequest request{head, c.client, outcome.subprotocol, {&c, c.generation}};
  UpgradeVerdict verdict = route.handler->on_upgrade(request);
  if (c.fd < 0) return;
  switch (verdict.decision) {
    case UpgradeVerdict::Decision::accept: return open_websocket(c, route, outcome, rest);
    case UpgradeVerdict::Decision::refuse:
      return respond_and_close(c, verdict.status, "text/plain; charset=utf-8", verdict.body);
    case UpgradeVerdict::Decision::defer: break;
  }
  // The handshake timer keeps running: a decision that never comes is answered 503 by it.
  auto deferred = std::make_unique<DeferredUpgrade>();
  deferred->key.assign(outcome.key);
  deferred->subprotocol = outcome.subprotocol;
  deferred->deflate = outcome.deflate;
  deferred->rest.assign(reinterpret_cast<const char*>(rest.data()), rest.size());
  if (!c.pending_head) c.pending_head = std::make_unique<PendingHead>(http_limits_);
  c.pending_head->deferred = std::move(deferred);
  c.route = uint8_t(&route - routes_.data());
}

bool Worker::finish_upgrade(ConnectionRef ref, const UpgradeVerdict& verdict) {
  if (!ref.alive()) return false;
  Connection& c = *ref.connection;
  if (c.state != ConnectionState::http || !c.pending_head || !c.pending_head->deferred) return false;
  // Owned here until the 101 is written: the outcome's views point into it.
  std::unique_ptr<PendingHead> pending = std::move(c.pending_head);
  DeferredUpgrade& deferred = *pending->deferred;
  switch (verdict.decision) {
    case UpgradeVerdict::Decision::accept:
    case UpgradeVerdict::Decision::defer: {
      proto::HandshakeOutcome outcome;
      outcome.key = deferred.key;
      outcome.subprotocol = deferred.subprotocol;
      outcome.deflate = deferred.deflate;
      open_websocket(c, route_of(c), outcome,
                     {reinterpret_cast<uint8_t*>(deferred.rest.data()), deferred.rest.size()});
      break;
    }
    case UpgradeVerdict::Decision::refuse:
      respond_and_close(c, verdict.status, "text/plain; charset=utf-8", verdict.body);
      break;
  }
  return true;
}

void Worker::reject_handshake(Connection& c, proto::HandshakeError error,
                              const proto::HttpRequestHead& head) {
  context_.counters().count(error);
  const std::string_view sentence = proto::handshake_error_sentence(error);
  if (error == proto::HandshakeError::plain_http_request) {
    // A person with a browser, not a broken client: answer them, log at debug only.
    spdlog::debug("{} plain GET {}: answered with the WebSocket help page", describe_peer(c),
                  loggable(head.path()));
    return respond_and_close(c, 426, "text/html; charset=utf-8",
                             plain_request_page(websocket_scheme(c, head), head.path()),
                             "Upgrade: websocket\r\n");
  }
  std::string body(sentence);
  if (error == proto::HandshakeError::no_acceptable_subprotocol) {
    // Name what is served, so the client's author knows what to offer.
    body += " Served here:";
    if (WorkerRoute* route = find_route(head.path()))
      for (const std::string& served : route->config->subprotocols) body += " " + served;
    body += ".";
  }
  context_.log_peer_error("{} {} {} rejected ({}): {}", describe_peer(c), loggable(head.method),
                         loggable(head.path()), proto::handshake_error_name(error), body);
  remember_rejection(c, proto::handshake_status(error), proto::handshake_error_name(error),
                     std::string(loggable(head.method)) + " " + std::string(loggable(head.path())), body);
  const bool version = error == proto::HandshakeError::missing_version ||
                       error == proto::HandshakeError::unsupported_version;
  const bool method = error == proto::HandshakeError::method_not_get;
  respond_and_close(c, proto::handshake_status(error), "text/plain; charset=utf-8", body + "\n",
                    version ? "Sec-WebSocket-Version: 13\r\n" : method ? "Allow: GET\r\n" : "");
}

void Worker::open_websocket(Connection& c, WorkerRoute& route,
                            const proto::HandshakeOutcome& outcome, MutableBytes rest) {
  char response[proto::kUpgradeResponseReserve + proto::kMaxDeflateResponseSize];
  const size_t size = proto::write_upgrade_response(response, outcome.key, outcome.subprotocol,
                                                    outcome.deflate.response_value());
  iovec iov{response, size};
  if (reactor_->send(c, &iov, 1, /*force=*/true) == net::SendResult::closed) return;
  context_.counters().upgrades.fetch_add(1, std::memory_order_relaxed);
  spdlog::debug("{} opened {}", describe_peer(c), route.config->path);
  c.route = uint8_t(&route - routes_.data());
  c.state = ConnectionState::open;
  if (outcome.deflate.accepted) compression_.open(c, outcome.deflate.agreed);
  else if (outcome.deflate.offers)
    spdlog::debug("{} permessage-deflate not agreed: {}", describe_peer(c),
                  proto::deflate_decline_name(outcome.deflate.first_decline));
  c.last_rx_tick = c.last_tx_tick = tick();
  arm_open_timer(c);
  {
    WorkerSession session(*this, c);
    route.handler->on_open(session);
  }
  // Bytes after the head in the same read are the first frame bytes: never drop them.
  if (!rest.empty() && c.fd >= 0 && c.state == ConnectionState::open) read_frames(c, rest);
}

void Worker::respond_and_close(Connection& c, uint16_t status, std::string_view content_type,
                               std::string_view body, std::string_view extra_headers) {
  const std::string response = proto::make_http_response(
      status, content_type, body, extra_headers, /*headers_only=*/(c.flags & kHeadRequest) != 0);
  iovec iov{const_cast<char*>(response.data()), response.size()};
  reactor_->send(c, &iov, 1, /*force=*/true);
  finish(c);
}

}  // namespace wshub::server
