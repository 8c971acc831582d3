// Webhook calls from worker threads to the backend: any thread submits a call (endpoint, JSON
// body, timeout, completion) without blocking, and gets the completion back on its own
// reactor's thread. The HTTP work happens on one dedicated thread (libcurl's multi-socket API
// on its own epoll loop). Knows nothing about hub events, which endpoint serves which event,
// or how the answer is interpreted.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "api/webhook_counters.h"
#include "api/webhook_types.h"

namespace wshub::net {
class Reactor;
}

namespace wshub::api {

class WebhookEngine;

struct WebhookEndpointId {
  uint16_t index = 0;
};

struct WebhookRequest {
  WebhookEndpointId endpoint;
  std::string body;                                  // JSON, sent as is and signed
  WebhookDelivery delivery = WebhookDelivery::once;
  // 0: the endpoint's timeout_ms. For `once` it bounds the whole call from submit (time spent
  // waiting for a free slot included); for `must_arrive` it bounds each attempt.
  uint32_t timeout_ms = 0;
};

class WebhookClient {
 public:
  // Validates the endpoints and starts the client's thread. Throws std::runtime_error (start-up
  // only) naming the bad setting, or when libcurl cannot be initialised.
  explicit WebhookClient(std::vector<WebhookEndpointConfig> endpoints);
  // shutdown(0) unless shutdown() already ran.
  ~WebhookClient();
  WebhookClient(const WebhookClient&) = delete;
  WebhookClient& operator=(const WebhookClient&) = delete;

  std::optional<WebhookEndpointId> find_endpoint(std::string_view name) const;

  // Any thread; never blocks and never does I/O. Takes ownership of `completion`, which is
  // posted to `reactor` exactly once when the call ends, however it ends: at once (from this
  // thread) for queue_full, circuit_open (only for `once` calls; notices wait for the breaker)
  // and shutting_down, otherwise from the client's thread. `reactor` must outlive the client's
  // shutdown().
  void submit(WebhookRequest request, net::Reactor& reactor, WebhookCompletion* completion);
  // Fire and forget (a `must_arrive` notice, usually): the outcome is only counted.
  void notify(WebhookRequest request);

  // Stops accepting (later submits complete with shutting_down), completes every queued call
  // and every call waiting for a retry with shutting_down, lets calls in flight finish for up
  // to `grace_ms` and then cancels them with shutting_down, and joins the thread. Every
  // completion has been posted when it returns (the reactors need not be running: a completion
  // a reactor never runs is disposed with it). Blocks for up to `grace_ms`, so call it from the
  // thread that stops the server, not from a worker. Calls after the first return at once.
  void shutdown(uint32_t grace_ms);

  size_t endpoint_count() const { return endpoints_.size(); }
  const WebhookEndpointConfig& endpoint_config(WebhookEndpointId id) const {
    return endpoints_[id.index];
  }
  // Readable from any thread at any time.
  const WebhookEndpointCounters& counters(WebhookEndpointId id) const {
    return counters_[id.index];
  }

 private:
  void start(net::Reactor* reactor, WebhookCompletion* completion, WebhookRequest&& request);

  std::vector<WebhookEndpointConfig> endpoints_;
  std::unique_ptr<WebhookEndpointCounters[]> counters_;
  std::unique_ptr<WebhookEngine> engine_;
  std::thread thread_;
  std::atomic<bool> accepting_{true};
  std::atomic<uint32_t> submitting_{0};  // submits between their accepting_ check and post
  std::mutex shutdown_mutex_;
  bool stopped_ = false;
};

}  // namespace wshub::api
