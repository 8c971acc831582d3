#include "app/runtime.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "api/admin_state.h"
#include "api/api_service.h"
#include "api/metrics.h"
#include "api/webhook_backend.h"
#include "api/webhook_client.h"
#include "app/route_kinds.h"
#include "base/clock.h"
#include "hub/channel_name.h"
#include "hub/hub.h"
#include "hub/hub_worker.h"
#include "hub/jwt.h"
#include "net/peer_address.h"
#include "net/reactor.h"
#include "net/socket_ops.h"
#include "server/server.h"
#include "store/sqlite_store.h"

namespace wshub::app {

std::optional<hub::JwtSettings> effective_jwt(const AppConfig& config) {
  if (config.jwt) return config.jwt;
  if (!config.source.empty()) return std::nullopt;
  hub::JwtSettings settings;
  hub::JwtKeySource key;
  key.alg = hub::JwtAlg::hs256;
  key.secret = std::string(kDevelopmentJwtSecret);
  settings.keys.push_back(key);
  return settings;
}

namespace {

// A secret kept in a file: its bytes, one trailing newline dropped.
std::string read_secret_file(const std::string& path, std::string_view key) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error(fmt::format("{}: cannot read {}: {}", key, path, std::strerror(errno)));
  std::string secret((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (!secret.empty() && secret.back() == '\n') secret.pop_back();
  if (!secret.empty() && secret.back() == '\r') secret.pop_back();
  if (secret.empty()) throw std::runtime_error(fmt::format("{}: {} is empty", key, path));
  return secret;
}

bool has_connect_webhook(const AppConfig& config) {
  for (const WebhookEntry& entry : config.webhooks)
    for (const std::string& event : entry.events)
      if (event == "connect") return true;
  return false;
}

}  // namespace

Runtime::Runtime(AppConfig config) {
  if (!config.source.empty() && is_default_route_list(config.routes) && !config.jwt &&
      !has_connect_webhook(config) && !config.hub.allow_anonymous) {
    // The default /hub needs identities; a config that sets none up serves /echo and /login.
    config.routes.pop_back();
    notes_.push_back("hub: /hub is not served: the config sets up no identity check ([hub.jwt], a "
                     "connect webhook or hub.allow_anonymous)");
  }
  if (has_hub_route(config.routes) || config.api) build_hub(config);
  build_webhooks(config);
  config.server.routes = make_routes(config.routes, hub_.get());
  if (config.api) build_api(config);
  if (api_ && config.api->admin) enable_admin(config);
  server_ = std::make_unique<server::Server>(std::move(config.server));
  if (hub_) hub_->add_health_section(server_->health());
}

Runtime::~Runtime() { stop(); }

void Runtime::build_hub(AppConfig& config) {
  std::unique_ptr<hub::TokenVerifier> verifier;
  if (std::optional<hub::JwtSettings> jwt = effective_jwt(config)) {
    // One limit each: the token's claims follow its size, its info the hub's info limit.
    jwt->policy.max_claims_bytes = jwt->policy.max_token_bytes * 3 / 4;  // base64url: 4 chars, 3 bytes
    jwt->policy.max_info_bytes = std::min<size_t>(config.hub.limits.max_info_bytes, jwt->policy.max_claims_bytes);
    std::string why;
    std::vector<std::string> warnings;
    verifier = hub::JwtTokenVerifier::create(*jwt, why, warnings);
    if (!verifier) throw std::runtime_error(why);
    for (std::string& warning : warnings) warnings_.push_back(std::move(warning));
    if (!config.jwt)
      warnings_.push_back(fmt::format(
          "hub: tokens are checked with the development secret \"{}\" because no config file is "
          "given; anyone who knows it can connect as anyone: configure [hub.jwt] before going live",
          kDevelopmentJwtSecret));
  }
  if (has_hub_route(config.routes) && !verifier && !has_connect_webhook(config) && !config.hub.allow_anonymous)
    throw std::runtime_error(
        "hub: a hub route needs a way to check who connects: [hub.jwt] keys, a [[webhook]] with "
        "events = [\"connect\"], or hub.allow_anonymous = true");
  // Both limits describe one thing: keep the token's own check in step with the hub's.
  config.hub.allow_no_exp = effective_jwt(config) ? effective_jwt(config)->policy.allow_no_exp : false;
  hub_ = std::make_unique<hub::Hub>(config.hub, make_store(config), std::move(verifier));
}

std::unique_ptr<hub::Store> Runtime::make_store(const AppConfig& config) {
  bool history = false;
  for (const hub::NamespaceConfig& ns : config.hub.namespaces) history |= ns.history_size > 0;
  // The SQLite store opens whenever it is chosen: the device inbox lives in it too.
  if (config.store.kind == "memory") {
    if (history) warnings_.push_back("store: kind = \"memory\": no namespace keeps history, whatever history_size says");
    notes_.push_back("store: kind = \"memory\": there is no device inbox (/api/send answers 501)");
    return hub::make_memory_store();
  }
  store::SqliteStoreOptions options;
  options.path = config.store.path;
  if (options.path[0] != '/' && !config.source.empty()) {
    const std::string directory = std::filesystem::path(config.source).parent_path().string();
    if (!directory.empty()) options.path = directory + "/" + options.path;
  }
  options.sync = config.store.durability == "sync";
  options.max_mids = config.hub.max_mids;
  std::string why;
  std::unique_ptr<hub::Store> store = store::open_sqlite_store(options, why);
  if (!store && !history) {
    // Nothing asked for history, so only the device inbox needs the file: a server that cannot
    // have it (a second wshub in the same directory, a read-only one) runs without an inbox, as
    // it did before the inbox existed, and says so. With history the refusal stands.
    warnings_.push_back("store: " + why + "; running without the device inbox (/api/send answers 501)");
    return hub::make_memory_store();
  }
  if (!store) throw std::runtime_error("store: " + why);
  notes_.push_back(fmt::format("store: {} (durability {})", options.path, config.store.durability));
  return store;
}

void Runtime::build_webhooks(AppConfig& config) {
  if (config.webhooks.empty()) return;
  std::vector<api::WebhookEndpointConfig> endpoints;
  for (const WebhookEntry& entry : config.webhooks) {
    endpoints.push_back(entry.endpoint);
    if (!entry.secret_file.empty()) endpoints.back().secret = read_secret_file(entry.secret_file, "webhook.secret_file");
  }
  webhooks_ = std::make_unique<api::WebhookClient>(std::move(endpoints));
  if (!hub_) return;
  hub::Hub* hub = hub_.get();
  auto backend = std::make_shared<api::WebhookBackend>(
      *webhooks_, [hub](uint32_t worker) -> net::Reactor& { return hub->worker(worker)->host().reactor(); });
  for (const WebhookEntry& entry : config.webhooks)
    for (const std::string& event : entry.events)
      for (size_t e = 0; e < size_t(hub::BackendEvent::count_); ++e)
        if (event == hub::backend_event_name(hub::BackendEvent(e)))
          backend->route(hub::BackendEvent(e), entry.endpoint.name);
  hub_->set_backend(std::move(backend));
}

void Runtime::build_api(AppConfig& config) {
  const ApiConfig& api = *config.api;
  api::ApiSettings settings;
  settings.key = api.key_file.empty() ? api.key : read_secret_file(api.key_file, "api.key_file");
  settings.open_metrics = api.open_metrics;
  if (settings.key.empty()) {
    if (!config.source.empty())
      throw std::runtime_error("api: [api] key is required when the API listens (or set [api] listen = \"\")");
    settings.key = std::string(kDevelopmentApiKey);
    warnings_.push_back(fmt::format(
        "api: the API key is the development key \"{}\" because no config file is given: set [api] "
        "key before going live", kDevelopmentApiKey));
  }
  server::ListenerConfig listener;
  listener.address.text = api.listen;
  std::string why;
  if (!net::parse_listen_address(api.listen, listener.address.address, listener.address.length, why))
    throw std::runtime_error("api.listen: " + why);
  listener.api = true;
  config.server.listeners.push_back(listener);
  config.server.max_api_body_bytes = api.max_body_bytes;
  config.server.api_response_timeout_ms = api.response_timeout_ms;
  api_ = std::make_shared<api::ApiService>(
      *hub_, settings, [this] { return server_->health_json(); },
      [this] {
        api::MetricsSources sources;
        sources.server = server_.get();
        sources.hub = hub_.get();
        sources.webhooks = webhooks_.get();
        sources.api = &api_->counters();
        return api::render_metrics(sources);
      },
      [this] { return ready_.load(); });
  config.server.api_service = api_;
  api_listener_ = config.server.listeners.size() - 1;
  development_api_key_ = settings.key == kDevelopmentApiKey;
}

void Runtime::enable_admin(const AppConfig& config) {
  // Where the page's browser finds the hub: the first hub route on the first WebSocket
  // listener, at the page's own host name (docs/api.md says what a proxy in front changes).
  std::string hub_path;
  for (const RouteEntry& entry : config.routes)
    if (entry.route.kind == "hub" && hub_path.empty()) hub_path = entry.route.path;
  size_t websocket_listener = SIZE_MAX;
  for (size_t i = 0; i < config.server.listeners.size(); ++i)
    if (!config.server.listeners[i].api && websocket_listener == SIZE_MAX) websocket_listener = i;
  api::AdminLive live;
  std::optional<hub::JwtSettings> jwt = effective_jwt(config);
  hub::JwtMintClaims claims;
  claims.sub = "wshub-admin";
  claims.channels = {std::string(hub::kAdminStatsChannel)};
  claims.has_channels = true;
  // Short-lived: the page asks for a new one before it expires (the SDK's token refresh).
  claims.ttl_s = 300;
  std::string probe, why;
  if (hub_path.empty() || websocket_listener == SIZE_MAX)
    live.why_not = "no hub route is served, so the page polls";
  else if (config.hub.connect_at_upgrade)
    live.why_not = "hub.connect_at_upgrade lets the connect webhook decide every upgrade, so the page polls";
  else if (!jwt || !hub::mint_configured_jwt(*jwt, claims, probe, why))
    live.why_not = "this hub cannot sign tokens (no HS256 secret or signing_key in [hub.jwt]), so the page polls";
  else
    live.available = true;
  live.path = hub_path;
  live.tls = websocket_listener != SIZE_MAX && config.server.listeners[websocket_listener].tls.has_value();
  api::AdminSettings settings;
  settings.state = [this, live, websocket_listener]() mutable {
    api::AdminSources sources;
    sources.server = server_.get();
    sources.hub = hub_.get();
    sources.webhooks = webhooks_.get();
    sources.api = &api_->counters();
    sources.live = live;
    // The port as bound (the config may say 0); known once the server started.
    if (websocket_listener < server_->bound_ports().size())
      sources.live.port = server_->bound_ports()[websocket_listener];
    return api::render_admin_state(sources, wall_ms());
  };
  if (live.available)
    settings.mint_token = [jwt = *jwt, claims](std::string& token, std::string& why) mutable {
      claims.now_s = wall_ms() / 1000;
      return hub::mint_configured_jwt(jwt, claims, token, why);
    };
  api_->enable_admin(std::move(settings));
  admin_enabled_ = true;
  admin_live_ = live.available;
}

void Runtime::add_api_notes() {
  // The address as bound: the config may say port 0.
  const server::ListenerConfig& listener = server_->config().listeners[api_listener_];
  const std::string address = net::with_port(listener.address, server_->bound_ports()[api_listener_]).text;
  notes_.push_back(fmt::format("api: http://{} (POST /api/publish, GET /metrics; docs/api.md)", address));
  if (admin_enabled_) notes_.push_back(fmt::format("admin page: http://{}/admin (log in with the API key)", address));
  if (development_api_key_)
    notes_.push_back(fmt::format(
        "try: curl -H 'Authorization: Bearer {}' -d '{{\"channel\":\"news\",\"data\":{{\"text\":\"hello\"}}}}' "
        "http://{}/api/publish", kDevelopmentApiKey, address));
}

void Runtime::start() {
  server_->start();
  if (api_) add_api_notes();
  if (admin_live_) api_->start_admin_live_updates();
  ready_ = true;
}

void Runtime::stop() {
  ready_ = false;
  if (server_) {
    server_->request_shutdown();
    server_->wait();
  }
  // Every publish already answered is committed; the last answers go to stopped workers.
  if (hub_) hub_->close_store();
  if (webhooks_) webhooks_->shutdown(1000);
}

}  // namespace wshub::app
