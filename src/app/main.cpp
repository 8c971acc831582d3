// wshub's entry point: command line, config, logging, signals, and the server's lifetime.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <cstdio>
#include <spdlog/spdlog.h>

#include "app/config_file.h"
#include "app/config_sections.h"
#include "app/logging.h"
#include "app/runtime.h"
#include "base/clock.h"
#include "hub/jwt.h"
#include "net/peer_address.h"
#include "net/socket_ops.h"
#include "server/server.h"
#include "tls/dev_certificates.h"
#include "tls/tls_context.h"

namespace {

using wshub::app::AppConfig;
using wshub::app::ConfigError;

int check_config(const std::string& path) {
  AppConfig config;
  ConfigError error;
  if (!wshub::app::load_config_file(path, config, error) ||
      !wshub::app::check_config_files(config, error)) {
    std::fprintf(stderr, "%s\n", error.message.c_str());
    return 1;
  }
  // What is in the certificate files too: the same checks as at start (PEM, validity,
  // matching key), reported at the listener's `cert` line.
  for (size_t i = 0; i < config.server.listeners.size(); ++i) {
    const wshub::server::ListenerConfig& listener = config.server.listeners[i];
    if (!listener.tls) continue;
    try {
      wshub::tls::TlsContext context(*listener.tls, listener.address.text);
      for (const std::string& summary : context.summaries())
        std::printf("%s: TLS %s\n", listener.address.text.c_str(), summary.c_str());
    } catch (const std::exception& e) {
      std::string where = path;
      for (const wshub::app::ConfigFileReference& file : config.files)
        if (file.entry == i) {
          where = fmt::format("{}:{}:{}: listen.tls", path, file.line, file.column);
          break;
        }
      std::fprintf(stderr, "%s: %s\n", where.c_str(), e.what());
      return 1;
    }
  }
  std::printf("%s: ok (%zu listeners, %zu routes)\n", path.c_str(), config.server.listeners.size(),
              config.routes.size());
  return 0;
}

int make_certificates(const std::vector<std::string>& hosts, const std::string& out_dir,
                      const std::string& key_type, int days) {
  wshub::tls::DevCertificates made;
  std::string why;
  const auto type = key_type == "rsa2048" ? wshub::tls::DevKeyType::rsa_2048
                                          : wshub::tls::DevKeyType::ecdsa_p256;
  if (!wshub::tls::make_dev_certificates(hosts, type, days, made, why) ||
      !wshub::tls::write_dev_certificates(made, out_dir, why)) {
    std::fprintf(stderr, "wshub cert: %s\n", why.c_str());
    return 1;
  }
  // Absolute, because the config takes relative paths from its own directory, not from here.
  std::error_code error;
  std::filesystem::path directory = std::filesystem::absolute(out_dir, error).lexically_normal();
  if (error) directory = out_dir;
  const std::string dir = directory.string();
  const std::string cert = (directory / "cert.pem").string();
  const std::string key = (directory / "key.pem").string();
  std::printf("wrote %s/ca.pem (trust this CA in the client), %s and %s (0600)\nfor:",
              dir.c_str(), cert.c_str(), key.c_str());
  for (const std::string& host : hosts) std::printf(" %s", host.c_str());
  std::printf("\n\nserve them with this in the config file:\n\n"
              "[[listen]]\n"
              "address = \"0.0.0.0:8443\"\n"
              "tls = { cert = %s, key = %s }\n",
              wshub::app::toml_quoted(cert).c_str(), wshub::app::toml_quoted(key).c_str());
  return 0;
}

// Blocks the signals the main thread handles, so worker threads (which inherit the mask)
// never take them; SIGPIPE is ignored because a peer that vanished is not an error.
sigset_t block_control_signals() {
  signal(SIGPIPE, SIG_IGN);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

int serve(AppConfig config, const sigset_t& signals) {
  wshub::app::configure_logging(config.log_format, config.log_level);
  std::unique_ptr<wshub::app::Runtime> runtime;
  try {
    runtime = std::make_unique<wshub::app::Runtime>(std::move(config));
    runtime->start();
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 1;
  }
  for (const std::string& warning : runtime->warnings()) spdlog::warn("{}", warning);
  for (const std::string& note : runtime->notes()) spdlog::info("{}", note);
  wshub::server::Server& server = runtime->server();
  // Once a second the main thread also looks for changed certificate files.
  const timespec tick{1, 0};
  for (;;) {
    const int signal_number = sigtimedwait(&signals, nullptr, &tick);
    if (signal_number < 0) {
      if (errno == EAGAIN) {
        server.reload_changed_tls();
        server.report_suppressed_logs();
      }
      continue;
    }
    if (signal_number == SIGHUP) {
      server.reload_tls("SIGHUP");
      continue;
    }
    spdlog::info("{}: closing connections and stopping (grace {} ms)",
                 signal_number == SIGTERM ? "SIGTERM" : "SIGINT",
                 server.config().limits.shutdown_grace_ms);
    break;
  }
  runtime->stop();
  spdlog::info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // First of all, so that a SIGTERM arriving while the server starts is held and then handled
  // as an orderly stop, never the default action.
  const sigset_t signals = block_control_signals();
  CLI::App cli{"wshub: a WebSocket server and push hub"};
  cli.set_version_flag("--version", std::string("wshub ") + WSHUB_VERSION);
  std::string config_path;
  std::vector<std::string> listen;
  uint32_t threads = 0;
  std::string log_format;
  cli.add_option("--config", config_path, "TOML config file")->check(CLI::ExistingFile);
  cli.add_option("--listen", listen, "HOST:PORT to listen on (repeatable; replaces [[listen]])");
  cli.add_option("--threads", threads, "worker threads (default: one per core)");
  std::string api_listen;
  cli.add_option("--api-listen", api_listen, "HOST:PORT of the backend HTTP API (replaces [api] listen)");
  bool share_port = false;
  cli.add_flag("--share-port", share_port,
               "start even if another process listens on an address, and share it with that "
               "process (zero-downtime restart); sets share_port on every listener");
  std::string io;
  cli.add_option("--io", io, "I/O backend: auto, epoll or io_uring")
      ->check(CLI::IsMember({"auto", "epoll", "io_uring"}));
  cli.add_option("--log-format", log_format, "text or json")->check(CLI::IsMember({"text", "json"}));
  std::string check_path;
  CLI::App* check = cli.add_subcommand("check-config", "validate a config file and exit");
  check->add_option("FILE", check_path, "config file");
  bool print_keys = false;
  check->add_flag("--keys", print_keys,
                  "print every config key with its type, default, bounds and meaning (Markdown)");
  std::vector<std::string> cert_hosts;
  std::string cert_out = ".";
  std::string cert_key = "p256";
  int cert_days = 825;
  CLI::App* cert = cli.add_subcommand(
      "cert", "make a development CA and a server certificate it signs (ca.pem, cert.pem, key.pem)");
  cert->add_option("--host", cert_hosts, "DNS name or IP address the certificate is for (repeatable)")
      ->required();
  cert->add_option("--out", cert_out, "directory to write into (created if missing)")->required();
  cert->add_option("--key", cert_key, "server key type: p256 (ECDSA, default) or rsa2048")
      ->check(CLI::IsMember({"p256", "rsa2048"}));
  cert->add_option("--days", cert_days, "validity in days (default 825, the most browsers accept)")
      ->check(CLI::Range(1, 3650));
  std::string token_user, token_device, token_info, token_config;
  std::vector<std::string> token_channels;
  int64_t token_ttl = 3600;
  CLI::App* token = cli.add_subcommand(
      "token", "mint a token for a hub client, signed with the config's [hub.jwt] key (or the "
               "development secret without a config), as centrifugo gentoken does");
  token->add_option("--user", token_user, "the user id (sub)")->required();
  token->add_option("--device", token_device, "the device id: gives the connection a device inbox");
  token->add_option("--ttl", token_ttl, "seconds until it expires; 0: no exp (needs allow_no_exp)")
      ->check(CLI::Range(int64_t(0), int64_t(10) * 365 * 86400));
  token->add_option("--channel", token_channels, "a channel it may subscribe to (repeatable)");
  token->add_option("--info", token_info, "a JSON object shown in presence");
  token->add_option("--config", token_config, "config file with [hub.jwt]")->check(CLI::ExistingFile);
  CLI11_PARSE(cli, argc, argv);
  if (*token) {
    AppConfig config;
    if (!token_config.empty()) {
      ConfigError error;
      if (!wshub::app::load_config_file(token_config, config, error)) {
        std::fprintf(stderr, "%s\n", error.message.c_str());
        return 1;
      }
    }
    const std::optional<wshub::hub::JwtSettings> jwt = wshub::app::effective_jwt(config);
    if (!jwt) {
      std::fprintf(stderr, "wshub token: %s has no [hub.jwt]: there is no key to sign with\n", token_config.c_str());
      return 1;
    }
    wshub::hub::JwtMintClaims claims;
    claims.sub = token_user;
    claims.device = token_device;
    claims.channels = token_channels;
    claims.has_channels = !token_channels.empty();
    claims.info = token_info;
    claims.now_s = wshub::wall_ms() / 1000;
    claims.ttl_s = token_ttl;
    std::string minted, why;
    if (!wshub::hub::mint_configured_jwt(*jwt, claims, minted, why)) {
      std::fprintf(stderr, "wshub token: %s\n", why.c_str());
      return 1;
    }
    std::printf("%s\n", minted.c_str());
    return 0;
  }

  if (*check) {
    if (print_keys) {
      std::fputs(wshub::app::app_config_reference_markdown().c_str(), stdout);
      return 0;
    }
    if (check_path.empty()) {
      std::fprintf(stderr, "check-config: give the config FILE to check, or --keys\n");
      return 2;
    }
    return check_config(check_path);
  }
  if (*cert) return make_certificates(cert_hosts, cert_out, cert_key, cert_days);

  AppConfig config;
  if (!config_path.empty()) {
    ConfigError error;
    // --listen replaces the file's listeners, and with them the files they name.
    if (!wshub::app::load_config_file(config_path, config, error) ||
        (listen.empty() && !wshub::app::check_config_files(config, error))) {
      std::fprintf(stderr, "%s\n", error.message.c_str());
      return 1;
    }
  }
  if (!listen.empty()) {
    config.server.listeners.clear();
    for (const std::string& text : listen) {
      wshub::server::ListenerConfig listener;
      listener.address.text = text;
      std::string why;
      if (!wshub::net::parse_listen_address(text, listener.address.address, listener.address.length, why)) {
        std::fprintf(stderr, "--listen %s: %s\n", text.c_str(), why.c_str());
        return 1;
      }
      for (const wshub::server::ListenerConfig& earlier : config.server.listeners)
        if (wshub::net::listen_addresses_overlap(listener.address, earlier.address)) {
          std::fprintf(stderr, "--listen %s: overlaps --listen %s; list each address once\n",
                       text.c_str(), earlier.address.text.c_str());
          return 1;
        }
      config.server.listeners.push_back(listener);
    }
  }
  if (share_port)
    for (wshub::server::ListenerConfig& listener : config.server.listeners) listener.share_port = true;
  if (!api_listen.empty()) {
    if (!config.api) config.api.emplace();
    config.api->listen = api_listen;
  } else if (config_path.empty() && listen.empty()) {
    // `./dev run` with nothing else: the whole hub, API included, on its development defaults.
    config.api.emplace();
  }
  if (threads) config.server.threads = threads;
  if (!io.empty()) wshub::app::parse_io_backend(io, config.server.io_backend);
  if (!log_format.empty()) config.log_format = log_format;
  return serve(std::move(config), signals);
}
