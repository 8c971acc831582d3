#include "app/config_file.h"

#include <fmt/format.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <charconv>
#include <set>
#include <sstream>
#include <toml++/toml.h>

#include "net/peer_address.h"
#include "server/trusted_proxies.h"

namespace wshub::app {

namespace {

struct ConfigReader {
  std::string_view source;
  ConfigError& error;
  std::string base_directory;  // of the config file, for relative certificate paths
  std::vector<ConfigFileReference>& files;
  size_t listener_index = 0;  // of the [[listen]] being read

  bool fail(const toml::node* node, std::string_view key, std::string message) {
    return fail_at(node ? node->source().begin : toml::source_position{}, key, std::move(message));
  }
  bool fail_at(const toml::source_position& where, std::string_view key, std::string message) {
    error.message = fmt::format("{}:{}:{}: {}: {}", source, where.line, where.column, key, message);
    return false;
  }

  bool check_known_keys(const toml::table& table, std::string_view section,
                        std::initializer_list<std::string_view> known) {
    for (auto&& [key, node] : table) {
      bool found = false;
      for (std::string_view k : known) found |= key.str() == k;
      if (!found) {
        std::string list;
        for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
        std::string full = section.empty() ? std::string(key.str()) : fmt::format("{}.{}", section, key.str());
        return fail_at(key.source().begin, full,
                       fmt::format("unknown key; known keys here: {}", list));
      }
    }
    return true;
  }

  bool read_string(const toml::table& table, std::string_view section, std::string_view key,
                   std::string& out) {
    const toml::node* node = table.get(key);
    if (!node) return true;
    if (!node->is_string()) return fail(node, fmt::format("{}{}", section, key), "expected a string");
    out = *node->value<std::string>();
    return true;
  }

  // A whole number up to `max`; where `size` is true also a string with a unit ("16MiB").
  bool read_uint(const toml::table& table, std::string_view section, std::string_view key,
                 uint64_t max, bool size, uint64_t& out) {
    const toml::node* node = table.get(key);
    if (!node) return true;
    std::string full = fmt::format("{}{}", section, key);
    const char* expected =
        size ? "expected a whole number of bytes or a size such as \"16MiB\"" : "expected a whole number";
    int64_t value = 0;
    if (node->is_integer()) {
      value = *node->value<int64_t>();
    } else if (size && node->is_string()) {
      uint64_t bytes = 0;
      if (!parse_byte_size(*node->value<std::string>(), bytes)) return fail(node, full, expected);
      value = int64_t(std::min<uint64_t>(bytes, INT64_MAX));
    } else {
      return fail(node, full, expected);
    }
    if (value < 0 || uint64_t(value) > max)
      return fail(node, full, fmt::format("must be between 0 and {}", max));
    out = uint64_t(value);
    return true;
  }

  // A count or a duration: a whole number only.
  template <typename T>
  bool read_number(const toml::table& table, std::string_view section, std::string_view key,
                   uint64_t max, T& out) {
    uint64_t value = out;
    if (!read_uint(table, section, key, max, false, value)) return false;
    out = T(value);
    return true;
  }

  // A number of bytes: a whole number or a size with a unit.
  template <typename T>
  bool read_size(const toml::table& table, std::string_view section, std::string_view key,
                 uint64_t max, T& out) {
    uint64_t value = out;
    if (!read_uint(table, section, key, max, true, value)) return false;
    out = T(value);
    return true;
  }

  bool read_string_list(const toml::table& table, std::string_view section, std::string_view key,
                        std::vector<std::string>& out) {
    const toml::node* node = table.get(key);
    if (!node) return true;
    const toml::array* array = node->as_array();
    std::string full = fmt::format("{}{}", section, key);
    if (!array) return fail(node, full, "expected a list of strings");
    out.clear();
    for (const toml::node& item : *array) {
      if (!item.is_string()) return fail(&item, full, "expected a list of strings");
      out.push_back(*item.value<std::string>());
    }
    return true;
  }

