// Everything the command line decides, as plain values, validated. Modes read this and
// nothing else (no environment, no files).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "modes/fanout_protocol.h"
#include "tls_client.h"
#include "ws_url.h"

namespace wshub::load {

enum class Mode : uint8_t { echo, idle, connect, fanout };

struct LoadOptions {
  Mode mode = Mode::echo;
  std::string mode_name;
  std::string url_text;
  WsUrl url;
  uint32_t connections = 100;   // echo, idle
  uint32_t size = 16;           // echo, fanout: payload bytes
  bool binary = false;          // echo, fanout: binary frames instead of text
  uint32_t depth = 1;           // echo: messages in flight per connection
  double duration_s = 10;       // echo, connect: measured window; idle: time allowed to open;
                                // fanout: time allowed to publish and deliver
  double warmup_s = 0;          // filled with the mode's default when not given
  double hold_s = 5;            // idle
  uint32_t threads = 1;
  int64_t server_pid = 0;       // 0: no server measurements
  bool json = false;
  std::string source_ips_text;
  std::vector<uint32_t> source_ips;  // host byte order
  uint32_t concurrency = 0;     // connect: parallel attempts; others: handshakes in flight
  uint32_t subscribers = 1000;  // fanout
  uint32_t messages = 100;      // fanout
  uint32_t interval_ms = 10;    // fanout
  FanoutProtocol protocol = FanoutProtocol::raw;  // fanout: what the route speaks
  std::string token;            // fanout --protocol hub: the JWT every connection presents
  std::string channel = "bench";  // fanout --protocol hub: the channel published to
  uint32_t channels_per_connection = 1;  // fanout --protocol hub: subscriptions per connection
  PublishVia publish_via = PublishVia::websocket;  // fanout: a connection or the HTTP API
  std::string api_url;          // fanout --publish api: http://127.0.0.1:PORT
  std::string api_key;          // fanout --publish api: sent as X-API-Key
  uint32_t api_depth = 1;       // fanout --publish api: requests in flight
  TlsOptions tls;
};

// Parses argv into `options`. Returns -1 when the run should go ahead, otherwise the exit
// code to leave with (help was printed, or an error was reported on stderr).
int parse_command_line(int argc, char** argv, LoadOptions& options);

}  // namespace wshub::load
