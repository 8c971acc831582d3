// The backend HTTP API (docs/api.md) on the `api` listener: publish, broadcast, subscribe,
// unsubscribe, disconnect, presence, channels, info; plus /metrics, /ready and /health. Every
// /api/ request carries the API key (compared in constant time); errors are JSON
// {"error":{"code":N,"message":"..."}} with a fitting HTTP status.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "api/secret_digest.h"
#include "server/http_service.h"

namespace wshub::hub {
class Hub;
}

namespace wshub::api {

class AdminPage;
struct AdminSettings;

struct ApiSettings {
  std::string key;                   // required for /api/ requests
  bool open_metrics = true;          // /metrics, /ready and /health need no key
};

// The API's endpoints, for counting requests by endpoint.
enum class ApiEndpoint : uint8_t {
  publish, broadcast, send, subscribe, unsubscribe, disconnect, presence, history, channels,
  info, messages, metrics, ready, health, admin, unknown, count_
};
const char* api_endpoint_name(ApiEndpoint endpoint);

// Requests by endpoint and by status class, for /metrics. Any thread.
struct ApiCounters {
  static constexpr size_t kStatuses = 6;  // 2xx 3xx 4xx 5xx, plus 401 and 413 on their own
  std::array<std::array<std::atomic<uint64_t>, kStatuses>, size_t(ApiEndpoint::count_)> requests{};
  static size_t status_slot(uint16_t status);
  static const char* status_label(size_t slot);
};

class ApiService final : public server::HttpService {
 public:
  // `health` builds the /health JSON; `metrics` the /metrics text; `ready` says whether the
  // server takes traffic (false before start and during shutdown).
  ApiService(hub::Hub& hub, ApiSettings settings, std::function<std::string()> health,
             std::function<std::string()> metrics, std::function<bool()> ready);
  ~ApiService() override;

  void on_request(const server::HttpRequest& request) override;
  const ApiCounters& counters() const { return counters_; }
  // Serves the admin page under /admin (docs/api.md); before the server starts. Without this
  // call, /admin is an unknown path like any other.
  void enable_admin(AdminSettings settings);
  // Once the server runs, when the admin page is enabled and reaches the hub: the statistics
  // on $admin:stats (AdminStatsTicker).
  void start_admin_live_updates();
  // Whether `presented` is the API key: both hashed, then compared in constant time.
  bool key_matches(std::string_view presented) const;

 private:
  class Handlers;
  hub::Hub& hub_;
  ApiSettings settings_;
  SecretDigest key_digest_{};
  std::function<std::string()> health_;
  std::function<std::string()> metrics_;
  std::function<bool()> ready_;
  ApiCounters counters_;
  std::unique_ptr<Handlers> handlers_;
  std::unique_ptr<AdminPage> admin_;
};

}  // namespace wshub::api
