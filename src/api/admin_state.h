// The admin page's picture of the server as one JSON object: connections and message counters,
// channels with subscribers and presence, webhook health, inbox counts (once the store exists)
// and the last rejected handshakes. Served at GET /admin/api/state and published to
// $admin:stats once a second while a page watches. Reads atomics and the broker's state only,
// so any thread may render it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace wshub::server {
class Server;
}
namespace wshub::hub {
class Hub;
}

namespace wshub::api {

class WebhookClient;
struct ApiCounters;

// How the page reaches the hub for live updates, decided once at start (app::Runtime).
struct AdminLive {
  bool available = false;
  std::string why_not;   // when not available: a sentence the page shows (it polls instead)
  std::string path;      // the hub route's path
  uint16_t port = 0;     // the first WebSocket listener's port
  bool tls = false;      // whether that listener is wss://
};

struct AdminSources {
  server::Server* server = nullptr;
  hub::Hub* hub = nullptr;                  // null when no hub is built
  const WebhookClient* webhooks = nullptr;  // null when no webhook is configured
  const ApiCounters* api = nullptr;
  AdminLive live;
};

// What the app gives the admin page (ApiService::enable_admin).
struct AdminSettings {
  // Renders the state JSON (render_admin_state with the process's sources). Any thread.
  std::function<std::string()> state;
  // Mints a short-lived hub token for the page (sub "wshub-admin", channels ["$admin:stats"]);
  // false with `why` when this hub cannot mint one (no signing key): the page then polls.
  std::function<bool(std::string& token, std::string& why)> mint_token;
  uint64_t session_lifetime_ms = 8 * 3600 * 1000;
};

// At most this many channels (the busiest first, chosen among the first kAdminScanChannels the
// broker lists) and presence entries per channel.
inline constexpr size_t kAdminMaxChannels = 100;
inline constexpr size_t kAdminScanChannels = 10000;
inline constexpr size_t kAdminMaxPresence = 20;

// `now_ms`: wall clock, written as "ts" so the page computes rates from two snapshots.
std::string render_admin_state(const AdminSources& sources, int64_t now_ms);

}  // namespace wshub::api
