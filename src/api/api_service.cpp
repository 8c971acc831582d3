// Routing, authentication and answers of the backend HTTP API; the endpoints themselves are
// in api_handlers.cpp.
#include "api/api_service.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "api/api_handlers.h"
#include "hub/json_writer.h"

namespace wshub::api {

namespace {

// EVP_sha256() makes every EVP_Digest fetch the implementation again (a lock and a lookup:
// 2,400 of the 20,000 instructions an API publish cost, by callgrind); fetch it once.
const EVP_MD* sha256_algorithm() {
  static EVP_MD* const algorithm = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return algorithm;
}

std::array<uint8_t, 32> sha256(std::string_view text) {
  std::array<uint8_t, 32> digest{};
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &size, sha256_algorithm(), nullptr);
  return digest;
}

std::string_view presented_key(const proto::HttpRequestHead& head) {
  if (const proto::HttpHeader* auth = head.find("Authorization")) {
    std::string_view value = auth->value;
    if (value.size() > 7 && proto::equals_ignore_case(value.substr(0, 7), "Bearer ")) return value.substr(7);
  }
  if (const proto::HttpHeader* key = head.find("X-API-Key")) return key->value;
  return {};
}

struct Route {
  std::string_view method;
  std::string_view path;
  ApiEndpoint endpoint;
};

constexpr Route kRoutes[] = {
    {"POST", "/api/publish", ApiEndpoint::publish},
    {"POST", "/api/broadcast", ApiEndpoint::broadcast},
    {"POST", "/api/send", ApiEndpoint::send},
    {"POST", "/api/subscribe", ApiEndpoint::subscribe},
    {"POST", "/api/unsubscribe", ApiEndpoint::unsubscribe},
    {"POST", "/api/disconnect", ApiEndpoint::disconnect},
    {"GET", "/api/presence", ApiEndpoint::presence},
    {"GET", "/api/history", ApiEndpoint::history},
    {"GET", "/api/channels", ApiEndpoint::channels},
    {"GET", "/api/info", ApiEndpoint::info},
    {"GET", "/metrics", ApiEndpoint::metrics},
    {"GET", "/ready", ApiEndpoint::ready},
    {"GET", "/health", ApiEndpoint::health},
};

}  // namespace

const char* api_endpoint_name(ApiEndpoint endpoint) {
  switch (endpoint) {
    case ApiEndpoint::publish: return "publish";
    case ApiEndpoint::broadcast: return "broadcast";
    case ApiEndpoint::send: return "send";
    case ApiEndpoint::subscribe: return "subscribe";
    case ApiEndpoint::unsubscribe: return "unsubscribe";
    case ApiEndpoint::disconnect: return "disconnect";
    case ApiEndpoint::presence: return "presence";
    case ApiEndpoint::history: return "history";
    case ApiEndpoint::channels: return "channels";
    case ApiEndpoint::info: return "info";
    case ApiEndpoint::messages: return "messages";
    case ApiEndpoint::metrics: return "metrics";
    case ApiEndpoint::ready: return "ready";
    case ApiEndpoint::health: return "health";
    case ApiEndpoint::unknown: return "unknown";
    case ApiEndpoint::count_: break;
  }
  return "?";
}

size_t ApiCounters::status_slot(uint16_t status) {
  if (status == 401) return 4;
  if (status == 413) return 5;
  return status >= 500 ? 3 : status >= 400 ? 2 : status >= 300 ? 1 : 0;
}

const char* ApiCounters::status_label(size_t slot) {
  static constexpr const char* kLabels[kStatuses] = {"2xx", "3xx", "4xx", "5xx", "401", "413"};
  return kLabels[slot];
}

std::string api_error_body(uint32_t code, std::string_view message) {
  std::string body;
  hub::JsonWriter(body).begin_object().key("error").begin_object().member("code", uint64_t(code))
      .member("message", message).end_object().end_object();
  body.push_back('\n');
  return body;
}

void ApiReply::send(uint16_t status, std::string body, std::string_view content_type) const {
  counters->requests[size_t(endpoint)][ApiCounters::status_slot(status)].fetch_add(1, std::memory_order_relaxed);
  server::HttpResponse response;
  response.status = status;
  response.content_type = content_type;
  response.body = std::move(body);
  responder.respond(response);
}

void ApiReply::error(uint16_t status, uint32_t code, std::string_view message) const {
  send(status, api_error_body(code, message));
}

ApiService::ApiService(hub::Hub& hub, ApiSettings settings, std::function<std::string()> health,
                       std::function<std::string()> metrics, std::function<bool()> ready)
    : hub_(hub), settings_(std::move(settings)), key_digest_(sha256(settings_.key)),
      health_(std::move(health)), metrics_(std::move(metrics)), ready_(std::move(ready)),
      handlers_(std::make_unique<Handlers>(hub)) {}

ApiService::~ApiService() = default;

void ApiService::on_request(const server::HttpRequest& request) {
  ApiEndpoint endpoint = ApiEndpoint::unknown;
  bool path_known = false;
  for (const Route& route : kRoutes) {
    if (request.path != route.path) continue;
    path_known = true;
    if (request.method == route.method || (route.method == "GET" && request.method == "HEAD"))
      endpoint = route.endpoint;
  }
  if (request.path.substr(0, 14) == "/api/messages/") {
    path_known = true;
    if (request.method == "GET" || request.method == "HEAD") endpoint = ApiEndpoint::messages;
  }
  const ApiReply reply{request.responder, &counters_, endpoint};
  // The key is checked before anything else is said, so a caller without it learns nothing of
  // which paths or methods exist; only the scrape and probe paths may be open.
  const bool open = request.path == "/metrics" || request.path == "/ready" || request.path == "/health";
  if (!open || !settings_.open_metrics) {
    // Both sides hashed first, so the comparison takes the same time whatever the lengths.
    const std::array<uint8_t, 32> presented = sha256(presented_key(request.head));
    if (presented_key(request.head).empty() ||
        CRYPTO_memcmp(presented.data(), key_digest_.data(), presented.size()) != 0)
      return reply.error(401, 101,
                         "missing or wrong API key: send 'Authorization: Bearer KEY' or 'X-API-Key: KEY' "
                         "with the key from [api] key");
  }
  if (endpoint == ApiEndpoint::unknown) {
    if (path_known) return reply.error(405, 107, "this endpoint does not take " + std::string(request.method));
    return reply.error(404, 104, "no API endpoint at " + std::string(request.path.substr(0, 120)) +
                                     "; see docs/api.md");
  }
  switch (endpoint) {
    case ApiEndpoint::metrics: return reply.send(200, metrics_(), "text/plain; version=0.0.4; charset=utf-8");
    case ApiEndpoint::health: return reply.send(200, health_());
    case ApiEndpoint::ready:
      if (ready_()) return reply.send(200, "{\"ready\":true}\n");
      return reply.send(503, "{\"ready\":false}\n");
    default: break;
  }
  handlers_->handle(endpoint, request, reply);
}

}  // namespace wshub::api