  bool read_limits(const toml::table& t, server::Limits& l) {
    constexpr std::string_view s = "limits.";
    return check_known_keys(t, "limits",
                            {"max_connections", "max_connections_per_ip", "max_head_bytes",
                             "max_headers", "max_frame_bytes", "max_message_bytes",
                             "max_fragments", "max_buffered_bytes", "max_handshakes_per_second_per_ip",
                             "max_handshakes_per_second", "max_pings_per_second", "handshake_timeout_ms",
                             "ping_interval_ms", "idle_timeout_ms", "close_timeout_ms",
                             "shutdown_grace_ms"}) &&
           read_number(t, s, "max_connections", UINT32_MAX, l.max_connections) &&
           read_number(t, s, "max_connections_per_ip", UINT32_MAX, l.max_connections_per_ip) &&
           read_size(t, s, "max_head_bytes", 65535, l.max_head_bytes) &&
           read_number(t, s, "max_headers", 128, l.max_headers) &&
           read_size(t, s, "max_frame_bytes", uint64_t(1) << 40, l.max_frame_bytes) &&
           read_size(t, s, "max_message_bytes", uint64_t(1) << 40, l.max_message_bytes) &&
           read_number(t, s, "max_fragments", UINT32_MAX, l.max_fragments) &&
           read_number(t, s, "max_handshakes_per_second_per_ip", UINT32_MAX,
                       l.max_handshakes_per_second_per_ip) &&
           read_number(t, s, "max_handshakes_per_second", UINT32_MAX, l.max_handshakes_per_second) &&
           read_number(t, s, "max_pings_per_second", 63, l.max_pings_per_second) &&
           read_size(t, s, "max_buffered_bytes", uint64_t(1) << 40, l.max_buffered_bytes) &&
           read_number(t, s, "handshake_timeout_ms", 3600000, l.handshake_timeout_ms) &&
           read_number(t, s, "ping_interval_ms", 3600000, l.ping_interval_ms) &&
           read_number(t, s, "idle_timeout_ms", 86400000, l.idle_timeout_ms) &&
           read_number(t, s, "close_timeout_ms", 3600000, l.close_timeout_ms) &&
           read_number(t, s, "shutdown_grace_ms", 3600000, l.shutdown_grace_ms) &&
           check_limits(t, l);
  }

  bool check_limits(const toml::table& t, const server::Limits& l) {
    if (l.max_head_bytes < 256)
      return fail(t.get("max_head_bytes"), "limits.max_head_bytes", "must be at least 256");
    if (l.max_message_bytes < l.max_frame_bytes && t.get("max_message_bytes"))
      return fail(t.get("max_message_bytes"), "limits.max_message_bytes",
                  "must not be smaller than limits.max_frame_bytes");
    if (l.idle_timeout_ms && l.ping_interval_ms && l.idle_timeout_ms <= l.ping_interval_ms)
      return fail(t.get("idle_timeout_ms") ? t.get("idle_timeout_ms") : t.get("ping_interval_ms"),
                  "limits.idle_timeout_ms",
                  "must be greater than limits.ping_interval_ms, or a live but quiet client "
                  "is cut before it is pinged");
    if (l.handshake_timeout_ms == 0)
      return fail(t.get("handshake_timeout_ms"), "limits.handshake_timeout_ms",
                  "must be above 0: without it a client that never finishes its head holds a "
                  "connection forever");
    return true;
  }

  // A file path in the config: relative paths are taken from the config file's directory.
  bool read_path(const toml::table& table, std::string_view section, std::string_view key,
                 const toml::node& owner, std::string& out) {
    const toml::node* node = table.get(key);
    const std::string full = fmt::format("{}{}", section, key);
    if (!node) return fail(&owner, full, "missing; expected the path of a PEM file");
    if (!node->is_string() || node->value<std::string>()->empty())
      return fail(node, full, "expected the path of a PEM file");
    out = *node->value<std::string>();
    if (out[0] != '/' && !base_directory.empty()) out = base_directory + "/" + out;
    const toml::source_position& where = node->source().begin;
    files.push_back({full, out, listener_index, where.line, where.column});
    return true;
  }

