// The application's backend as the hub sees it: webhooks it calls when a client connects,
// calls rpc, publishes, subscribes, or disconnects. The api layer implements this with its
// HTTP client; the hub builds the bodies and reads the answers (docs/webhooks.md).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace wshub::hub {

enum class BackendEvent : uint8_t {
  connect,
  rpc,
  publish,
  subscribe,
  disconnect,
  // The inbox's receipts: notices like disconnect (docs/webhooks.md).
  inbox_delivered,
  inbox_acked,
  inbox_expired,
  inbox_undelivered,
  count_
};

const char* backend_event_name(BackendEvent event);

struct BackendResponse {
  // False when the backend could not answer: down, slow past its timeout, a 5xx, a breaker
  // open, or a transfer cut. The client then gets 116 with retry.
  bool answered = false;
  uint16_t status = 0;
  std::string body;    // the answer's body when answered
  std::string detail;  // why it was not answered, for the log
};

// Completion of one call; runs exactly once, on the thread of the worker that called.
class BackendCall {
 public:
  virtual ~BackendCall() = default;
  virtual void on_response(BackendResponse response) = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  // Whether a webhook is configured for `event`.
  virtual bool has(BackendEvent event) const = 0;
  // A call whose answer decides something (connect, rpc, publish, subscribe). `worker` is the
  // calling worker's index; `done` runs on its thread.
  virtual void call(uint32_t worker, BackendEvent event, std::string body,
                    std::unique_ptr<BackendCall> done) = 0;
  // A notice that must arrive but needs no answer (disconnect): retried with backoff.
  virtual void notify(BackendEvent event, std::string body) = 0;
};

}  // namespace wshub::hub
