// The wshub-load command line (CLI11): one subcommand per mode. Other scripts drive these
// exact option names; add options, never rename them.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <map>

#include "options.h"
#include "source_ips.h"

namespace wshub::load {

namespace {

constexpr uint32_t kMaxThreads = 64;
constexpr uint32_t kMaxPayload = 16u << 20;  // the server's default max_message_bytes
constexpr uint32_t kMaxDepth = 4096;
constexpr uint32_t kFanoutHeaderBytes = 24;  // sequence number + send time, as hex

void add_common(CLI::App* app, LoadOptions& o) {
  app->add_option("--url", o.url_text, "ws:// or wss:// URL on a loopback address")->required();
  app->add_option("--duration", o.duration_s, "seconds (measured window; see README per mode)")
      ->check(CLI::Range(0.1, 86400.0));
  app->add_option("--warmup", o.warmup_s, "seconds of traffic before measuring")->check(CLI::Range(0.0, 3600.0));
  app->add_option("--threads", o.threads, "load threads, one epoll loop each")->check(CLI::Range(1u, kMaxThreads));
  app->add_option("--server-pid", o.server_pid, "measure this server process's CPU (and RSS) from /proc")
      ->check(CLI::PositiveNumber);
  app->add_flag("--json", o.json, "print one JSON object on stdout at the end, nothing else");
  app->add_flag("--insecure", o.tls.insecure, "wss: do not verify the server certificate");
  app->add_option("--ca", o.tls.ca_file, "wss: trust the CA certificates in this PEM file")
      ->check(CLI::ExistingFile);
  app->add_option("--source-ips", o.source_ips_text,
                  "bind sockets round-robin to these loopback sources, e.g. 127.0.0.1-127.0.0.8");
  app->add_option("--concurrency", o.concurrency,
                  "connect: parallel attempts (default 32); other modes: handshakes in flight while "
                  "opening (default 256)")
      ->check(CLI::Range(1u, 1000000u));
}

void add_payload(CLI::App* app, LoadOptions& o) {
  app->add_option("--size", o.size, "payload bytes per message")->check(CLI::Range(0u, kMaxPayload));
  app->add_flag("--binary", o.binary, "send binary frames (default: text)");
}

bool finish_validation(CLI::App& app, LoadOptions& o, std::string& why) {
  if (!parse_ws_url(o.url_text, o.url, why)) {
    why = "--url " + o.url_text + ": " + why;
    return false;
  }
  if (!o.source_ips_text.empty() && !parse_source_ips(o.source_ips_text, o.source_ips, why)) return false;
  const auto given = [&app](const char* mode, const char* name) {
    return app.get_subcommand(mode)->count(name) > 0;
  };
  const char* mode = o.mode_name.c_str();
  if (!given(mode, "--warmup")) {
    // Echo and connect warm up the server's caches and the client's ports; idle and fanout
    // only need the subscriptions settled before the first publish.
    o.warmup_s = o.mode == Mode::echo ? 2.0 : o.mode == Mode::connect ? 1.0 : o.mode == Mode::fanout ? 0.5 : 0.0;
  }
  if (o.mode == Mode::connect && o.concurrency == 0) o.concurrency = 32;
  if (o.mode != Mode::connect && o.concurrency == 0) o.concurrency = 256;
  if (o.mode == Mode::fanout) {
    if (o.size < kFanoutHeaderBytes) {
      why = "--size must be at least 24 in fanout mode (the payload carries a sequence number and a send time)";
      return false;
    }
    if (double(o.messages) * o.interval_ms / 1000.0 >= o.duration_s) {
      why = "--messages x --interval-ms (" + std::to_string(uint64_t(o.messages) * o.interval_ms) +
            " ms) does not fit in --duration (" + std::to_string(o.duration_s) + " s); raise --duration";
      return false;
    }
    o.connections = o.subscribers;
    if (o.protocol != FanoutProtocol::raw && o.size < kFanoutHeaderBytes + 1) {
      why = "--size must be at least 25 with --protocol hub or socketio (a marker, then the stamp)";
      return false;
    }
    if (o.protocol == FanoutProtocol::hub && o.token.empty()) {
      why = "--protocol hub needs --token (mint one with: wshub token --user bench --ttl 3600)";
      return false;
    }
    if (o.publish_via == PublishVia::api && (o.protocol != FanoutProtocol::hub || o.api_url.empty())) {
      why = "--publish api needs --protocol hub and --api-url";
      return false;
    }
  }
  if (o.mode == Mode::echo && o.depth == 0) {
    why = "--depth must be at least 1";
    return false;
  }
  return true;
}

}  // namespace

int parse_command_line(int argc, char** argv, LoadOptions& o) {
  CLI::App app{"wshub-load: a load generator for WebSocket servers on this machine (loopback only)"};
  app.require_subcommand(1);

  CLI::App* echo = app.add_subcommand("echo", "round trips on N connections: msgs/s and latency");
  add_common(echo, o);
  add_payload(echo, o);
  echo->add_option("--connections", o.connections, "connections")->check(CLI::Range(1u, 10000000u));
  echo->add_option("--depth", o.depth, "messages in flight per connection (pipelining)")
      ->check(CLI::Range(1u, kMaxDepth));

  CLI::App* idle = app.add_subcommand("idle", "open N connections and hold them: time and server RSS");
  add_common(idle, o);
  idle->add_option("--connections", o.connections, "connections")->check(CLI::Range(1u, 10000000u));
  idle->add_option("--hold", o.hold_s, "seconds to hold the connections open")->check(CLI::Range(0.0, 86400.0));

  CLI::App* connect = app.add_subcommand("connect", "connect, upgrade, close, repeat: handshakes/s");
  add_common(connect, o);

  CLI::App* fanout = app.add_subcommand("fanout", "one publisher, N subscribers on a broadcast route");
  add_common(fanout, o);
  add_payload(fanout, o);
  fanout->add_option("--subscribers", o.subscribers, "subscriber connections")->check(CLI::Range(1u, 10000000u));
  fanout->add_option("--messages", o.messages, "messages to publish")->check(CLI::Range(1u, 100000000u));
  fanout->add_option("--interval-ms", o.interval_ms, "pause between publishes (0: back to back)")
      ->check(CLI::Range(0u, 3600000u));
  fanout
      ->add_option("--protocol", o.protocol,
                   "raw: frames relayed by a broadcast route; hub: wshub's hub protocol (connect, subscribe, "
                   "pub pushes); socketio: Socket.IO v4 events to a room")
      ->transform(CLI::CheckedTransformer(std::map<std::string, FanoutProtocol>{{"raw", FanoutProtocol::raw},
                                                                                {"hub", FanoutProtocol::hub},
                                                                                {"socketio", FanoutProtocol::socketio}}));
  fanout->add_option("--token", o.token, "hub: the JWT every connection sends in its connect (wshub token)");
  fanout->add_option("--channel", o.channel, "hub: the channel every connection subscribes to and that is published to");
  fanout->add_option("--channels-per-connection", o.channels_per_connection,
                     "hub: subscriptions per connection (the others are CHANNEL.1 ... and get nothing)")
      ->check(CLI::Range(1u, 100u));
  fanout
      ->add_option("--publish", o.publish_via,
                   "ws: one more connection publishes (a hub publish request, a Socket.IO event or a raw frame); "
                   "api: POST /api/publish on --api-url (hub only)")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, PublishVia>{{"ws", PublishVia::websocket}, {"api", PublishVia::api}}));
  fanout->add_option("--api-url", o.api_url, "--publish api: the hub's API listener, http://127.0.0.1:PORT");
  fanout->add_option("--api-key", o.api_key, "--publish api: the API key (sent as X-API-Key)");
  fanout->add_option("--api-depth", o.api_depth, "--publish api: requests in flight, pipelined on the one connection")
      ->check(CLI::Range(1u, 256u));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (*echo) o.mode = Mode::echo, o.mode_name = "echo";
  if (*idle) o.mode = Mode::idle, o.mode_name = "idle";
  if (*connect) o.mode = Mode::connect, o.mode_name = "connect";
  if (*fanout) o.mode = Mode::fanout, o.mode_name = "fanout";
  if (o.mode == Mode::fanout && !fanout->count("--size")) o.size = 64;
  std::string why;
  if (!finish_validation(app, o, why)) {
    std::fprintf(stderr, "wshub-load %s: %s\n", o.mode_name.c_str(), why.c_str());
    return 64;  // EX_USAGE
  }
  return -1;
}

}  // namespace wshub::load