  bool read_certificate_files(const toml::table& t, std::string_view section,
                              tls::CertificateFiles& files) {
    return read_path(t, section, "cert", t, files.cert) && read_path(t, section, "key", t, files.key);
  }

  bool read_tls(const toml::node& node, std::optional<tls::TlsConfig>& out) {
    const toml::table* t = node.as_table();
    if (!t) return fail(&node, "listen.tls",
                        "expected a table: tls = { cert = \"cert.pem\", key = \"key.pem\" }");
    if (!check_known_keys(*t, "listen.tls", {"cert", "key", "sni"})) return false;
    tls::TlsConfig config;
    if (!read_certificate_files(*t, "listen.tls.", config.files)) return false;
    if (const toml::node* sni = t->get("sni")) {
      const toml::array* entries = sni->as_array();
      if (!entries) return fail(sni, "listen.tls.sni",
                                "expected a list: sni = [ { host = \"a.example.com\", cert = ..., key = ... } ]");
      std::set<std::string> hosts;
      for (const toml::node& item : *entries) {
        const toml::table* entry = item.as_table();
        if (!entry) return fail(&item, "listen.tls.sni", "expected { host = ..., cert = ..., key = ... }");
        if (!check_known_keys(*entry, "listen.tls.sni", {"host", "cert", "key"})) return false;
        tls::SniCertificate sni_entry;
        const toml::node* host = entry->get("host");
        if (!host || !host->is_string() || host->value<std::string>()->empty())
          return fail(host ? host : &item, "listen.tls.sni.host",
                      "expected a host name such as \"ws.example.com\" or \"*.example.com\"");
        sni_entry.host = *host->value<std::string>();
        for (char& ch : sni_entry.host) ch = char(std::tolower(static_cast<unsigned char>(ch)));
        for (char ch : sni_entry.host)
          if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '.' || ch == '*'))
            return fail(host, "listen.tls.sni.host",
                        fmt::format("'{}' is not a DNS name (SNI carries names, not addresses)",
                                    sni_entry.host));
        if (sni_entry.host.find('*') != std::string::npos &&
            (sni_entry.host.rfind("*.", 0) != 0 || sni_entry.host.find('*', 1) != std::string::npos))
          return fail(host, "listen.tls.sni.host",
                      "a wildcard must be the whole first label, as in \"*.example.com\"");
        if (!hosts.insert(sni_entry.host).second)
          return fail(host, "listen.tls.sni.host",
                      fmt::format("'{}' is listed twice", sni_entry.host));
        if (!read_certificate_files(*entry, "listen.tls.sni.", sni_entry.files)) return false;
        config.sni.push_back(std::move(sni_entry));
      }
    }
    out = std::move(config);
    return true;
  }

  bool read_trusted_proxies(const toml::table& t, server::ServerConfig& config) {
    const toml::node* node = t.get("trusted_proxies");
    if (!node) return true;
    const toml::array* array = node->as_array();
    if (!array) return fail(node, "server.trusted_proxies",
                            "expected a list such as [\"127.0.0.1\", \"10.0.0.0/8\"]");
    std::vector<server::IpNetwork> networks;
    for (const toml::node& item : *array) {
      if (!item.is_string())
        return fail(&item, "server.trusted_proxies", "expected addresses or blocks as strings");
      server::IpNetwork network;
      std::string why;
      if (!server::parse_ip_network(*item.value<std::string>(), network, why))
        return fail(&item, "server.trusted_proxies", why);
      networks.push_back(network);
    }
    config.trusted_proxies = server::TrustedProxies(std::move(networks));
    return true;
  }

