// Reads wshub's TOML config into AppConfig. Every error names the file, line, column and key,
// and unknown keys are errors (a typo must not silently fall back to a default). The keys are
// declared in config_sections.cpp; config_reader.cpp reads any table through them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <optional>

#include "api/webhook_types.h"
#include "hub/hub_config.h"
#include "hub/jwt.h"
#include "server/config.h"

namespace wshub::app {

struct ConfigTable;

// A file the config names, and where: reading the config opens no file, so a file that is
// missing is reported later (check_config_files) at the line that names it.
struct ConfigFileReference {
  std::string key;      // "listen.tls.cert"
  std::string path;     // as used: relative paths resolved against the config's directory
  size_t entry = 0;     // the top-level [[...]] entry that names it: for certificates, the
                        // index in server.listeners
  uint32_t line = 0;
  uint32_t column = 0;
};

// A [[route]] as the config gives it: the server's part, and the parameters of its kind. The
// route's service is made from these once the hub exists (app/route_kinds.h).
struct RouteEntry {
  server::RouteConfig route;
  std::string reply = "reply";  // kind "reply": the answer to every message
  hub::HubRouteParams hub;      // kind "hub": its heartbeat
};

// The routes with no [[route]]: /echo, /login (the seed's reply route) and /hub (served when the
// hub has a way to check identities; see Runtime).
std::vector<RouteEntry> default_routes();
bool is_default_route_list(const std::vector<RouteEntry>& routes);

// [api]: the backend HTTP API's listener and key.
struct ApiConfig {
  std::string listen = "127.0.0.1:8078";  // "" turns the API off
  std::string key;                        // required once a config file is used (or key_file)
  std::string key_file;                   // a file holding the key (one trailing newline dropped)
  uint64_t max_body_bytes = 1u << 20;
  uint32_t response_timeout_ms = 30000;
  bool open_metrics = true;  // /metrics, /ready and /health without the key
  bool admin = true;         // the admin page at /admin, behind the key or a login with it
};

// [store]: where channel positions and history are kept (docs/durability.md).
struct StoreConfig {
  std::string kind = "sqlite";      // sqlite | memory (nothing survives a restart)
  std::string path = "wshub.db";    // relative to the config file's directory, else the working one
  std::string durability = "sync";  // sync: a 200 means on disk; fast: in the OS
};

// A [[webhook]]: one endpoint of the backend and the hub events it answers.
struct WebhookEntry {
  api::WebhookEndpointConfig endpoint;
  std::string secret_file;          // a file holding the secret instead of `secret`
  std::vector<std::string> events;  // connect, rpc, publish, subscribe, disconnect
};

struct AppConfig {
  server::ServerConfig server = server::default_server_config();
  std::vector<RouteEntry> routes = default_routes();
  hub::HubConfig hub = hub::default_hub_config();
  std::optional<hub::JwtSettings> jwt;  // [hub.jwt]
  std::optional<ApiConfig> api;  // [api]; without a config file `./dev run` turns it on
  std::vector<WebhookEntry> webhooks;
  StoreConfig store;
  std::string log_format = "text";  // text | json
  std::string log_level = "info";
  std::string source;  // the config file's name, empty without one
  std::vector<ConfigFileReference> files;
};

struct ConfigError {
  std::string message;  // "FILE:LINE:COLUMN: KEY: what is wrong"
};

// Returns true and fills `out` on success; otherwise fills `error`.
bool load_config_file(const std::string& path, AppConfig& out, ConfigError& error);
bool load_config_text(std::string_view text, std::string_view source_name, AppConfig& out,
                      ConfigError& error);

// Reads TOML `text` into `target` through `table`, a ConfigTable bound to target's type: what
// load_config_text does with app_config_table(), for a table on its own (tests, tools).
bool load_table_text(std::string_view text, std::string_view source_name, const ConfigTable& table,
                     void* target, std::vector<ConfigFileReference>& files, ConfigError& error);

// True when every file in config.files can be opened for reading; otherwise fills `error`
// with "FILE:LINE:COLUMN: KEY: cannot open PATH: reason". What is in the files is checked
// where they are used (tls::TlsContext).
bool check_config_files(const AppConfig& config, ConfigError& error);

// "auto", "epoll" or "io_uring". False for anything else.
bool parse_io_backend(std::string_view text, net::IoBackend& out);

// `text` as a TOML basic string, quoted and escaped, ready to paste into a config.
std::string toml_quoted(std::string_view text);

// "16MiB", "8 KiB", "1048576": bytes. False when `text` is not a size.
bool parse_byte_size(std::string_view text, uint64_t& out);

}  // namespace wshub::app
