// One HTTP attempt of a webhook call on a libcurl easy handle: the handle's per-endpoint
// options (keep-alive, TCP_NODELAY, timeouts, size limit, no redirects, no proxy from the
// environment), the signed headers of each attempt, the bounded body sink, and the mapping of
// libcurl's result to a WebhookOutcome. Knows nothing about queues, retries or threads.
#pragma once

#include <curl/curl.h>

#include <cstdint>
#include <vector>

#include "api/webhook_call.h"
#include "api/webhook_types.h"

namespace wshub::api {

// Easy handles of one endpoint, kept for reuse; each holds the endpoint's fixed options.
// Connections are pooled by the multi handle, not here.
class EasyHandlePool {
 public:
  explicit EasyHandlePool(const WebhookEndpointConfig& config) : config_(config) {}
  ~EasyHandlePool();
  EasyHandlePool(const EasyHandlePool&) = delete;
  EasyHandlePool& operator=(const EasyHandlePool&) = delete;

  // A handle with the endpoint's options set, or null when libcurl cannot make one.
  CURL* take();
  void give_back(CURL* easy);

 private:
  const WebhookEndpointConfig& config_;
  std::vector<CURL*> idle_;
};

// Sets the attempt's options on `call.easy`: body, signed headers, timeout. `unix_now` is the
// signature's t. Returns false when libcurl refused (out of memory).
bool prepare_attempt(WebhookCall& call, const WebhookEndpointConfig& config,
                     uint32_t attempt_timeout_ms, int64_t unix_now);
// Frees what prepare_attempt allocated for the attempt (the header list).
void release_attempt(WebhookCall& call);

struct AttemptResult {
  WebhookOutcome outcome;
  uint16_t http_status;
  const char* detail;
};
// How the attempt ended. `elapsed_ms` tells a connect timeout (the attempt ran for at least
// connect_timeout_ms without connecting) from a call whose own deadline came first.
AttemptResult classify_attempt(const WebhookCall& call, CURLcode code,
                               const WebhookEndpointConfig& config, uint64_t elapsed_ms);

}  // namespace wshub::api
