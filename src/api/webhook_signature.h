// The X-Wshub-Signature header: `t=UNIX,v1=HEX`, where HEX is the lowercase hex HMAC-SHA256 of
// `t + "." + body` under the endpoint's secret. Signing for the client, verification for tests
// and for documenting what a backend does. Pure functions: no clock, no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace wshub::api {

inline constexpr std::string_view kSignatureHeader = "X-Wshub-Signature";

// The header value for `body` sent at `unix_seconds`.
std::string webhook_signature(std::string_view secret, int64_t unix_seconds,
                              std::string_view body);

enum class SignatureCheck : uint8_t {
  valid,
  malformed,          // not `t=DIGITS,v1=64 HEX` (unknown keys such as a future v2 are ignored)
  outside_tolerance,  // t is further than the tolerance from now: a replay or a wrong clock
  mismatch,           // no v1 matches: another secret, or the body was changed
};
const char* signature_check_name(SignatureCheck check);

// Verifies a header the way a backend should: parse, check |now - t| <= tolerance_s, then
// compare in constant time against every v1 given (several are allowed, for secret rotation).
SignatureCheck verify_webhook_signature(std::string_view header, std::string_view body,
                                        std::string_view secret, int64_t now_unix,
                                        uint32_t tolerance_s = 300);

}  // namespace wshub::api
