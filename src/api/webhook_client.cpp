#include "api/webhook_client.h"

#include <curl/curl.h>
#include <pthread.h>

#include <cassert>
#include <stdexcept>

#include "api/webhook_engine.h"
#include "base/clock.h"

namespace wshub::api {

WebhookClient::WebhookClient(std::vector<WebhookEndpointConfig> endpoints)
    : endpoints_(std::move(endpoints)),
      counters_(std::make_unique<WebhookEndpointCounters[]>(endpoints_.size())) {
  if (endpoints_.size() > UINT16_MAX) throw std::runtime_error("webhooks: too many endpoints");
  for (size_t i = 0; i < endpoints_.size(); ++i) {
    if (std::string error = validate_webhook_endpoint(endpoints_[i]); !error.empty())
      throw std::runtime_error(error);
    for (size_t j = 0; j < i; ++j)
      if (endpoints_[j].name == endpoints_[i].name)
        throw std::runtime_error("webhook endpoint '" + endpoints_[i].name +
                                 "' is defined twice; names must be unique");
  }
  // Reference-counted by libcurl and thread-safe in the versions we build with; called here,
  // at start-up, before the client's thread exists.
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    throw std::runtime_error("webhooks: curl_global_init failed");
  try {
    engine_ = std::make_unique<WebhookEngine>(endpoints_, counters_.get());
  } catch (...) {
    curl_global_cleanup();
    throw;
  }
  thread_ = std::thread([engine = engine_.get()] {
    pthread_setname_np(pthread_self(), "wshub-webhooks");
    engine->run();
  });
}

WebhookClient::~WebhookClient() {
  shutdown(0);
  engine_.reset();
  curl_global_cleanup();
}

std::optional<WebhookEndpointId> WebhookClient::find_endpoint(std::string_view name) const {
  for (size_t i = 0; i < endpoints_.size(); ++i)
    if (endpoints_[i].name == name) return WebhookEndpointId{uint16_t(i)};
  return std::nullopt;
}

void WebhookClient::submit(WebhookRequest request, net::Reactor& reactor,
                           WebhookCompletion* completion) {
  assert(completion);
  start(&reactor, completion, std::move(request));
}

void WebhookClient::notify(WebhookRequest request) { start(nullptr, nullptr, std::move(request)); }

void WebhookClient::start(net::Reactor* reactor, WebhookCompletion* completion,
                          WebhookRequest&& request) {
  assert(request.endpoint.index < endpoints_.size());
  const WebhookEndpointConfig& config = endpoints_[request.endpoint.index];
  WebhookEndpointCounters& counters = counters_[request.endpoint.index];
  const uint64_t submitted_ns = monotonic_ns();
  auto refuse = [&](WebhookOutcome outcome, const char* detail) {
    post_webhook_result(counters, reactor, completion, outcome, 0, 0, submitted_ns, detail);
  };

  // Paired with shutdown(): either this sees accepting_ false, or shutdown waits for this
  // submit to have posted its call before it posts the stop (both sides are seq_cst).
  submitting_.fetch_add(1);
  struct Leave {
    std::atomic<uint32_t>& count;
    ~Leave() { count.fetch_sub(1); }
  } leave{submitting_};
  if (!accepting_.load()) return refuse(WebhookOutcome::shutting_down, "the webhook client is stopping");

  if (request.delivery == WebhookDelivery::once &&
      counters.breaker() == BreakerState::open &&
      submitted_ns / 1'000'000 < counters.breaker_open_until_ms.load(std::memory_order_relaxed))
    return refuse(WebhookOutcome::circuit_open,
                  "the endpoint's circuit breaker is open after repeated failures");

  if (counters.queued.fetch_add(1, std::memory_order_relaxed) >= config.max_queued) {
    counters.queued.fetch_sub(1, std::memory_order_relaxed);
    return refuse(WebhookOutcome::queue_full, "max_queued calls already wait for this endpoint");
  }

  auto* call = new WebhookCall;
  call->engine = engine_.get();
  call->endpoint = request.endpoint.index;
  call->delivery = request.delivery;
  call->timeout_ms = request.timeout_ms ? request.timeout_ms : config.timeout_ms;
  call->submitted_ns = submitted_ns;
  call->deadline_ms = submitted_ns / 1'000'000 + call->timeout_ms;
  call->body = std::move(request.body);
  call->reactor = reactor;
  call->completion = completion;
  engine_->mailbox().post(call);
}

void WebhookClient::shutdown(uint32_t grace_ms) {
  std::lock_guard lock(shutdown_mutex_);
  if (stopped_) return;
  stopped_ = true;
  accepting_.store(false);
  while (submitting_.load() != 0) std::this_thread::yield();
  engine_->request_stop(grace_ms);
  thread_.join();
}

}  // namespace wshub::api
