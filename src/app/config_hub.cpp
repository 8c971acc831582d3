// The hub's config tables: [hub] with its [[hub.namespace]] list and [hub.jwt], [api] and
// [[webhook]] (docs/config.md, docs/identity.md, docs/webhooks.md).
#include <fmt/format.h>

#include <set>

#include "app/config_file.h"
#include "app/config_sections.h"
#include "hub/backend.h"

namespace wshub::app {

namespace {

using hub::HubConfig;
using hub::HubLimits;
using hub::JwtKeySource;
using hub::JwtPolicy;
using hub::JwtSettings;
using hub::NamespaceConfig;

const ConfigTable& namespace_table() {
  static const ConfigTable table =
      ConfigFields<NamespaceConfig>()
          .text("name", &NamespaceConfig::name,
                "the part before ':' in channel names; \"\" is the default namespace (names without ':')",
                {.required = true})
          .choice("subscribe", &NamespaceConfig::subscribe,
                  {{"anyone", hub::SubscribePolicy::anyone},
                   {"authenticated", hub::SubscribePolicy::authenticated},
                   {"token", hub::SubscribePolicy::token},
                   {"webhook", hub::SubscribePolicy::webhook}},
                  "who may subscribe: anyone, any user, channels in the token's `channels`, or the "
                  "subscribe webhook")
          .choice("publish", &NamespaceConfig::publish,
                  {{"backend", hub::PublishPolicy::backend},
                   {"subscribers", hub::PublishPolicy::subscribers},
                   {"webhook", hub::PublishPolicy::webhook}},
                  "who may publish from a client: nobody (the backend only), subscribers, or the "
                  "publish webhook")
          .flag("presence", &NamespaceConfig::presence, "who is subscribed can be asked")
          .flag("join_leave", &NamespaceConfig::join_leave,
                "subscribers get join and leave pushes (needs presence)")
          .count("history_size", &NamespaceConfig::history_size, 0, 10000000,
                 "publications kept per channel for resume and history; 0: none (no gap can be filled)")
          .size("history_bytes", &NamespaceConfig::history_bytes, 0, uint64_t(1) << 40,
                "data bytes kept per channel at most; 0: no byte limit")
          .count("history_ttl_s", &NamespaceConfig::history_ttl_s, 0, 100u * 365 * 86400,
                 "seconds a publication is kept at most; 0: no age limit")
          .check([](const NamespaceConfig& ns, TableCheck& check) {
            if ((ns.history_bytes || ns.history_ttl_s) && !ns.history_size)
              return check.fail("history_size", "history_bytes and history_ttl_s bound history: set history_size too");
            if (ns.join_leave && !ns.presence)
              return check.fail("join_leave", "needs presence = true in the same namespace");
            if (ns.name.find_first_of(":#$,") != std::string::npos)
              return check.fail("name", "a namespace name has no ':', '#', '$' or ','");
            return true;
          })
          .build();
  return table;
}

bool check_namespaces(const AppConfig& config, ListCheck& list) {
  std::set<std::string> names;
  for (size_t i = 0; i < config.hub.namespaces.size(); ++i)
    if (!names.insert(config.hub.namespaces[i].name).second)
      return list.fail(i, "name", fmt::format("namespace '{}' is configured twice", config.hub.namespaces[i].name));
  return true;
}

const ConfigTable& jwt_key_table() {
  static const ConfigTable table =
      ConfigFields<JwtKeySource>()
          .choice("alg", &JwtKeySource::alg,
                  {{"HS256", hub::JwtAlg::hs256}, {"RS256", hub::JwtAlg::rs256}, {"ES256", hub::JwtAlg::es256}},
                  "the one algorithm this key verifies (tokens naming another are refused)")
          .text("kid", &JwtKeySource::kid, "the key id tokens name in their header; \"\": none")
          .text("secret", &JwtKeySource::secret, "HS256: the shared secret (32 bytes or more)")
          .path("file", &JwtKeySource::file,
                "HS256: a file holding the secret; RS256/ES256: a PEM certificate or public key")
          .text("pem", &JwtKeySource::pem, "RS256/ES256: the PEM text itself")
          .build();
  return table;
}

const ConfigTable& jwt_table() {
  static const ConfigTable table =
      ConfigFields<JwtSettings>()
          .table_list("keys", &JwtSettings::keys, jwt_key_table(), "the keys tokens are verified with")
          .flag("allow_short_secret", &JwtSettings::allow_short_secret,
                "accept HS256 secrets under 32 bytes (development only)")
          .text_list("audience", via(&JwtSettings::policy, &JwtPolicy::audiences),
                     "aud must name one of these; empty: aud is not checked")
          .text("issuer", via(&JwtSettings::policy, &JwtPolicy::issuer),
                "iss must equal this; \"\": iss is not checked")
          .count("leeway_s", via(&JwtSettings::policy, &JwtPolicy::leeway_s), 0, 600,
                 "clock skew allowed on exp and nbf, in seconds")
          .flag("allow_no_exp", via(&JwtSettings::policy, &JwtPolicy::allow_no_exp),
                "accept tokens without exp (they never expire)")
          .size("max_token_bytes", via(&JwtSettings::policy, &JwtPolicy::max_token_bytes), 256, 65536,
                "the longest token accepted")
          .table("signing_key", &JwtSettings::signing_key, jwt_key_table(),
                 "the key `wshub token` signs with; default: the first HS256 key")
          .build();
  return table;
}

}  // namespace

const ConfigTable& hub_table() {
  static const ConfigTable table =
      ConfigFields<AppConfig>()
          .flag("allow_anonymous", via(&AppConfig::hub, &HubConfig::allow_anonymous),
                "connect without a token (user \"\") where no connect webhook decides")
          .duration_ms("connect_timeout_ms", via(&AppConfig::hub, &HubConfig::connect_timeout_ms),
                       100, 600000, "a connection that sends no connect within this is closed with 3501")
          .flag("personal_channels", via(&AppConfig::hub, &HubConfig::personal_channels),
                "subscribe every connection to $user:ID and $device:ID at connect")
          .flag("connect_at_upgrade", via(&AppConfig::hub, &HubConfig::connect_at_upgrade),
                "the connect webhook decides at the WebSocket upgrade, from its cookies and headers")
          .count("max_subscriptions", [](AppConfig& c) -> uint32_t& { return c.hub.limits.max_subscriptions; },
                 1, 1000000, "channels one connection may subscribe to (past it: 106)")
          .count("max_pending_requests", [](AppConfig& c) -> uint32_t& { return c.hub.limits.max_pending_requests; },
                 1, 100000, "requests of one connection waiting for the backend (past it: 111)")
          .size("max_data_bytes", [](AppConfig& c) -> uint32_t& { return c.hub.limits.max_data_bytes; },
                1, 16u << 20, "the largest data of one publish or rpc (past it: 114)")
          .count("max_presence_clients", [](AppConfig& c) -> uint32_t& { return c.hub.limits.max_presence_clients; },
                 1, 1000000, "entries one presence answer lists")
          .size("max_info_bytes", [](AppConfig& c) -> uint32_t& { return c.hub.limits.max_info_bytes; },
                2, 65536, "the largest info object of a connection")
          .count("max_batch", [](AppConfig& c) -> uint32_t& { return c.hub.commands.max_batch; }, 1, 10000,
                 "requests in one frame (past it: close 3501)")
          .count("mid_ttl_s", via(&AppConfig::hub, &HubConfig::mid_ttl_s), 0, 30u * 86400,
                 "how long a publish or rpc mid is remembered for deduplication (0: not at all)")
          .count("max_mids", via(&AppConfig::hub, &HubConfig::max_mids), 1, 100000000,
                 "mids remembered at most (past it the oldest are forgotten)")
          .size("mid_memory_bytes", via(&AppConfig::hub, &HubConfig::mid_memory_bytes), 64u << 10, 1u << 30,
                "memory the remembered mids may use (past it the oldest are forgotten)")
          .duration_ms("retry_after_min_ms", via(&AppConfig::hub, &HubConfig::retry_after_min_ms), 0, 3600000,
                       "the least retry_after of a disconnect before a 3001 or 3008 close")
          .duration_ms("retry_after_max_ms", via(&AppConfig::hub, &HubConfig::retry_after_max_ms), 0, 3600000,
                       "the most retry_after of a disconnect before a 3001 or 3008 close (both 0: none is sent)")
          .table_list("namespace", via(&AppConfig::hub, &HubConfig::namespaces), namespace_table(),
                      "channel namespaces and their rules",
                      {.shown_default = "one: name = \"\" (authenticated subscribe, backend publish)"},
                      check_namespaces)
          .table("jwt", &AppConfig::jwt, jwt_table(), "identity by JWT (docs/identity.md)",
                 {.shown_default = "none (./dev run without a config: a development secret)"})
          .build();
  return table;
}

const ConfigTable& api_table() {
  static const ConfigTable table =
      ConfigFields<ApiConfig>()
          .text("listen", &ApiConfig::listen, "HOST:PORT of the API listener")
          .text("key", &ApiConfig::key, "the API key: 'Authorization: Bearer KEY' or 'X-API-Key: KEY'")
          .path("key_file", &ApiConfig::key_file, "a file holding the API key instead of key")
          .size("max_body_bytes", &ApiConfig::max_body_bytes, 1024, 64u << 20,
                "the largest request body (past it: 413)")
          .duration_ms("response_timeout_ms", &ApiConfig::response_timeout_ms, 100, 600000,
                       "a request unanswered this long gets 504")
          .flag("open_metrics", &ApiConfig::open_metrics, "/metrics, /ready and /health need no key")
          .flag("admin", &ApiConfig::admin, "serve the admin page at /admin (behind the API key)")
          .check([](const ApiConfig& api, TableCheck& check) {
            if (!api.key.empty() && !api.key_file.empty())
              return check.fail("key_file", "give key or key_file, not both");
            return true;
          })
          .build();
  return table;
}

const ConfigTable& store_table() {
  static const ConfigTable table =
      ConfigFields<StoreConfig>()
          .text_choice("kind", &StoreConfig::kind, {"sqlite", "memory"},
                       "where history is kept: an embedded SQLite file, or memory (nothing survives a restart)")
          .text("path", &StoreConfig::path,
                "the SQLite file; relative to the config file's directory (without one: the working directory)")
          .text_choice("durability", &StoreConfig::durability, {"sync", "fast"},
                       "sync: a publish is answered once it is on disk; fast: once it is in the OS")
          .check([](const StoreConfig& store, TableCheck& check) {
            if (store.path.empty()) return check.fail("path", "give a file name");
            return true;
          })
          .build();
  return table;
}

const ConfigTable& inbox_table() {
  using hub::InboxSettings;
  constexpr uint64_t kYear = 366 * 86400;
  static const ConfigTable table =
      ConfigFields<InboxSettings>()
          .count("window", &InboxSettings::window, 1, 1000,
                 "msg pushes in flight unacknowledged per connection")
          .count("ack_timeout_s", &InboxSettings::ack_timeout_s, 1, 3600,
                 "an unacknowledged msg is pushed again after this many seconds (and at the next connect)")
          .count("default_ttl_s", &InboxSettings::default_ttl_s, 0, kYear,
                 "the ttl of a send that gives none, in seconds; 0: kept until acknowledged")
          .count("max_ttl_s", &InboxSettings::max_ttl_s, 1, kYear, "the largest ttl a send may ask, in seconds")
          .count("fallback_after_s", &InboxSettings::fallback_after_s, 0, kYear,
                 "inbox.undelivered is raised for a message still unacknowledged this many seconds after it was "
                 "queued; 0: never")
          .count("device_ttl_s", &InboxSettings::device_ttl_s, 1, 10 * kYear,
                 "a send to a user reaches the user's devices that connected within this many seconds")
          .count("max_pending", &InboxSettings::max_pending, 1, 100000000,
                 "unacknowledged messages one device may hold; a send past it is refused (115)")
          .count("receipt_retention_s", &InboxSettings::receipt_retention_s, 1, 10 * kYear,
                 "receipts of acknowledged or expired messages stay readable this many seconds")
          .count("idempotency_ttl_s", &InboxSettings::idempotency_ttl_s, 1, kYear,
                 "a repeated idempotency_key is answered from the first send within this many seconds")
          .count("max_devices_per_send", &InboxSettings::max_devices_per_send, 1, 10000,
                 "the devices one send to a user reaches at most")
          .check([](const InboxSettings& inbox, TableCheck& check) {
            if (inbox.default_ttl_s > inbox.max_ttl_s)
              return check.fail("default_ttl_s", "must not be larger than max_ttl_s");
            return true;
          })
          .build();
  return table;
}

const ConfigTable& webhook_table() {
  using api::WebhookEndpointConfig;
  auto endpoint = [](auto member) { return via(&WebhookEntry::endpoint, member); };
  static const ConfigTable table =
      ConfigFields<WebhookEntry>()
          .text("name", endpoint(&WebhookEndpointConfig::name), "a name for logs and metrics", {.required = true})
          .text("url", endpoint(&WebhookEndpointConfig::url), "http:// or https:// URL the hub POSTs to",
                {.required = true})
          .text("secret", endpoint(&WebhookEndpointConfig::secret),
                "HMAC-SHA256 key of X-Wshub-Signature (docs/webhooks.md)")
          .path("secret_file", &WebhookEntry::secret_file, "a file holding the secret instead of secret")
          .text_list("events", &WebhookEntry::events,
                     "what it answers: connect, rpc, publish, subscribe, disconnect, inbox.delivered, "
                     "inbox.acked, inbox.expired, inbox.undelivered")
          .duration_ms("timeout_ms", endpoint(&WebhookEndpointConfig::timeout_ms), 10, 600000,
                       "a call unanswered this long fails (the client gets 116)")
          .duration_ms("connect_timeout_ms", endpoint(&WebhookEndpointConfig::connect_timeout_ms), 10, 600000,
                       "time to open a connection to the backend")
          .count("max_concurrent", endpoint(&WebhookEndpointConfig::max_concurrent), 1, 10000,
                 "calls in flight at once (and pooled connections)")
          .count("max_queued", endpoint(&WebhookEndpointConfig::max_queued), 0, 1000000,
                 "calls waiting for a slot; past it a call fails at once")
          .duration_ms("keepalive_idle_ms", endpoint(&WebhookEndpointConfig::keepalive_idle_ms), 0, 3600000,
                       "an idle pooled connection older than this is closed")
          .size("max_response_bytes", endpoint(&WebhookEndpointConfig::max_response_bytes), 1, 64u << 20,
                "the largest answer read")
          .path("ca_file", endpoint(&WebhookEndpointConfig::ca_file), "https: a CA bundle to trust instead of the system's")
          .count("retry_max_attempts", [](WebhookEntry& e) -> uint32_t& { return e.endpoint.retry.max_attempts; },
                 1, 100, "notices (disconnect): attempts, the first included")
          .duration_ms("retry_max_total_ms", [](WebhookEntry& e) -> uint32_t& { return e.endpoint.retry.max_total_ms; },
                       0, 86400000, "notices: no attempt starts later than this")
          .count("breaker_failure_threshold",
                 [](WebhookEntry& e) -> uint32_t& { return e.endpoint.breaker.failure_threshold; }, 1, 1000,
                 "consecutive failures that open the circuit breaker")
          .duration_ms("breaker_open_ms", [](WebhookEntry& e) -> uint32_t& { return e.endpoint.breaker.open_ms; },
                       10, 3600000, "how long the breaker stays open before one probe")
          .build();
  return table;
}

bool check_webhooks(const AppConfig& config, ListCheck& list) {
  std::set<std::string> names, events;
  for (size_t i = 0; i < config.webhooks.size(); ++i) {
    const WebhookEntry& entry = config.webhooks[i];
    if (!names.insert(entry.endpoint.name).second)
      return list.fail(i, "name", fmt::format("webhook '{}' is configured twice", entry.endpoint.name));
    if (entry.endpoint.secret.empty() == entry.secret_file.empty())
      return list.fail(i, "secret", "give secret or secret_file (one of them)");
    api::WebhookEndpointConfig checked = entry.endpoint;
    if (checked.secret.empty()) checked.secret = "read from secret_file at start";
    const std::string problem = api::validate_webhook_endpoint(checked);
    if (!problem.empty()) return list.fail(i, "url", problem);
    for (const std::string& event : entry.events) {
      bool known = false;
      for (size_t e = 0; e < size_t(hub::BackendEvent::count_); ++e)
        known |= event == hub::backend_event_name(hub::BackendEvent(e));
      if (!known)
        return list.fail(i, "events",
                         fmt::format("'{}' is not an event; expected connect, rpc, publish, subscribe, disconnect, inbox.delivered, inbox.acked, inbox.expired or inbox.undelivered", event));
      if (!events.insert(event).second)
        return list.fail(i, "events", fmt::format("event '{}' is answered by two webhooks", event));
    }
  }
  return true;
}

}  // namespace wshub::app