  static std::string overlap_sentence(const net::ListenAddress& address,
                                      const net::ListenAddress& earlier, uint32_t earlier_line) {
    if (address.length == earlier.length &&
        std::memcmp(&address.address, &earlier.address, address.length) == 0)
      return fmt::format("'{}' is already listened on by the [[listen]] at line {}; list each "
                         "address once", address.text, earlier_line);
    return fmt::format("'{}' overlaps '{}' of the [[listen]] at line {}: a wildcard address "
                       "(0.0.0.0, [::]) takes every address on its port, so the two would "
                       "compete for the same connections; keep one",
                       address.text, earlier.text, earlier_line);
  }

  bool read_listeners(const toml::array& array, server::ServerConfig& config) {
    config.listeners.clear();
    std::vector<uint32_t> address_lines;
    for (const toml::node& item : array) {
      const toml::table* table = item.as_table();
      if (!table) return fail(&item, "listen", "expected [[listen]] tables");
      if (!check_known_keys(*table, "listen", {"address", "tls", "share_port"})) return false;
      const toml::node* address = table->get("address");
      if (!address || !address->is_string())
        return fail(address ? address : &item, "listen.address",
                    "expected a string such as \"0.0.0.0:8077\"");
      listener_index = config.listeners.size();
      server::ListenerConfig listener;
      listener.address.text = *address->value<std::string>();
      std::string why;
      if (!net::parse_listen_address(listener.address.text, listener.address.address,
                                     listener.address.length, why))
        return fail(address, "listen.address", why);
      for (size_t i = 0; i < config.listeners.size(); ++i)
        if (net::listen_addresses_overlap(listener.address, config.listeners[i].address))
          return fail(address, "listen.address",
                      overlap_sentence(listener.address, config.listeners[i].address,
                                       address_lines[i]));
      if (const toml::node* tls = table->get("tls"))
        if (!read_tls(*tls, listener.tls)) return false;
      if (!read_flag(*table, "listen.", "share_port", listener.share_port)) return false;
      config.listeners.push_back(listener);
      address_lines.push_back(address->source().begin.line);
    }
    if (config.listeners.empty()) return fail(&array, "listen", "at least one [[listen]] is needed");
    return true;
  }

  bool read_routes(const toml::array& array, server::ServerConfig& config) {
    config.routes.clear();
    std::set<std::string> paths;
    for (const toml::node& item : array) {
      const toml::table* t = item.as_table();
      if (!t) return fail(&item, "route", "expected [[route]] tables");
      if (!check_known_keys(*t, "route",
                            {"path", "handler", "reply", "allowed_origins", "subprotocols",
                             "require_subprotocol"}))
        return false;
      server::RouteConfig route;
      std::string handler = "echo";
      if (!read_string(*t, "route.", "path", route.path) ||
          !read_string(*t, "route.", "handler", handler) ||
          !read_string(*t, "route.", "reply", route.reply_text) ||
          !read_string_list(*t, "route.", "allowed_origins", route.allowed_origins) ||
          !read_string_list(*t, "route.", "subprotocols", route.subprotocols))
        return false;
      if (const toml::node* req = t->get("require_subprotocol")) {
        if (!req->is_boolean()) return fail(req, "route.require_subprotocol", "expected true or false");
        route.require_subprotocol = *req->value<bool>();
      }
      if (route.path.empty() || route.path[0] != '/')
        return fail(t->get("path") ? t->get("path") : &item, "route.path",
                    "expected a path starting with '/'");
      if (!paths.insert(route.path).second || route.path == config.health_path)
        return fail(t->get("path"), "route.path",
                    fmt::format("'{}' is already used by another route or by health_path", route.path));
      if (handler == "echo") route.kind = server::RouteKind::echo;
      else if (handler == "reply") route.kind = server::RouteKind::reply;
      else if (handler == "broadcast") route.kind = server::RouteKind::broadcast;
      else return fail(t->get("handler"), "route.handler", "expected \"echo\", \"reply\" or \"broadcast\"");
      config.routes.push_back(std::move(route));
    }
    return true;
  }

