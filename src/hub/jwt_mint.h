// Mints connect tokens: the `wshub token` command, tests and tools. Writes the header and
// claims JSON, base64url-encodes them and signs with an HS256 secret or an RS256/ES256 private
// key. Not used on the connection path; knows nothing about sessions or the config file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hub/jwt_keys.h"

namespace wshub::hub {

struct JwtMintClaims {
  std::string sub;                    // required, non-empty
  std::string device;                 // empty: no device claim
  std::vector<std::string> channels;
  bool has_channels = false;          // write the channels claim (even an empty one)
  std::string info;                   // a JSON object as text; empty: no info claim
  std::string audience;               // empty: no aud claim
  std::string issuer;                 // empty: no iss claim
  int64_t now_s = 0;                  // iat, seconds since the Unix epoch
  int64_t ttl_s = 3600;               // exp = now_s + ttl_s; 0: no exp claim
};

// Sets `token` to HEADER.CLAIMS.SIGNATURE signed with `key` (a verifying key's secret for
// HS256; a private key loaded with load_jwt_key(..., private_key = true) for RS256/ES256). The
// header carries the key's alg, typ JWT and its kid when it has one. False with `why` when a
// claim cannot be written (empty sub, text that is not UTF-8, info that is not a JSON object,
// a negative ttl) or signing fails.
bool mint_jwt(const JwtKey& key, const JwtMintClaims& claims, std::string& token,
              std::string& why);

}  // namespace wshub::hub
