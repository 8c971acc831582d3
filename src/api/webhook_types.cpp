#include "api/webhook_types.h"

#include <string_view>

namespace wshub::api {

const char* webhook_outcome_name(WebhookOutcome outcome) {
  switch (outcome) {
    case WebhookOutcome::ok: return "ok";
    case WebhookOutcome::timeout: return "timeout";
    case WebhookOutcome::connect_failed: return "connect_failed";
    case WebhookOutcome::http_status_error: return "http_status_error";
    case WebhookOutcome::transport_error: return "transport_error";
    case WebhookOutcome::response_too_large: return "response_too_large";
    case WebhookOutcome::circuit_open: return "circuit_open";
    case WebhookOutcome::queue_full: return "queue_full";
    case WebhookOutcome::shutting_down: return "shutting_down";
  }
  return "unknown";
}

bool is_backend_failure(WebhookOutcome outcome, uint16_t http_status) {
  switch (outcome) {
    case WebhookOutcome::timeout:
    case WebhookOutcome::connect_failed:
    case WebhookOutcome::transport_error:
      return true;
    case WebhookOutcome::http_status_error:
      return http_status >= 500;
    default:
      return false;
  }
}

std::string validate_webhook_endpoint(const WebhookEndpointConfig& c) {
  const std::string where = "webhook endpoint '" + c.name + "': ";
  if (c.name.empty()) return "webhook endpoint: name is empty; give every endpoint a name";
  std::string_view url = c.url;
  if (!url.starts_with("http://") && !url.starts_with("https://"))
    return where + "url must start with http:// or https:// (got '" + c.url + "')";
  if (c.secret.size() < 16)
    return where + "secret must be at least 16 bytes (backends verify X-Wshub-Signature with it)";
  if (c.timeout_ms == 0) return where + "timeout_ms must be more than 0";
  if (c.connect_timeout_ms == 0) return where + "connect_timeout_ms must be more than 0";
  if (c.max_concurrent == 0) return where + "max_concurrent must be at least 1";
  if (c.max_response_bytes == 0) return where + "max_response_bytes must be more than 0";
  if (c.retry.max_attempts == 0) return where + "retry max_attempts must be at least 1";
  if (c.retry.base_delay_ms == 0 || c.retry.max_delay_ms < c.retry.base_delay_ms)
    return where + "retry delays need 0 < base_delay_ms <= max_delay_ms";
  if (c.breaker.failure_threshold == 0)
    return where + "breaker failure_threshold must be at least 1";
  if (c.breaker.open_ms == 0) return where + "breaker open_ms must be more than 0";
  return {};
}

}  // namespace wshub::api
