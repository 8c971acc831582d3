#include "api/webhook_backend.h"

namespace wshub::api {

namespace {

// Carries the webhook's result to the hub's completion, on the calling worker's thread.
class BackendCompletion final : public WebhookCompletion {
 public:
  explicit BackendCompletion(std::unique_ptr<hub::BackendCall> done) : done_(std::move(done)) {}
  void run() override {
    const WebhookResult& r = result();
    hub::BackendResponse response;
    response.answered = r.outcome == WebhookOutcome::ok;
    response.status = r.http_status;
    if (response.answered) {
      response.body = std::move(result().body);
    } else {
      response.detail = std::string(webhook_outcome_name(r.outcome));
      if (r.http_status) response.detail += " (HTTP " + std::to_string(r.http_status) + ")";
      if (r.detail && *r.detail) response.detail += std::string(": ") + r.detail;
    }
    done_->on_response(std::move(response));
  }

 private:
  std::unique_ptr<hub::BackendCall> done_;
};

}  // namespace

WebhookBackend::WebhookBackend(WebhookClient& client, std::function<net::Reactor&(uint32_t)> reactor_of)
    : client_(client), reactor_of_(std::move(reactor_of)) {}

bool WebhookBackend::route(hub::BackendEvent event, std::string_view endpoint) {
  std::optional<WebhookEndpointId> id = client_.find_endpoint(endpoint);
  if (!id) return false;
  endpoints_[size_t(event)] = id;
  return true;
}

void WebhookBackend::call(uint32_t worker, hub::BackendEvent event, std::string body,
                          std::unique_ptr<hub::BackendCall> done) {
  const std::optional<WebhookEndpointId>& endpoint = endpoints_[size_t(event)];
  if (!endpoint) {
    hub::BackendResponse response;
    response.detail = std::string("no webhook is configured for ") + hub::backend_event_name(event);
    done->on_response(std::move(response));
    return;
  }
  client_.submit({*endpoint, std::move(body), WebhookDelivery::once, 0}, reactor_of_(worker),
                 new BackendCompletion(std::move(done)));
}

void WebhookBackend::notify(hub::BackendEvent event, std::string body) {
  const std::optional<WebhookEndpointId>& endpoint = endpoints_[size_t(event)];
  if (!endpoint) return;
  client_.notify({*endpoint, std::move(body), WebhookDelivery::must_arrive, 0});
}

}  // namespace wshub::api