  bool read_flag(const toml::table& t, std::string_view section, std::string_view key, bool& out) {
    const toml::node* node = t.get(key);
    if (!node) return true;
    if (!node->is_boolean()) return fail(node, fmt::format("{}{}", section, key), "expected true or false");
    out = *node->value<bool>();
    return true;
  }

  // [compression]: permessage-deflate (docs/compression.md).
  bool read_compression(const toml::table& t, proto::DeflatePolicy& p) {
    constexpr std::string_view s = "compression.";
    if (!check_known_keys(t, "compression",
                          {"enabled", "server_no_context_takeover", "client_no_context_takeover",
                           "server_max_window_bits", "client_max_window_bits", "level",
                           "mem_level", "min_message_bytes"}) ||
        !read_flag(t, s, "enabled", p.enabled) ||
        !read_flag(t, s, "server_no_context_takeover", p.server_no_context_takeover) ||
        !read_flag(t, s, "client_no_context_takeover", p.client_no_context_takeover) ||
        !read_number(t, s, "server_max_window_bits", 15, p.server_max_window_bits) ||
        !read_number(t, s, "client_max_window_bits", 15, p.client_max_window_bits) ||
        !read_number(t, s, "level", 9, p.level) || !read_number(t, s, "mem_level", 9, p.mem_level) ||
        !read_size(t, s, "min_message_bytes", UINT32_MAX, p.min_message_bytes))
      return false;
    if (p.server_max_window_bits < 9)
      return fail(t.get("server_max_window_bits"), "compression.server_max_window_bits",
                  "must be between 9 and 15: zlib cannot compress with a 256-byte window (8)");
    if (p.client_max_window_bits < 8)
      return fail(t.get("client_max_window_bits"), "compression.client_max_window_bits",
                  "must be between 8 and 15");
    if (p.level < 1) return fail(t.get("level"), "compression.level", "must be between 1 and 9");
    if (p.mem_level < 1)
      return fail(t.get("mem_level"), "compression.mem_level", "must be between 1 and 9");
    return true;
  }

  bool read_io_backend(const toml::table& t, server::ServerConfig& config) {
    std::string io = net::io_backend_name(config.io_backend);
    if (!read_string(t, "server.", "io", io)) return false;
    if (!parse_io_backend(io, config.io_backend))
      return fail(t.get("io"), "server.io", "expected \"auto\", \"epoll\" or \"io_uring\"");
    return true;
  }

  bool read(const toml::table& root, AppConfig& out) {
    if (!check_known_keys(root, "", {"server", "listen", "limits", "route", "compression"}))
      return false;
    if (const toml::node* node = root.get("server")) {
      const toml::table* t = node->as_table();
      if (!t) return fail(node, "server", "expected a [server] table");
      if (!check_known_keys(*t, "server", {"threads", "log_format", "log_level", "health_path",
                                           "trusted_proxies", "io"}) ||
          !read_io_backend(*t, out.server) ||
          !read_trusted_proxies(*t, out.server) ||
          !read_number(*t, "server.", "threads", 1024, out.server.threads) ||
          !read_string(*t, "server.", "log_format", out.log_format) ||
          !read_string(*t, "server.", "log_level", out.log_level) ||
          !read_string(*t, "server.", "health_path", out.server.health_path))
        return false;
      if (out.log_format != "text" && out.log_format != "json")
        return fail(t->get("log_format"), "server.log_format", "expected \"text\" or \"json\"");
      static const std::set<std::string> levels = {"trace", "debug", "info", "warn", "error", "off"};
      if (!levels.count(out.log_level))
        return fail(t->get("log_level"), "server.log_level",
                    "expected trace, debug, info, warn, error or off");
    }
    if (const toml::node* node = root.get("limits")) {
      const toml::table* t = node->as_table();
      if (!t) return fail(node, "limits", "expected a [limits] table");
      if (!read_limits(*t, out.server.limits)) return false;
    }
    if (const toml::node* node = root.get("compression")) {
      const toml::table* t = node->as_table();
      if (!t) return fail(node, "compression", "expected a [compression] table");
      if (!read_compression(*t, out.server.compression)) return false;
    }
    if (const toml::node* node = root.get("listen")) {
      const toml::array* a = node->as_array();
      if (!a) return fail(node, "listen", "expected [[listen]] tables");
      if (!read_listeners(*a, out.server)) return false;
    }
    if (const toml::node* node = root.get("route")) {
      const toml::array* a = node->as_array();
      if (!a) return fail(node, "route", "expected [[route]] tables");
      if (!read_routes(*a, out.server)) return false;
    }
    return true;
  }
};

}  // namespace

