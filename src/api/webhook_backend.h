// The hub's Backend (hub/backend.h) over the webhook client: each hub event goes to the
// endpoint configured for it, and the answer comes back on the calling worker's thread.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <optional>

#include "api/webhook_client.h"
#include "hub/backend.h"

namespace wshub::api {

class WebhookBackend final : public hub::Backend {
 public:
  // `reactor_of(worker)` gives the reactor of a worker index (completions are posted there).
  WebhookBackend(WebhookClient& client, std::function<net::Reactor&(uint32_t)> reactor_of);

  // Routes `event` to the endpoint named `endpoint`; false when there is no such endpoint.
  bool route(hub::BackendEvent event, std::string_view endpoint);

  bool has(hub::BackendEvent event) const override { return endpoints_[size_t(event)].has_value(); }
  void call(uint32_t worker, hub::BackendEvent event, std::string body,
            std::unique_ptr<hub::BackendCall> done) override;
  void notify(hub::BackendEvent event, std::string body) override;

 private:
  WebhookClient& client_;
  std::function<net::Reactor&(uint32_t)> reactor_of_;
  std::array<std::optional<WebhookEndpointId>, size_t(hub::BackendEvent::count_)> endpoints_;
};

}  // namespace wshub::api
