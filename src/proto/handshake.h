// WebSocket opening-handshake checks (RFC 6455 §4.2.1-§4.2.2) over a parsed request head.
// Every rejection is a named error with one HTTP status and one sentence that names the fix,
// because the usual cause is a proxy in between (the seed's lost day behind nginx).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "proto/deflate_negotiation.h"
#include "proto/http_head.h"

namespace wshub::proto {

enum class HandshakeError : uint8_t {
  none,
  plain_http_request,          // a browser or curl GET on a WebSocket route
  method_not_get,
  // A proxy in between lost some of what an upgrade needs: HTTP/1.1 (V), the Upgrade header
  // (U), the token upgrade in Connection (C). Each combination is its own error, so one answer
  // names every line still missing; the comments give the nginx location that produces it.
  http_1_0_dropped_upgrade,    // V U C: a location with only proxy_pass
  http_1_0_missing_upgrade,    // V U: sets only Connection
  http_1_0_connection_missing_upgrade,  // V C: sets only Upgrade
  http_1_0,                    // V: sets Upgrade and Connection, not proxy_http_version 1.1
  missing_host,
  request_has_body,
  proxy_dropped_upgrade,       // U C: only proxy_http_version 1.1, or a location whose own
                               // proxy_set_header lines hide the server-level ones
  missing_upgrade,             // U: Connection lists upgrade, Upgrade gone
  upgrade_not_websocket,
  connection_quoted_upgrade,   // Connection: "upgrade" with literal quotes
  connection_missing_upgrade,  // C: Upgrade present, Connection without the token upgrade
  missing_version,
  unsupported_version,
  missing_key,
  duplicate_key,
  bad_key,
  origin_not_allowed,
  no_acceptable_subprotocol,
  count_
};

uint16_t handshake_status(HandshakeError error);
std::string_view handshake_error_name(HandshakeError error);
std::string_view handshake_error_sentence(HandshakeError error);

struct HandshakePolicy {
  std::span<const std::string> allowed_origins;  // empty: any origin, or none, is accepted
  std::span<const std::string> subprotocols;     // the route's, in the server's preference
  bool require_subprotocol = false;
  // A client that offers subprotocols, none of them served, is refused (a client that offers
  // none is still served): for routes whose clients must not guess what they speak.
  bool refuse_unmatched_offers = false;
  const DeflatePolicy* deflate = nullptr;        // null: permessage-deflate is never negotiated
};

struct HandshakeOutcome {
  HandshakeError error = HandshakeError::none;
  std::string_view key;          // the client's Sec-WebSocket-Key, checked
  std::string_view subprotocol;  // empty when none was agreed; points into the policy
  DeflateNegotiation deflate;    // permessage-deflate: the agreement and the response value
};

HandshakeOutcome check_upgrade(const HttpRequestHead& head, const HandshakePolicy& policy);

// True when `key` is the base64 encoding of exactly 16 bytes, in canonical form.
bool is_valid_websocket_key(std::string_view key);

constexpr size_t kAcceptKeySize = 28;
// Sec-WebSocket-Accept: base64(SHA-1(key + the RFC 6455 GUID)).
void compute_accept_key(std::string_view key, char out[kAcceptKeySize]);

// The longest subprotocol the 101 response can carry within kUpgradeResponseReserve;
// check_upgrade never agrees to a longer one.
constexpr size_t kMaxSubprotocolSize = 64;

// Writes the 101 response into `out` (at least 256 + extensions.size() bytes) and returns its
// size. `extensions` is the whole Sec-WebSocket-Extensions value, or empty.
size_t write_upgrade_response(char* out, std::string_view key, std::string_view subprotocol,
                              std::string_view extensions = {});
constexpr size_t kUpgradeResponseReserve = 256;

}  // namespace wshub::proto