bool parse_io_backend(std::string_view text, net::IoBackend& out) {
  if (text == "auto") out = net::IoBackend::automatic;
  else if (text == "epoll") out = net::IoBackend::epoll;
  else if (text == "io_uring") out = net::IoBackend::io_uring;
  else return false;
  return true;
}

std::string toml_quoted(std::string_view text) {
  // A basic string ("...", escapes where needed): literal strings ('...') are valid TOML too,
  // but read as odd to anyone who has not met them.
  std::ostringstream out;
  const toml::value<std::string> value{std::string(text)};
  out << toml::toml_formatter(value, toml::format_flags::allow_unicode_strings);
  return out.str();
}

bool parse_byte_size(std::string_view text, uint64_t& out) {
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  uint64_t number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc() || end == text.data()) return false;
  std::string_view unit(end, size_t(text.data() + text.size() - end));
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  uint64_t scale = 1;
  if (unit.empty() || unit == "B") scale = 1;
  else if (unit == "KiB" || unit == "K" || unit == "k") scale = 1ull << 10;
  else if (unit == "MiB" || unit == "M") scale = 1ull << 20;
  else if (unit == "GiB" || unit == "G") scale = 1ull << 30;
  else return false;
  if (number > UINT64_MAX / scale) return false;
  out = number * scale;
  return true;
}

bool load_config_text(std::string_view text, std::string_view source_name, AppConfig& out,
                      ConfigError& error) {
  toml::table root;
  try {
    root = toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    error.message = fmt::format("{}:{}:{}: {}", source_name, e.source().begin.line,
                                e.source().begin.column, e.description());
    return false;
  }
  std::string base(source_name);
  const size_t slash = base.rfind('/');
  base = slash == std::string::npos ? std::string() : base.substr(0, slash == 0 ? 1 : slash);
  out.source = std::string(source_name);
  out.files.clear();
  ConfigReader reader{source_name, error, base, out.files};
  return reader.read(root, out);
}

bool check_config_files(const AppConfig& config, ConfigError& error) {
  for (const ConfigFileReference& file : config.files) {
    FILE* opened = std::fopen(file.path.c_str(), "rb");
    if (opened) {
      std::fclose(opened);
      continue;
    }
    error.message = fmt::format("{}:{}:{}: {}: cannot open {}: {}", config.source, file.line,
                                file.column, file.key, file.path, std::strerror(errno));
    return false;
  }
  return true;
}

bool load_config_file(const std::string& path, AppConfig& out, ConfigError& error) {
  FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) {
    error.message = fmt::format("{}: cannot open: {}", path, std::strerror(errno));
    return false;
  }
  std::string text;
  char chunk[4096];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof chunk, file)) > 0) text.append(chunk, n);
  std::fclose(file);
  return load_config_text(text, path, out, error);
}

}  // namespace wshub::app
