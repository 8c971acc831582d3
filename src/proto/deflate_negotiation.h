// permessage-deflate negotiation (RFC 7692 §5, §7.1): reads the client's offers from its
// Sec-WebSocket-Extensions headers, picks the first one the server can honour under its policy,
// and writes the response value. Pure functions over header text; no zlib, no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "proto/http_head.h"

namespace wshub::proto {

// The server's compression policy, from config. Only the first five fields take part in the
// negotiation; `level`, `mem_level` and `min_message_bytes` shape what is sent afterwards.
struct DeflatePolicy {
  bool enabled = false;
  // Reset our compressor after every message. Costs ratio on streams of similar small messages,
  // but keeps no zlib stream per connection and lets one compressed frame serve every receiver.
  bool server_no_context_takeover = true;
  // Ask clients to reset theirs, so the server inflates every message with one per-thread
  // stream instead of keeping an inflater (and its window) per connection.
  bool client_no_context_takeover = true;
  uint8_t server_max_window_bits = 15;  // 9..15: zlib cannot deflate raw with a 256-byte window
  uint8_t client_max_window_bits = 15;  // 8..15: asked of clients that offer the parameter
  uint8_t level = 6;                    // zlib level 1..9
  uint8_t mem_level = 8;                // zlib memLevel 1..9
  uint32_t min_message_bytes = 128;     // smaller messages are sent uncompressed
};

// What both sides agreed to for one connection (two bytes: one copy per distinct agreement in
// each worker, or one per connection that keeps context; see server/compression.h).
struct DeflateAgreement {
  bool negotiated : 1 = false;
  bool server_no_context_takeover : 1 = false;  // we reset our compressor after each message
  bool client_no_context_takeover : 1 = false;  // the client resets its compressor after each message
  uint8_t server_window_bits : 4 = 15;          // the window our compressor uses (9..15)
  uint8_t client_window_bits : 4 = 15;          // the largest window the client may use (8..15)
  bool operator==(const DeflateAgreement&) const = default;
};

// Why an offer was declined; the first such reason is kept for logs and tests.
enum class DeflateDecline : uint8_t {
  none,
  malformed_header,     // the header value does not parse as an extension list (RFC 6455 §9.1)
  unknown_parameter,    // a parameter RFC 7692 does not define
  duplicate_parameter,  // the same parameter twice in one offer (§7, "MUST decline")
  invalid_value,        // a value where none is allowed, none where one is required, or not 8..15
  window_bits_8,        // server_max_window_bits=8: zlib cannot compress with a 256-byte window
  count_
};
std::string_view deflate_decline_name(DeflateDecline reason);

// The longest response value this module writes:
// "permessage-deflate; server_no_context_takeover; client_no_context_takeover;
//  server_max_window_bits=15; client_max_window_bits=15".
constexpr size_t kMaxDeflateResponseSize = 128;

struct DeflateNegotiation {
  bool accepted = false;
  DeflateAgreement agreed;
  uint8_t offers = 0;    // permessage-deflate offers seen (saturating)
  DeflateDecline first_decline = DeflateDecline::none;
  uint8_t response_size = 0;
  char response[kMaxDeflateResponseSize];
  // The Sec-WebSocket-Extensions value to send: empty when nothing was accepted.
  std::string_view response_value() const { return {response, accepted ? response_size : 0u}; }
};

// Negotiates over every Sec-WebSocket-Extensions header of `head`, in order. Never fails the
// handshake: when no offer can be honoured the result is simply not accepted.
DeflateNegotiation negotiate_deflate(const HttpRequestHead& head, const DeflatePolicy& policy);
// The same over header values given directly (one element per header line).
DeflateNegotiation negotiate_deflate(std::span<const std::string_view> header_values,
                                     const DeflatePolicy& policy);

}  // namespace wshub::proto
