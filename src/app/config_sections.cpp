// wshub's config tables (config_sections.h): every key wshub reads, with its type, bounds,
// one-line doc and the field it fills, and the rules that span keys. docs/config.md explains
// each key at length; a unit test keeps the two in step.
#include "app/config_sections.h"

#include <fmt/format.h>

#include <cctype>
#include <cstring>
#include <set>

#include "app/config_file.h"
#include "net/peer_address.h"
#include "net/socket_ops.h"
#include "server/config.h"
#include "server/trusted_proxies.h"
#include "tls/tls_config.h"

namespace wshub::app {

namespace {

using server::ListenerConfig;
using server::RouteConfig;
using server::ServerConfig;

bool check_ip_network(std::string& text, std::string& why) {
  server::IpNetwork network;
  return server::parse_ip_network(text, network, why);
}

void set_trusted_proxies(AppConfig& config, std::vector<std::string> list) {
  std::vector<server::IpNetwork> networks(list.size());
  std::string why;
  for (size_t i = 0; i < list.size(); ++i) server::parse_ip_network(list[i], networks[i], why);
  config.server.trusted_proxies = server::TrustedProxies(std::move(networks));
}

const ConfigTable& server_table() {
  static const ConfigTable table =
      ConfigFields<AppConfig>()
          .count("threads", via(&AppConfig::server, &ServerConfig::threads), 0, 1024,
                 "worker threads, each with its own reactor and listeners; 0: one per core",
                 {.shown_default = "0 (one per core)"})
          .text_choice("log_format", &AppConfig::log_format, {"text", "json"},
                       "log lines as text, or one JSON object per line")
          .text_choice("log_level", &AppConfig::log_level,
                       {"trace", "debug", "info", "warn", "error", "off"}, "the lowest level logged")
          .text("health_path", via(&AppConfig::server, &ServerConfig::health_path),
                "path of the JSON health endpoint")
          .text_list("trusted_proxies", set_trusted_proxies,
                     "addresses and blocks of proxies whose X-Forwarded-For / X-Real-IP name the client",
                     {.expected = "a list such as [\"127.0.0.1\", \"10.0.0.0/8\"]",
                      .shown_default = "[]",
                      .check = check_ip_network})
          .choice("io", via(&AppConfig::server, &ServerConfig::io_backend),
                  {{"auto", net::IoBackend::automatic}, {"epoll", net::IoBackend::epoll},
                   {"io_uring", net::IoBackend::io_uring}},
                  "I/O backend; auto: io_uring where the kernel allows it, else epoll")
          .build();
  return table;
}

// SNI carries DNS names: lower-cased here, so matching is case-insensitive.
bool check_sni_host(std::string& host, std::string& why) {
  if (host.empty()) {
    why = "expected a host name such as \"ws.example.com\" or \"*.example.com\"";
    return false;
  }
  for (char& ch : host) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  for (char ch : host)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '.' || ch == '*')) {
      why = fmt::format("'{}' is not a DNS name (SNI carries names, not addresses)", host);
      return false;
    }
  if (host.find('*') != std::string::npos &&
      (host.rfind("*.", 0) != 0 || host.find('*', 1) != std::string::npos)) {
    why = "a wildcard must be the whole first label, as in \"*.example.com\"";
    return false;
  }
  return true;
}

KeyOptions pem_file() { return {.required = true, .expected = "the path of a PEM file"}; }

const ConfigTable& sni_table() {
  static const ConfigTable table =
      ConfigFields<tls::SniCertificate>()
          .text("host", &tls::SniCertificate::host,
                "the DNS name a client asks for; \"*.example.com\" covers one label",
                {.required = true,
                 .expected = "a host name such as \"ws.example.com\" or \"*.example.com\"",
                 .check = check_sni_host})
          .path("cert", via(&tls::SniCertificate::files, &tls::CertificateFiles::cert),
                "PEM file: the certificate for host, then its intermediates", pem_file())
          .path("key", via(&tls::SniCertificate::files, &tls::CertificateFiles::key),
                "PEM file: its private key", pem_file())
          .build();
  return table;
}

