// The [limits] and [compression] tables (config_sections.h): numbers with their bounds and the
// reasons for them. docs/config.md gives the reasons for the defaults.
#include <fmt/format.h>

#include <cstdint>

#include "app/config_sections.h"
#include "proto/deflate_negotiation.h"
#include "server/config.h"

namespace wshub::app {

namespace {

constexpr uint64_t kMaxBytes = uint64_t(1) << 40;
constexpr uint64_t kHourMs = 3600000;

bool check_limits(const server::Limits& limits, TableCheck& check) {
  if (limits.max_message_bytes < limits.max_frame_bytes && check.given("max_message_bytes"))
    return check.fail("max_message_bytes", "must not be smaller than limits.max_frame_bytes");
  if (limits.idle_timeout_ms && limits.ping_interval_ms &&
      limits.idle_timeout_ms <= limits.ping_interval_ms) {
    if (check.given("idle_timeout_ms"))
      return check.fail("idle_timeout_ms",
                        "must be greater than limits.ping_interval_ms, or a live but quiet client "
                        "is cut before it is pinged");
    return check.fail("ping_interval_ms",
                      fmt::format("must be less than limits.idle_timeout_ms ({} ms), or a live but "
                                  "quiet client is cut before it is pinged",
                                  limits.idle_timeout_ms));
  }
  return true;
}

}  // namespace

const ConfigTable& limits_table() {
  using server::Limits;
  static const ConfigTable table =
      ConfigFields<Limits>()
          .count("max_connections", &Limits::max_connections, 0, UINT32_MAX,
                 "connections in total; more get 503. 0: the open-file limit less a reserve",
                 {.shown_default = "0 (open-file limit - reserve)"})
          .count("max_connections_per_ip", &Limits::max_connections_per_ip, 0, UINT32_MAX,
                 "connections per client address; 0: no limit")
          .size("max_head_bytes", &Limits::max_head_bytes, 256, 65535,
                "request line and headers; more is answered 431")
          .count("max_headers", &Limits::max_headers, 0, 128,
                 "header fields; more is answered 431")
          .size("max_frame_bytes", &Limits::max_frame_bytes, 0, kMaxBytes,
                "one frame's payload; more is closed with 1009")
          .size("max_message_bytes", &Limits::max_message_bytes, 0, kMaxBytes,
                "one message, all fragments, inflated; more is closed with 1009")
          .count("max_fragments", &Limits::max_fragments, 0, UINT32_MAX,
                 "frames per message; more is closed with 1008")
          .size("max_buffered_bytes", &Limits::max_buffered_bytes, 0, kMaxBytes,
                "unsent bytes per connection before a client that does not read is cut (1008)")
          .count("max_handshakes_per_second_per_ip", &Limits::max_handshakes_per_second_per_ip,
                 0, UINT32_MAX, "request heads per second from one client address; more get 429. 0: off")
          .count("max_handshakes_per_second", &Limits::max_handshakes_per_second, 0, UINT32_MAX,
                 "request heads per second for the whole server; more get 429. 0: off")
          .count("max_pings_per_second", &Limits::max_pings_per_second, 0, 63,
                 "pings answered per connection per second; four times this closes with 1008. 0: no limit")
          .duration_ms("handshake_timeout_ms", &Limits::handshake_timeout_ms, 1, kHourMs,
                       "from accept to a complete request head (TLS handshake included); then 408",
                       {.bounds_reason = "0 would let a client that never finishes its head hold a "
                                         "connection forever"})
          .duration_ms("ping_interval_ms", &Limits::ping_interval_ms, 0, kHourMs,
                       "a ping is sent when either direction was quiet this long; 0: no pings")
          .duration_ms("idle_timeout_ms", &Limits::idle_timeout_ms, 0, 24 * kHourMs,
                       "nothing received for this long closes with 1001; 0: never")
          .duration_ms("close_timeout_ms", &Limits::close_timeout_ms, 0, kHourMs,
                       "how long the peer's close frame or FIN is awaited before the socket is cut")
          .duration_ms("shutdown_grace_ms", &Limits::shutdown_grace_ms, 0, kHourMs,
                       "on SIGTERM, how long peers have to answer the 1001")
          .check(check_limits)
          .build();
  return table;
}

const ConfigTable& compression_table() {
  using proto::DeflatePolicy;
  static const ConfigTable table =
      ConfigFields<DeflatePolicy>()
          .flag("enabled", &DeflatePolicy::enabled,
                "negotiate permessage-deflate with clients that offer it")
          .flag("server_no_context_takeover", &DeflatePolicy::server_no_context_takeover,
                "reset the server's compressor after every message (one compression per publish)")
          .flag("client_no_context_takeover", &DeflatePolicy::client_no_context_takeover,
                "ask clients to reset theirs (one inflate stream per worker, not per connection)")
          .count("server_max_window_bits", &DeflatePolicy::server_max_window_bits, 9, 15,
                 "the server compressor's LZ77 window, as a power of two",
                 {.bounds_reason = "zlib cannot compress with a 256-byte window (8)"})
          .count("client_max_window_bits", &DeflatePolicy::client_max_window_bits, 8, 15,
                 "the window asked of clients that offer client_max_window_bits")
          .count("level", &DeflatePolicy::level, 1, 9, "zlib compression level")
          .count("mem_level", &DeflatePolicy::mem_level, 1, 9,
                 "zlib memLevel: hash table and block buffer size")
          .size("min_message_bytes", &DeflatePolicy::min_message_bytes, 0, UINT32_MAX,
                "messages smaller than this are sent uncompressed")
          .build();
  return table;
}

}  // namespace wshub::app
