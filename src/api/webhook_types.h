// The vocabulary of webhook calls: what an endpoint is configured with, how a call ended, and
// the completion a worker thread gets back on its own reactor. Knows nothing about libcurl,
// threads or which hub event a call carries.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "net/mailbox.h"

namespace wshub::api {

// How one webhook call ended. Every call ends with exactly one of these.
enum class WebhookOutcome : uint8_t {
  ok,                  // the backend answered 2xx; `body` holds its answer
  timeout,             // no complete answer within the call's timeout (queue time included)
  connect_failed,      // refused, unreachable, name not resolved, TLS handshake failed, or no
                       // connection within connect_timeout_ms
  http_status_error,   // the backend answered with a status outside 2xx; `body` holds it
  transport_error,     // the connection failed after the request went out (closed mid-answer,
                       // reset, malformed HTTP)
  response_too_large,  // the answer passed max_response_bytes; the transfer was aborted
  circuit_open,        // the endpoint's breaker is open: the backend was not called
  queue_full,          // max_queued_requests calls already wait: the backend was not called
  shutting_down,       // the client stopped before the call could finish
};
inline constexpr size_t kWebhookOutcomeCount = size_t(WebhookOutcome::shutting_down) + 1;

// "ok", "timeout", ... as used in logs and metric labels.
const char* webhook_outcome_name(WebhookOutcome outcome);

// A backend failure for the circuit breaker and for retries: the endpoint is down or sick, as
// opposed to an answer it chose to give (a 4xx) or a call that never reached it.
bool is_backend_failure(WebhookOutcome outcome, uint16_t http_status);

// Whether a failed call should be made again.
enum class WebhookDelivery : uint8_t {
  // rpc, connect, publish, subscribe: a client is waiting. One attempt; a failure answers the
  // client at once (error 116).
  once,
  // disconnect, inbox receipts: notices that must arrive. Retried with backoff on backend
  // failures until it succeeds, max_attempts is reached or max_total_ms has passed.
  must_arrive,
};

struct WebhookResult {
  WebhookOutcome outcome = WebhookOutcome::shutting_down;
  uint16_t http_status = 0;    // 0 when no HTTP answer arrived
  uint32_t attempts = 0;       // HTTP attempts made (0 when the backend was never called)
  uint64_t latency_us = 0;     // from submit to completion, queueing and retries included
  const char* detail = "";     // a static sentence for logs (libcurl's, or ours); never null
  std::string body;            // the answer's body, at most max_response_bytes
};

// The completion of one call: the caller derives from it, implements `run()` (inherited from
// MailItem), and reads `result()` there. The client posts it to the submitting reactor exactly
// once, so `run()` happens on that reactor's thread; the mailbox then calls `dispose()`, which
// deletes it unless the subclass says otherwise. A reactor destroyed before running it
// disposes it without `run()`.
class WebhookCompletion : public net::MailItem {
 public:
  WebhookResult& result() { return result_; }
  const WebhookResult& result() const { return result_; }

 private:
  WebhookResult result_;
};

struct WebhookRetryPolicy {
  uint32_t max_attempts = 6;         // including the first
  uint32_t base_delay_ms = 200;      // the cap of the first backoff; doubles per attempt
  uint32_t max_delay_ms = 10'000;    // the cap of any one backoff
  uint32_t max_total_ms = 60'000;    // no attempt starts later than this after submit
};

struct WebhookBreakerPolicy {
  uint32_t failure_threshold = 5;    // consecutive backend failures that open the breaker
  uint32_t open_ms = 5'000;          // how long it stays open before one probe may pass
};

struct WebhookEndpointConfig {
  std::string name;                  // for logs and metric labels; unique per client
  std::string url;                   // http:// or https://
  std::string secret;                // HMAC-SHA256 key for X-Wshub-Signature; required
  uint32_t timeout_ms = 3'000;       // default per-call timeout, from submit to the last byte
  uint32_t connect_timeout_ms = 1'000;
  uint32_t max_concurrent = 64;      // calls in flight at once (and pooled connections)
  uint32_t max_queued = 1'024;       // calls waiting for a slot or a retry; past it: queue_full
  uint32_t keepalive_idle_ms = 30'000;  // an idle pooled connection older than this is closed
  size_t max_response_bytes = 1 << 20;
  std::string ca_file;               // https: a CA bundle to trust instead of the system's
  WebhookRetryPolicy retry;
  WebhookBreakerPolicy breaker;
};

// Checks one endpoint's settings; returns an empty string when they are usable, otherwise a
// sentence naming the key and the fix (config errors are reported at start-up).
std::string validate_webhook_endpoint(const WebhookEndpointConfig& config);

}  // namespace wshub::api
