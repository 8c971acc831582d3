#include "api/webhook_engine.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>

#include "base/clock.h"
#include "net/reactor.h"

namespace wshub::api {
namespace {

// How often calls waiting for a slot are checked against their deadline: a waiting call
// completes with timeout at most this late.
constexpr uint64_t kWaitingSweepMs = 20;

uint64_t now_ms() { return monotonic_ns() / 1'000'000; }

int64_t unix_now() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t(ts.tv_sec);
}

uint64_t random_seed() {
  std::random_device device;
  return uint64_t(device()) << 32 | device();
}

uint32_t connection_budget(const std::vector<WebhookEndpointConfig>& configs) {
  uint64_t total = 0;
  for (const auto& c : configs) total += c.max_concurrent;
  return uint32_t(std::clamp<uint64_t>(total, 1, 65'536));
}

}  // namespace

void post_webhook_result(WebhookEndpointCounters& counters, net::Reactor* reactor,
                         WebhookCompletion* completion, WebhookOutcome outcome,
                         uint16_t http_status, uint32_t attempts, uint64_t submitted_ns,
                         const char* detail) {
  counters.calls[size_t(outcome)].fetch_add(1, std::memory_order_relaxed);
  if (!completion) return;
  WebhookResult& result = completion->result();
  result.outcome = outcome;
  result.http_status = http_status;
  result.attempts = attempts;
  result.latency_us = (monotonic_ns() - submitted_ns) / 1000;
  result.detail = detail;
  // A partial answer means nothing; an error status's body may say why.
  if (outcome != WebhookOutcome::ok && outcome != WebhookOutcome::http_status_error)
    result.body.clear();
  reactor->post(completion);
}

void WebhookCall::run() { engine->accept(*this); }

class WebhookEngine::StopItem final : public net::MailItem {
 public:
  StopItem(WebhookEngine& engine, uint32_t grace_ms) : engine_(engine), grace_ms_(grace_ms) {}
  void run() override { engine_.begin_stop(grace_ms_); }

 private:
  WebhookEngine& engine_;
  uint32_t grace_ms_;
};

WebhookEngine::WebhookEngine(const std::vector<WebhookEndpointConfig>& configs,
                             WebhookEndpointCounters* counters)
    : loop_(connection_budget(configs)), schedule_(random_seed()), delivery_nonce_(random_seed()) {
  loop_.watch_wake_fd(mailbox_.wake_fd());
  for (size_t i = 0; i < configs.size(); ++i)
    endpoints_.push_back(std::make_unique<Endpoint>(configs[i], counters[i]));
}

WebhookEngine::~WebhookEngine() = default;

void WebhookEngine::request_stop(uint32_t grace_ms) { mailbox_.post(new StopItem(*this, grace_ms)); }

void WebhookEngine::run() {
  for (;;) {
    if (loop_.run_once(wait_ms(now_ms()))) mailbox_.drain();
    loop_.take_finished([this](CURL* easy, CURLcode code) { finish_attempt(easy, code); });
    uint64_t now = now_ms();
    start_due_retries(now);
    if (now >= next_sweep_ms_) expire_waiting(now);
    for (auto& ep : endpoints_) dispatch(*ep, now);
    if (stopping_) {
      if (in_flight_.empty()) break;
      if (now >= stop_deadline_ms_) {
        cancel_in_flight();
        break;
      }
    }
  }
  // Submitters stop posting before the stop item is posted, so this finds nothing; it is here
  // so that no call can be left unanswered if that ever changes.
  mailbox_.drain();
}

int WebhookEngine::wait_ms(uint64_t now) const {
  uint64_t due = UINT64_MAX;
  if (!retries_.empty()) due = retries_.top().due_ms;
  for (const auto& ep : endpoints_)
    if (ep->waiting_head) due = std::min(due, next_sweep_ms_);
  if (stopping_) due = std::min(due, stop_deadline_ms_);
  if (due == UINT64_MAX) return -1;
  return due <= now ? 0 : int(std::min<uint64_t>(due - now, 60'000));
}

void WebhookEngine::accept(WebhookCall& call) {
  Endpoint& ep = *endpoints_[call.endpoint];
  if (stopping_) {
    ep.counters.queued.fetch_sub(1, std::memory_order_relaxed);
    complete(ep, call, WebhookOutcome::shutting_down, 0, "the webhook client is stopping");
    return;
  }
  call.delivery_id = delivery_nonce_ + delivery_sequence_++;
  enqueue_waiting(ep, call);
}

void WebhookEngine::enqueue_waiting(Endpoint& ep, WebhookCall& call) {
  call.next = nullptr;
  if (ep.waiting_tail)
    ep.waiting_tail->next = &call;
  else
    ep.waiting_head = &call;
  ep.waiting_tail = &call;
}

WebhookCall* WebhookEngine::pop_waiting(Endpoint& ep) {
  WebhookCall* call = ep.waiting_head;
  if (!call) return nullptr;
  ep.waiting_head = call->next;
  if (!ep.waiting_head) ep.waiting_tail = nullptr;
  call->next = nullptr;
  return call;
}

void WebhookEngine::dispatch(Endpoint& ep, uint64_t now) {
  while (ep.waiting_head && ep.in_flight < ep.config.max_concurrent && !stopping_) {
    WebhookCall& call = *pop_waiting(ep);
    ep.counters.queued.fetch_sub(1, std::memory_order_relaxed);
    if (call.delivery == WebhookDelivery::once && now >= call.deadline_ms) {
      complete(ep, call, WebhookOutcome::timeout, 0,
               "timed out waiting for a free slot (all max_concurrent calls busy)");
      continue;
    }
    BreakerTransition transition;
    auto admission = ep.breaker.admit(now, transition);
    note_transition(ep, transition, "cool-down over");
    if (admission == CircuitBreaker::Admission::refused) {
      refused_by_breaker(ep, call, now);
      continue;
    }
    start_attempt(ep, call, admission == CircuitBreaker::Admission::probe, now);
  }
}

void WebhookEngine::start_attempt(Endpoint& ep, WebhookCall& call, bool probe, uint64_t now) {
  call.probe = probe;
  call.easy = ep.handles.take();
  ++call.attempts;
  uint32_t timeout = call.delivery == WebhookDelivery::once ? uint32_t(call.deadline_ms - now)
                                                            : call.timeout_ms;
  if (!call.easy || !prepare_attempt(call, ep.config, timeout, unix_now())) {
    if (call.easy) ep.handles.give_back(call.easy);
    call.easy = nullptr;
    if (probe) ep.breaker.abandon_probe();
    complete(ep, call, WebhookOutcome::transport_error, 0, "libcurl could not set up the request");
    return;
  }
  call.attempt_started_ns = monotonic_ns();
  call.in_flight_slot = in_flight_.size();
  in_flight_.push_back(&call);
  ++ep.in_flight;
  ep.counters.in_flight.fetch_add(1, std::memory_order_relaxed);
  ep.counters.attempts.fetch_add(1, std::memory_order_relaxed);
  if (call.attempts > 1) ep.counters.retries.fetch_add(1, std::memory_order_relaxed);
  if (!loop_.add(call.easy)) {
    end_attempt(ep, call);
    if (probe) ep.breaker.abandon_probe();
    complete(ep, call, WebhookOutcome::transport_error, 0, "libcurl refused the transfer");
  }
}

void WebhookEngine::end_attempt(Endpoint& ep, WebhookCall& call) {
  loop_.remove(call.easy);
  release_attempt(call);
  ep.handles.give_back(call.easy);
  call.easy = nullptr;
  WebhookCall* moved = in_flight_.back();
  moved->in_flight_slot = call.in_flight_slot;
  in_flight_[call.in_flight_slot] = moved;
  in_flight_.pop_back();
  --ep.in_flight;
  ep.counters.in_flight.fetch_sub(1, std::memory_order_relaxed);
}

void WebhookEngine::finish_attempt(CURL* easy, CURLcode code) {
  WebhookCall* call_ptr = nullptr;
  curl_easy_getinfo(easy, CURLINFO_PRIVATE, &call_ptr);
  WebhookCall& call = *call_ptr;
  Endpoint& ep = *endpoints_[call.endpoint];
  uint64_t elapsed_us = (monotonic_ns() - call.attempt_started_ns) / 1000;
  AttemptResult result = classify_attempt(call, code, ep.config, elapsed_us / 1000);
  end_attempt(ep, call);
  ep.counters.latency.observe(elapsed_us);
  uint64_t now = now_ms();
  bool failure = is_backend_failure(result.outcome, result.http_status);
  note_transition(ep, ep.breaker.record(failure, call.probe, now),
                  webhook_outcome_name(result.outcome));
  if (result.outcome != WebhookOutcome::ok && call.delivery == WebhookDelivery::must_arrive &&
      !stopping_ && is_retryable(result.outcome, result.http_status)) {
    if (schedule_retry(ep, call, now)) return;
    if (may_log())
      spdlog::warn("webhook {}: gave up on a notice after {} attempts (last: {}, HTTP {}: {})",
                   ep.config.name, call.attempts, webhook_outcome_name(result.outcome),
                   result.http_status, result.detail);
  }
  complete(ep, call, result.outcome, result.http_status, result.detail);
}

bool WebhookEngine::schedule_retry(Endpoint& ep, WebhookCall& call, uint64_t now) {
  uint64_t not_before = ep.breaker.state() == BreakerState::open ? ep.breaker.open_until_ms() : 0;
  auto due = schedule_.next_attempt_ms(ep.config.retry, call.attempts, call.submitted_ns / 1'000'000,
                                       now, not_before);
  if (!due) return false;
  ep.counters.queued.fetch_add(1, std::memory_order_relaxed);
  retries_.push({*due, &call});
  return true;
}

void WebhookEngine::refused_by_breaker(Endpoint& ep, WebhookCall& call, uint64_t now) {
  if (call.delivery == WebhookDelivery::must_arrive && schedule_retry(ep, call, now)) return;
  complete(ep, call, WebhookOutcome::circuit_open, 0,
           "the endpoint's circuit breaker is open after repeated failures");
}

void WebhookEngine::start_due_retries(uint64_t now) {
  while (!retries_.empty() && retries_.top().due_ms <= now) {
    WebhookCall& call = *retries_.top().call;
    retries_.pop();
    enqueue_waiting(*endpoints_[call.endpoint], call);  // still counted as queued
  }
}

void WebhookEngine::expire_waiting(uint64_t now) {
  next_sweep_ms_ = now + kWaitingSweepMs;
  for (auto& ep : endpoints_) {
    WebhookCall* kept_head = nullptr;
    WebhookCall* kept_tail = nullptr;
    while (WebhookCall* call = pop_waiting(*ep)) {
      if (call->delivery == WebhookDelivery::once && now >= call->deadline_ms) {
        ep->counters.queued.fetch_sub(1, std::memory_order_relaxed);
        complete(*ep, *call, WebhookOutcome::timeout, 0,
                 "timed out waiting for a free slot (all max_concurrent calls busy)");
        continue;
      }
      (kept_tail ? kept_tail->next : kept_head) = call;
      kept_tail = call;
    }
    ep->waiting_head = kept_head;
    ep->waiting_tail = kept_tail;
  }
}

void WebhookEngine::begin_stop(uint32_t grace_ms) {
  stopping_ = true;
  stop_deadline_ms_ = now_ms() + grace_ms;
  for (auto& ep : endpoints_) {
    while (WebhookCall* call = pop_waiting(*ep)) {
      ep->counters.queued.fetch_sub(1, std::memory_order_relaxed);
      complete(*ep, *call, WebhookOutcome::shutting_down, 0, "the webhook client is stopping");
    }
  }
  while (!retries_.empty()) {
    WebhookCall& call = *retries_.top().call;
    retries_.pop();
    Endpoint& ep = *endpoints_[call.endpoint];
    ep.counters.queued.fetch_sub(1, std::memory_order_relaxed);
    complete(ep, call, WebhookOutcome::shutting_down, 0, "the webhook client stopped before a retry");
  }
}

void WebhookEngine::cancel_in_flight() {
  while (!in_flight_.empty()) {
    WebhookCall& call = *in_flight_.back();
    Endpoint& ep = *endpoints_[call.endpoint];
    end_attempt(ep, call);
    if (call.probe) ep.breaker.abandon_probe();
    complete(ep, call, WebhookOutcome::shutting_down, 0,
             "the webhook client stopped before the backend answered (shutdown grace over)");
  }
}

void WebhookEngine::note_transition(Endpoint& ep, BreakerTransition transition, const char* cause) {
  if (transition == BreakerTransition::none) return;
  auto& counters = ep.counters;
  counters.breaker_open_until_ms.store(ep.breaker.open_until_ms(), std::memory_order_relaxed);
  counters.breaker_state.store(uint8_t(ep.breaker.state()), std::memory_order_relaxed);
  const auto& policy = ep.config.breaker;
  switch (transition) {
    case BreakerTransition::opened:
      counters.breaker_opened.fetch_add(1, std::memory_order_relaxed);
      if (may_log())
        spdlog::warn("webhook {}: circuit opened after {} consecutive failures (last: {}); calls "
                     "fail at once with circuit_open for {} ms",
                     ep.config.name, policy.failure_threshold, cause, policy.open_ms);
      break;
    case BreakerTransition::reopened:
      counters.breaker_opened.fetch_add(1, std::memory_order_relaxed);
      if (may_log())
        spdlog::warn("webhook {}: probe failed ({}); circuit open again for {} ms",
                     ep.config.name, cause, policy.open_ms);
      break;
    case BreakerTransition::half_opened:
      if (may_log())
        spdlog::info("webhook {}: circuit half-open: one probe call goes to the backend",
                     ep.config.name);
      break;
    case BreakerTransition::closed:
      counters.breaker_closed.fetch_add(1, std::memory_order_relaxed);
      if (may_log())
        spdlog::info("webhook {}: probe succeeded; circuit closed", ep.config.name);
      break;
    case BreakerTransition::none:
      break;
  }
}

bool WebhookEngine::may_log() {
  if (!log_limiter_.allow()) return false;
  if (uint64_t suppressed = log_limiter_.take_suppressed())
    spdlog::warn("webhooks: {} similar lines were suppressed by the log rate limit", suppressed);
  return true;
}

void WebhookEngine::complete(Endpoint& ep, WebhookCall& call, WebhookOutcome outcome,
                             uint16_t http_status, const char* detail) {
  post_webhook_result(ep.counters, call.reactor, call.completion, outcome, http_status,
                      call.attempts, call.submitted_ns, detail);
  delete &call;
}

}  // namespace wshub::api
