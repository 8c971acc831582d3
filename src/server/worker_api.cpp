// The keep-alive HTTP side of a worker, for connections on `api` listeners: requests read one
// after another (pipelined bytes wait while one is being answered), handed to the HttpService,
// answered in order, with request, answer and keep-alive timeouts.
#include <spdlog/spdlog.h>

#include "proto/http_request_reader.h"
#include "proto/http_response.h"
#include "server/http_service.h"
#include "server/worker.h"

namespace wshub::server {

// An API connection's reading state; it exists from the first byte on.
class ApiConnectionState final : public RouteState {
 public:
  explicit ApiConnectionState(const proto::HttpMessageLimits& limits) : reader(limits) {}
  proto::HttpRequestReader reader;
  std::string pending;  // bytes received and not consumed yet
  std::string body;     // a body that arrived over several reads
  std::string response;
  std::string head_text;  // the head of a request whose body spans reads: its views must outlive `pending`
  bool head_copied = false;  // api_head_ must be parsed again from head_text before use
  uint32_t serial = 0;  // of the request being answered
  bool awaiting = false;
  bool keep_alive = true;
  bool headers_only = false;
  bool reading = false;  // inside read_api: an answer given now must not read further itself
};

namespace {

std::string_view query_of(std::string_view target) {
  const size_t question = target.find('?');
  return question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);
}

}  // namespace

ApiConnectionState& Worker::api_state(Connection& c) {
  if (!c.route_state) {
    proto::HttpMessageLimits limits;
    limits.head = http_limits_;
    limits.body.max_body_bytes = context_.config().max_api_body_bytes;
    c.route_state = std::make_unique<ApiConnectionState>(limits);
  }
  return static_cast<ApiConnectionState&>(*c.route_state);
}

void Worker::read_api(Connection& c, MutableBytes data) {
  ApiConnectionState& st = api_state(c);
  if (!c.filter && st.serial == 0 && starts_with_tls_client_hello(st.pending, data))
    return refuse_tls_client_hello(c);
  const size_t hold_limit = size_t(http_limits_.max_head_bytes) + context_.config().max_api_body_bytes;
  if (st.awaiting || st.reading) {
    // A pipelined request waits until the one before it is answered.
    if (st.pending.size() + data.size() > hold_limit) {
      context_.log_peer_error("{} sent more than a request's worth of bytes while its previous "
                              "request was being answered; closing", describe_peer(c));
      return reactor_->abort(c);
    }
    st.pending.append(reinterpret_cast<const char*>(data.data()), data.size());
    return;
  }
  if (!st.pending.empty()) st.pending.append(reinterpret_cast<const char*>(data.data()), data.size());
  else if (!data.empty()) st.pending.assign(reinterpret_cast<const char*>(data.data()), data.size());
  serve_api(c, st);
}

