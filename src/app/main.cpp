// wshub's entry point: command line, config, logging, signals, and the server's lifetime.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <spdlog/spdlog.h>

#include "app/config_file.h"
#include "app/logging.h"
#include "net/peer_address.h"
#include "server/server.h"

namespace {

using wshub::app::AppConfig;
using wshub::app::ConfigError;

int check_config(const std::string& path) {
  AppConfig config;
  ConfigError error;
  if (!wshub::app::load_config_file(path, config, error)) {
    std::fprintf(stderr, "%s\n", error.message.c_str());
    return 1;
  }
  std::printf("%s: ok (%zu listeners, %zu routes)\n", path.c_str(), config.server.listeners.size(),
              config.server.routes.size());
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

int serve(AppConfig config) {
  wshub::app::configure_logging(config.log_format, config.log_level);
  const sigset_t signals = block_control_signals();
  wshub::server::Server server(std::move(config.server));
  try {
    server.start();
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 1;
  }
  for (;;) {
    int signal_number = 0;
    if (sigwait(&signals, &signal_number) != 0) continue;
    if (signal_number == SIGHUP) {
      spdlog::info("SIGHUP: nothing to reload yet");
      continue;
    }
    spdlog::info("{}: closing connections with 1001 and stopping (grace {} ms)",
                 signal_number == SIGTERM ? "SIGTERM" : "SIGINT",
                 server.config().limits.shutdown_grace_ms);
    break;
  }
  server.request_shutdown();
  server.wait();
  spdlog::info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"wshub: a WebSocket server and push hub"};
  cli.set_version_flag("--version", std::string("wshub ") + WSHUB_VERSION);
  std::string config_path;
  std::vector<std::string> listen;
  uint32_t threads = 0;
  std::string log_format;
  cli.add_option("--config", config_path, "TOML config file")->check(CLI::ExistingFile);
  cli.add_option("--listen", listen, "HOST:PORT to listen on (repeatable; replaces [[listen]])");
  cli.add_option("--threads", threads, "worker threads (default: one per core)");
  cli.add_option("--log-format", log_format, "text or json")->check(CLI::IsMember({"text", "json"}));
  std::string check_path;
  CLI::App* check = cli.add_subcommand("check-config", "validate a config file and exit");
  check->add_option("FILE", check_path, "config file")->required();
  CLI11_PARSE(cli, argc, argv);

  if (*check) return check_config(check_path);

  AppConfig config;
  if (!config_path.empty()) {
    ConfigError error;
    if (!wshub::app::load_config_file(config_path, config, error)) {
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
      config.server.listeners.push_back(listener);
    }
  }
  if (threads) config.server.threads = threads;
  if (!log_format.empty()) config.log_format = log_format;
  return serve(std::move(config));
}
