// WebSocket close codes (RFC 6455 §7.4) and the rules for which may appear on the wire.
// Pure functions; no I/O.
#pragma once

#include <cstdint>
#include <string_view>

namespace wshub::proto {

enum class CloseCode : uint16_t {
  normal = 1000,
  going_away = 1001,
  protocol_error = 1002,
  unsupported_data = 1003,
  no_status = 1005,         // never sent: means "the close frame had no code"
  abnormal = 1006,          // never sent: means "no close frame at all"
  invalid_payload = 1007,
  policy_violation = 1008,
  message_too_big = 1009,
  mandatory_extension = 1010,
  internal_error = 1011,
  service_restart = 1012,
  try_again_later = 1013,
  bad_gateway = 1014,
  tls_handshake = 1015,     // never sent
};

// True for codes a peer may put in a close frame (§7.4.1, §7.4.2 and the IANA registry):
// 1000-1003, 1007-1014, and 3000-4999. 1004, 1005, 1006, 1015 and anything else are invalid.
constexpr bool is_valid_wire_close_code(uint16_t code) {
  if (code >= 3000 && code <= 4999) return true;
  switch (code) {
    case 1000: case 1001: case 1002: case 1003:
    case 1007: case 1008: case 1009: case 1010: case 1011: case 1012: case 1013: case 1014:
      return true;
    default:
      return false;
  }
}

std::string_view close_code_name(uint16_t code);

}  // namespace wshub::proto
