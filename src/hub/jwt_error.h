// Every reason a connect token is refused, each with one hub error code, one close code and one
// sentence for the log. Knows nothing about sockets, sessions or how tokens are parsed.
#pragma once

#include <cstdint>
#include <string_view>

#include "hub/codes.h"

namespace wshub::hub {

enum class JwtError : uint8_t {
  none,
  too_large,             // the token is longer than max_token_bytes
  malformed,             // not three non-empty base64url parts separated by dots
  header_too_large,      // the decoded header is longer than kMaxJwtHeaderBytes (1 KiB)
  claims_too_large,      // the decoded claims are longer than max_claims_bytes
  bad_base64,            // a part is not unpadded, canonical base64url (RFC 7515 §2)
  bad_json,              // the header or the claims are not one JSON object
  duplicate_member,      // a member the verifier reads appears twice (RFC 7515 §5.2 step 4)
  bad_header,            // alg missing or not a string, kid not a string, or crit present
  alg_none,              // alg "none": unsigned tokens are always refused
  alg_not_allowed,       // no configured key has the token's alg
  unknown_kid,           // the token names a kid that no configured key has
  alg_key_mismatch,      // the key named by kid verifies another alg (algorithm confusion)
  bad_signature_length,  // the signature's length does not fit its alg and key
  bad_signature,         // the signature does not verify with any candidate key
  expired,               // now - leeway >= exp
  not_yet_valid,         // now + leeway < nbf
  wrong_audience,        // audience configured and aud missing or naming none of it
  wrong_issuer,          // issuer configured and iss missing or different
  missing_sub,           // sub missing or empty
  missing_exp,           // exp missing and tokens without expiry are not allowed
  bad_claim_type,        // a claim the hub reads has the wrong JSON type
  claim_too_long,        // sub, device or a channel name longer than max_name_bytes
  too_many_channels,     // more channels than max_channels
  info_too_large,        // info's JSON text longer than max_info_bytes
  internal,              // OpenSSL could not run the check (out of memory)
  count_
};

// The `code` of the hub's `err` answer for a refused token: token_expired for `expired`,
// internal for `internal`, unauthorized for every other refusal.
ErrorCode hub_error_code_of(JwtError error);
// The close that follows: token_expired (3005, reconnect with a new token) for `expired`,
// disconnected (3000, reconnect) for `internal`, invalid_token (3500, do not) for the others.
HubClose close_code_of(JwtError error);
std::string_view jwt_error_name(JwtError error);
// One sentence for the operator's log; names the config key to check where there is one.
std::string_view jwt_error_sentence(JwtError error);

}  // namespace wshub::hub