bool check_sni_hosts(const tls::TlsConfig& tls, ListCheck& list) {
  std::set<std::string> hosts;
  for (size_t i = 0; i < tls.sni.size(); ++i)
    if (!hosts.insert(tls.sni[i].host).second)
      return list.fail(i, "host", fmt::format("'{}' is listed twice", tls.sni[i].host));
  return true;
}

const ConfigTable& tls_table() {
  static const ConfigTable table =
      ConfigFields<tls::TlsConfig>()
          .path("cert", via(&tls::TlsConfig::files, &tls::CertificateFiles::cert),
                "PEM file: the certificate, then its intermediates (certbot's fullchain.pem)",
                pem_file())
          .path("key", via(&tls::TlsConfig::files, &tls::CertificateFiles::key),
                "PEM file: its private key, unencrypted", pem_file())
          .table_list("sni", &tls::TlsConfig::sni, sni_table(),
                      "other certificates, chosen by the name a client asks for",
                      {.expected = "a list: sni = [ { host = \"a.example.com\", cert = ..., key = ... } ]",
                       .shown_default = "[]"},
                      check_sni_hosts)
          .build();
  return table;
}

bool check_listen_address(std::string& text, std::string& why) {
  sockaddr_storage address;
  socklen_t length = 0;
  return net::parse_listen_address(text, address, length, why);
}

void set_listen_address(ListenerConfig& listener, std::string text) {
  std::string why;  // check_listen_address accepted it
  net::parse_listen_address(text, listener.address.address, listener.address.length, why);
  listener.address.text = std::move(text);
}

const ConfigTable& listen_table() {
  static const ConfigTable table =
      ConfigFields<ListenerConfig>()
          .text("address", set_listen_address,
                "HOST:PORT, [v6]:PORT or *:PORT; port 0 picks a free port",
                {.required = true,
                 .expected = "a string such as \"0.0.0.0:8077\"",
                 .check = check_listen_address})
          .table("tls", &ListenerConfig::tls, tls_table(), "makes this listener wss://",
                 {.expected = "a table: tls = { cert = \"cert.pem\", key = \"key.pem\" }",
                  .shown_default = "none (ws://)"})
          .flag("share_port", &ListenerConfig::share_port,
                "start even when another process listens on address, and share the port")
          .build();
  return table;
}

std::string overlap_sentence(const net::ListenAddress& address, const net::ListenAddress& earlier,
                             uint32_t earlier_line) {
  if (address.length == earlier.length &&
      std::memcmp(&address.address, &earlier.address, address.length) == 0)
    return fmt::format("'{}' is already listened on by the [[listen]] at line {}; list each "
                       "address once", address.text, earlier_line);
  return fmt::format("'{}' overlaps '{}' of the [[listen]] at line {}: a wildcard address "
                     "(0.0.0.0, [::]) takes every address on its port, so the two would compete "
                     "for the same connections; keep one",
                     address.text, earlier.text, earlier_line);
}

bool check_listeners(const AppConfig& config, ListCheck& list) {
  const std::vector<ListenerConfig>& listeners = config.server.listeners;
  if (listeners.empty()) return list.fail_list("at least one [[listen]] is needed");
  for (size_t later = 1; later < listeners.size(); ++later)
    for (size_t earlier = 0; earlier < later; ++earlier)
      if (net::listen_addresses_overlap(listeners[later].address, listeners[earlier].address))
        return list.fail(later, "address",
                         overlap_sentence(listeners[later].address, listeners[earlier].address,
                                          list.line_of(earlier, "address")));
  return true;
}

bool check_route_path(std::string& path, std::string& why) {
  if (!path.empty() && path[0] == '/') return true;
  why = "expected a path starting with '/'";
  return false;
}

