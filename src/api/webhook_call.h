// One submitted webhook call as the client's thread keeps it: the request, who to tell, and the
// state of its current HTTP attempt. Internal to the webhook client; submitters never see it.
#pragma once

#include <curl/curl.h>

#include <cstdint>
#include <string>

#include "api/webhook_types.h"
#include "net/mailbox.h"

namespace wshub::net {
class Reactor;
}

namespace wshub::api {

class WebhookEngine;

// Posted once to the client thread's mailbox to hand the call over; from then on the engine
// owns it (dispose() does nothing) until it completes and deletes it.
struct WebhookCall final : net::MailItem {
  void run() override;
  void dispose() override {}

  WebhookEngine* engine = nullptr;
  uint16_t endpoint = 0;
  WebhookDelivery delivery = WebhookDelivery::once;
  uint32_t timeout_ms = 0;         // per attempt for must_arrive; the whole call for once
  uint64_t submitted_ns = 0;       // monotonic
  uint64_t deadline_ms = 0;        // once: submitted + timeout_ms (monotonic ms)
  std::string body;
  net::Reactor* reactor = nullptr;  // where `completion` is posted; null for fire-and-forget
  WebhookCompletion* completion = nullptr;

  uint32_t attempts = 0;
  uint64_t delivery_id = 0;
  // The current attempt.
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  uint64_t attempt_started_ns = 0;
  size_t received = 0;             // response body bytes so far
  size_t max_response_bytes = 0;
  bool too_large = false;          // the write callback refused the body
  bool probe = false;              // this attempt is the breaker's half-open probe
  size_t in_flight_slot = 0;       // index in the engine's in-flight list

  WebhookCall* next = nullptr;     // the endpoint's waiting queue
};

}  // namespace wshub::api