// Reads and answers requests from `st.pending` until it needs more bytes or waits for an answer.
void Worker::serve_api(Connection& c, ApiConnectionState& st) {
  st.reading = true;
  std::string_view input = st.pending;
  size_t consumed_total = 0;
  size_t head_at = 0;       // where in `pending` the head of the request being read starts
  size_t head_length = 0;
  bool head_unanswered = false;  // a head was read in this pass and its request is not complete
  bool stop = false;
  // A request answered with Connection: close finishes the connection: nothing after it is read.
  while (!stop && c.fd >= 0 && c.state == ConnectionState::http && !st.awaiting) {
    const proto::HttpReadEvent event = st.reader.next(input, api_head_, st.body);
    // The head's views point into `pending`, which stays put during this pass; a head whose
    // body is still incomplete at the end of it is copied then (below) and parsed again.
    if (event.kind == proto::HttpReadEvent::Kind::head) {
      head_at = consumed_total;
      head_length = event.consumed;
      head_unanswered = true;
      st.head_copied = false;
    }
    input.remove_prefix(event.consumed);
    consumed_total += event.consumed;
    switch (event.kind) {
      case proto::HttpReadEvent::Kind::need_more:
      case proto::HttpReadEvent::Kind::body: stop = event.kind == proto::HttpReadEvent::Kind::need_more; break;
      case proto::HttpReadEvent::Kind::head:
        if (st.reader.framing().expect_continue) {
          iovec iov{const_cast<char*>(proto::kHttpContinue.data()), proto::kHttpContinue.size()};
          reactor_->send(c, &iov, 1, /*force=*/true);
        }
        break;
      case proto::HttpReadEvent::Kind::complete: {
        context_.counters().http_responses.fetch_add(1, std::memory_order_relaxed);
        head_unanswered = false;
        st.awaiting = true;
        st.keep_alive = st.reader.framing().keep_alive;
        st.headers_only = st.reader.framing().head_method;
        ++st.serial;
        reactor_->arm_timer(c, reactor_->now_ms() + context_.config().api_response_timeout_ms);
        if (st.head_copied &&
            proto::parse_complete_head(st.head_text, http_limits_, api_head_) != proto::HttpHeadError::none) {
          // It parsed once; it cannot fail now. Refuse rather than read freed views if it does.
          st.awaiting = false;
          return reactor_->abort(c);
        }
        const std::string_view target = api_head_.target;
        HttpRequest request{api_head_,     api_head_.method,      api_head_.path(), query_of(target),
                            event.body,    c.client,              index_,
                            HttpResponder(this, {&c, c.generation}, st.serial)};
        context_.config().api_service->on_request(request);
        break;
      }
      case proto::HttpReadEvent::Kind::error: {
        const proto::HttpReadError& error = st.reader.error();
        context_.counters().count(error);
        context_.log_peer_error("{} bad API request: {}: {}", describe_peer(c), error.name(), error.sentence());
        HttpResponse response;
        response.status = error.status();
        response.content_type = "text/plain; charset=utf-8";
        response.body = std::string(error.sentence()) + "\n";
        st.awaiting = true;
        st.keep_alive = false;
        respond_http({&c, c.generation}, st.serial, response);
        stop = true;
        break;
      }
    }
  }
  if (c.fd < 0) return;
  st.reading = false;
  if (head_unanswered) {
    // A body still to come: keep the head, since `pending` is about to change.
    st.head_text.assign(std::string_view(st.pending).substr(head_at, head_length));
    st.head_copied = true;
  }
  st.pending.erase(0, consumed_total);
  if (!st.awaiting && c.state == ConnectionState::http) {
    // Idle between requests, or inside one: a partial request has its request timeout, an idle
    // keep-alive connection the idle timeout.
    const uint32_t wait = st.reader.mid_message() || !st.pending.empty()
                              ? context_.config().limits.handshake_timeout_ms
                              : context_.config().limits.idle_timeout_ms;
    reactor_->arm_timer(c, reactor_->now_ms() + wait);
  }
}

bool Worker::respond_http(ConnectionRef ref, uint32_t serial, const HttpResponse& response) {
  if (!ref.alive()) return false;
  Connection& c = *ref.connection;
  if (!(c.flags & kApiConnection) || c.state != ConnectionState::http || !c.route_state) return false;
  ApiConnectionState& st = static_cast<ApiConnectionState&>(*c.route_state);
  if (!st.awaiting || st.serial != serial) return false;
  st.awaiting = false;
  proto::HttpResponseFields fields;
  fields.status = response.status;
  fields.content_type = response.content_type;
  fields.extra_headers = response.extra_headers;
  fields.answering(st.reader.framing());
  if (!st.keep_alive) fields.close = true;
  st.response.clear();
  proto::append_http_response(st.response, fields, response.body);
  iovec iov{st.response.data(), st.response.size()};
  reactor_->send(c, &iov, 1, /*force=*/true);
  if (c.fd < 0) return true;
  if (fields.close) {
    finish(c);
    return true;
  }
  if (!st.reading) serve_api(c, st);  // requests that waited behind this one
  return true;
}

void Worker::on_api_timer(Connection& c) {
  ApiConnectionState* st = static_cast<ApiConnectionState*>(c.route_state.get());
  if (st && st->awaiting) {
    context_.log_peer_error("{} API request unanswered within {} ms: 504", describe_peer(c),
                            context_.config().api_response_timeout_ms);
    HttpResponse response;
    response.status = 504;
    response.content_type = "application/json";
    response.body = R"({"error":{"code":504,"message":"the request was not answered in time"}})";
    st->keep_alive = false;
    respond_http({&c, c.generation}, st->serial, response);
    return;
  }
  if (st && (st->reader.mid_message() || !st->pending.empty())) {
    context_.counters().count(Limit::handshake_timeout);
    HttpResponse response;
    response.status = 408;
    response.content_type = "text/plain; charset=utf-8";
    response.body = "The request did not arrive within limits.handshake_timeout_ms.\n";
    st->awaiting = true;
    st->keep_alive = false;
    respond_http({&c, c.generation}, st->serial, response);
    return;
  }
  finish(c);  // an idle keep-alive connection
}

}  // namespace wshub::server