const ConfigTable& route_table() {
  static const ConfigTable table =
      ConfigFields<RouteEntry>()
          .text("path", via(&RouteEntry::route, &RouteConfig::path),
                "exact path, starting with /; the query is ignored",
                {.required = true, .expected = "a path starting with '/'", .check = check_route_path})
          .text_choice("handler", via(&RouteEntry::route, &RouteConfig::kind),
                       {"echo", "reply", "broadcast", "hub"},
                       "echo: echo every message; reply: answer each with reply; broadcast: relay "
                       "each to every connection on the route; hub: the push hub's protocol "
                       "(docs/hub-protocol.md)")
          .text("reply", &RouteEntry::reply, "the text the reply handler answers with")
          .duration_ms("ping_interval_ms", via(&RouteEntry::hub, &hub::HubRouteParams::ping_interval_ms),
                       1000, 3600000,
                       "hub: how often the server sends {\"t\":\"ping\"} (the answer's hb.iv)")
          .duration_ms("pong_timeout_ms", via(&RouteEntry::hub, &hub::HubRouteParams::pong_timeout_ms),
                       1000, 3600000,
                       "hub: no pong within this after a ping closes with 3012 (hb.to)")
          .text_list("allowed_origins", via(&RouteEntry::route, &RouteConfig::allowed_origins),
                     "browser Origin values allowed; empty or \"*\": any")
          .text_list("subprotocols", via(&RouteEntry::route, &RouteConfig::subprotocols),
                     "subprotocols served, in the server's order of preference")
          .flag("require_subprotocol", via(&RouteEntry::route, &RouteConfig::require_subprotocol),
                "refuse (400) a client that offers none of subprotocols")
          .build();
  return table;
}

bool check_routes(const AppConfig& config, ListCheck& list) {
  std::set<std::string> paths;
  for (size_t i = 0; i < config.routes.size(); ++i) {
    const std::string& path = config.routes[i].route.path;
    if (!paths.insert(path).second || path == config.server.health_path)
      return list.fail(i, "path",
                       fmt::format("'{}' is already used by another route or by health_path", path));
  }
  return true;
}

}  // namespace

const ConfigTable& app_config_table() {
  static const ConfigTable table =
      ConfigFields<AppConfig>()
          .table("server", [](AppConfig& config) -> AppConfig& { return config; }, server_table(),
                 "process-wide settings")
          .table_list("listen", via(&AppConfig::server, &ServerConfig::listeners), listen_table(),
                      "the addresses to listen on",
                      {.shown_default = "one: address = \"127.0.0.1:8077\""}, check_listeners)
          .table("limits", via(&AppConfig::server, &ServerConfig::limits), limits_table(),
                 "limits on connections, requests, messages and time")
          .table_list("route", &AppConfig::routes, route_table(), "the WebSocket routes",
                      {.shown_default = "/echo (echo), /login (reply) and /hub (hub)"}, check_routes)
          .table("compression", via(&AppConfig::server, &ServerConfig::compression),
                 compression_table(), "permessage-deflate (RFC 7692)")
          .table("hub", [](AppConfig& config) -> AppConfig& { return config; }, hub_table(),
                 "the push hub: namespaces, identity, limits (docs/hub-protocol.md)")
          .table("api", &AppConfig::api, api_table(), "the backend HTTP API (docs/api.md); off without it",
                 {.shown_default = "none (./dev run without a config: 127.0.0.1:8078, development key)"})
          .table_list("webhook", &AppConfig::webhooks, webhook_table(),
                      "backend endpoints the hub calls (docs/webhooks.md)", {.shown_default = "none"},
                      check_webhooks)
          .table("store", &AppConfig::store, store_table(),
                 "positions and history: the embedded SQLite store (docs/durability.md)")
          .table("inbox", via(&AppConfig::hub, &hub::HubConfig::inbox), inbox_table(),
                 "the durable per-device inbox (docs/hub-protocol.md, Inbox); needs [store] kind = \"sqlite\"")
          .build();
  return table;
}

bool parse_io_backend(std::string_view text, net::IoBackend& out) {
  if (text == "auto") out = net::IoBackend::automatic;
  else if (text == "epoll") out = net::IoBackend::epoll;
  else if (text == "io_uring") out = net::IoBackend::io_uring;
  else return false;
  return true;
}

}  // namespace wshub::app
