// The webhook client's thread: takes submitted calls from its mailbox, queues them per
// endpoint, admits them through the endpoint's circuit breaker and concurrency cap, runs their
// HTTP attempts on libcurl's multi-socket loop, retries notices that must arrive, and posts
// each completion to the reactor that submitted it. Everything here runs on that one thread,
// except mailbox() and request_stop(). Internal to WebhookClient.
#pragma once

#include <cstdint>
#include <memory>
#include <queue>
#include <vector>

#include "api/webhook_breaker.h"
#include "api/webhook_call.h"
#include "api/webhook_counters.h"
#include "api/webhook_multi.h"
#include "api/webhook_retry.h"
#include "api/webhook_transfer.h"
#include "base/log_limiter.h"
#include "net/mailbox.h"

namespace wshub::api {

// Fills in `completion`'s result and posts it to `reactor`, and counts the outcome. Any thread.
void post_webhook_result(WebhookEndpointCounters& counters, net::Reactor* reactor,
                         WebhookCompletion* completion, WebhookOutcome outcome,
                         uint16_t http_status, uint32_t attempts, uint64_t submitted_ns,
                         const char* detail);

class WebhookEngine {
 public:
  // `configs` and `counters` (one per endpoint, same order) outlive the engine.
  WebhookEngine(const std::vector<WebhookEndpointConfig>& configs,
                WebhookEndpointCounters* counters);
  ~WebhookEngine();
  WebhookEngine(const WebhookEngine&) = delete;
  WebhookEngine& operator=(const WebhookEngine&) = delete;

  // Any thread: where submitters post calls.
  net::Mailbox& mailbox() { return mailbox_; }
  // Any thread, once, after the last call was posted: stop once in-flight attempts end or
  // `grace_ms` has passed; everything else completes with shutting_down at once.
  void request_stop(uint32_t grace_ms);

  // The client's thread: runs until the stop has finished. Every call posted before
  // request_stop has completed when it returns.
  void run();

  // The client's thread (from WebhookCall::run): takes a submitted call.
  void accept(WebhookCall& call);

 private:
  struct Endpoint {
    Endpoint(const WebhookEndpointConfig& c, WebhookEndpointCounters& n)
        : config(c), counters(n), breaker(c.breaker), handles(c) {}
    const WebhookEndpointConfig& config;
    WebhookEndpointCounters& counters;
    CircuitBreaker breaker;
    EasyHandlePool handles;
    WebhookCall* waiting_head = nullptr;  // FIFO of calls waiting for a slot
    WebhookCall* waiting_tail = nullptr;
    uint32_t in_flight = 0;
  };
  struct RetryEntry {
    uint64_t due_ms;
    WebhookCall* call;
    bool operator>(const RetryEntry& other) const { return due_ms > other.due_ms; }
  };
  class StopItem;

  int wait_ms(uint64_t now_ms) const;
  void begin_stop(uint32_t grace_ms);
  void enqueue_waiting(Endpoint& ep, WebhookCall& call);
  WebhookCall* pop_waiting(Endpoint& ep);
  void dispatch(Endpoint& ep, uint64_t now_ms);
  void start_attempt(Endpoint& ep, WebhookCall& call, bool probe, uint64_t now_ms);
  void finish_attempt(CURL* easy, CURLcode code);
  // Takes the call out of the in-flight set and gives its handle back to the pool.
  void end_attempt(Endpoint& ep, WebhookCall& call);
  void refused_by_breaker(Endpoint& ep, WebhookCall& call, uint64_t now_ms);
  bool schedule_retry(Endpoint& ep, WebhookCall& call, uint64_t now_ms);
  void start_due_retries(uint64_t now_ms);
  void expire_waiting(uint64_t now_ms);
  void cancel_in_flight();
  // Whether a line about an endpoint's trouble may be logged now (a flapping backend must not
  // flood the log); says how many were suppressed since the last one.
  bool may_log();
  void note_transition(Endpoint& ep, BreakerTransition transition, const char* cause);
  // Completes a call that is no longer queued nor in flight, and frees it.
  void complete(Endpoint& ep, WebhookCall& call, WebhookOutcome outcome, uint16_t http_status,
                const char* detail);

  net::Mailbox mailbox_;
  CurlMultiLoop loop_;  // declared before the endpoints: their easy handles go first
  std::vector<std::unique_ptr<Endpoint>> endpoints_;
  std::vector<WebhookCall*> in_flight_;
  std::priority_queue<RetryEntry, std::vector<RetryEntry>, std::greater<>> retries_;
  RetrySchedule schedule_;
  LogLimiter log_limiter_{5};
  uint64_t delivery_nonce_;
  uint64_t delivery_sequence_ = 0;
  uint64_t next_sweep_ms_ = 0;
  bool stopping_ = false;
  uint64_t stop_deadline_ms_ = 0;
};

}  // namespace wshub::api
