// Everything the process runs, built from the config: the hub (its store, broker and token
// verifier), the webhook client and the backend it serves the hub as, the backend HTTP API,
// and the server with its routes and listeners. Also decides the development defaults that let
// `./dev run` serve a hub with no config at all, and says so loudly.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "app/config_file.h"

namespace wshub::hub {
class Hub;
class Store;
}
namespace wshub::api {
class WebhookClient;
class ApiService;
}
namespace wshub::server {
class Server;
}

namespace wshub::app {

// The development defaults, used only when wshub runs without a config file.
inline constexpr std::string_view kDevelopmentJwtSecret = "wshub-development-secret-not-for-production";
inline constexpr std::string_view kDevelopmentApiKey = "dev-api-key";

// The JWT settings `config` verifies with: [hub.jwt], or without a config file the development
// secret. Empty when neither applies.
std::optional<hub::JwtSettings> effective_jwt(const AppConfig& config);

class Runtime {
 public:
  // Builds every part. Throws std::runtime_error with a sentence naming the config key when a
  // part cannot be built (a bad key file, a hub with no way to check identities, ...).
  explicit Runtime(AppConfig config);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Binds the listeners and starts the workers (throws like Server::start).
  void start();
  // Stops accepting, closes every connection and joins the threads; then the webhook client.
  void stop();

  server::Server& server() { return *server_; }
  // Lines for the log at start: where things are, and which development defaults are in use.
  const std::vector<std::string>& notes() const { return notes_; }
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  void build_hub(AppConfig& config);
  // The store the config asks for; throws with the store's one sentence when it cannot open.
  std::unique_ptr<hub::Store> make_store(const AppConfig& config);
  void build_webhooks(AppConfig& config);
  void build_api(AppConfig& config);
  void add_api_notes();
  // The admin page under /admin on the API listener: its state, its hub tokens.
  void enable_admin(const AppConfig& config);

  std::vector<std::string> notes_;
  std::vector<std::string> warnings_;
  std::unique_ptr<hub::Hub> hub_;
  std::unique_ptr<api::WebhookClient> webhooks_;
  std::shared_ptr<api::ApiService> api_;
  std::unique_ptr<server::Server> server_;
  std::atomic<bool> ready_{false};
  size_t api_listener_ = 0;
  bool development_api_key_ = false;
  bool admin_enabled_ = false;
  bool admin_live_ = false;  // the page reaches the hub: $admin:stats is published
};

}  // namespace wshub::app
