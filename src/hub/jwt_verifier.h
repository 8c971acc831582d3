// Checks a connect token (a JWS in compact serialization, RFC 7515/7519) and extracts the
// claims the hub uses. Sans-I/O: the token and the time go in, claims or a named JwtError come
// out. Knows nothing about sessions, sockets or the config file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hub/jwt_error.h"
#include "hub/jwt_keys.h"

namespace wshub::hub {

// A JWS header holds alg, kid and typ: tens of bytes. The limit keeps x5c chains and padding
// attacks out before anything is parsed.
inline constexpr size_t kMaxJwtHeaderBytes = 1024;
// JSON nesting deeper than this (inside info) is refused as bad_json.
inline constexpr size_t kMaxJwtJsonDepth = 32;

// What a token must satisfy besides its signature. Times are seconds, as in the claims.
struct JwtPolicy {
  std::vector<std::string> audiences;  // empty: aud is not checked; else aud must name one
  std::string issuer;                  // empty: iss is not checked; else iss must equal it
  uint32_t leeway_s = 5;               // clock skew allowed on exp and nbf
  bool allow_no_exp = false;           // accept tokens without exp (they never expire)
  size_t max_token_bytes = 8192;       // the whole token, checked before anything else
  size_t max_claims_bytes = 6144;      // the decoded claims JSON
  size_t max_name_bytes = 256;         // sub, device, each channel name
  size_t max_channels = 256;           // entries in channels
  size_t max_info_bytes = 2048;        // info's JSON text
};

// False with `why` ("hub.jwt.KEY: problem") when the limits contradict each other or leave no
// room for a token.
bool check_jwt_policy(const JwtPolicy& policy, std::string& why);

// The claims of a verified token. Reuse one object across calls to keep its strings' memory.
struct JwtClaims {
  std::string sub;                    // the user id; never empty
  std::string device;                 // empty: the token names no device
  std::vector<std::string> channels;  // channels the token may subscribe to
  bool has_channels = false;          // the token has a channels claim (even an empty one)
  std::string info;                   // the info object's JSON text as sent; empty: none
  bool has_exp = false;
  int64_t exp = 0;                    // seconds since the epoch, when has_exp
  int64_t iat = 0;                    // seconds since the epoch; 0: none
  const JwtKey* key = nullptr;        // the key that verified the token (for logs)
};

// Immutable after construction; verify() may run on any number of threads at once.
class JwtVerifier {
 public:
  // `policy` must pass check_jwt_policy.
  JwtVerifier(JwtKeySet keys, JwtPolicy policy);

  // Checks `token` at `now_s` (seconds since the Unix epoch). On none, `claims` holds the
  // token's claims; on an error its content is unspecified. The checks run in this order, so
  // a token with several faults gets the first: size, shape, header, alg and key choice,
  // signature, claim types and sizes, sub, exp, nbf, iss, aud (docs/identity.md).
  // Decoded parts go to a per-thread scratch buffer; nothing is allocated per call except
  // what `claims` needs beyond the capacity it already has (and OpenSSL's own contexts).
  JwtError verify(std::string_view token, int64_t now_s, JwtClaims& claims) const;

  const JwtPolicy& policy() const { return policy_; }
  const JwtKeySet& keys() const { return keys_; }

 private:
  JwtKeySet keys_;
  JwtPolicy policy_;
  size_t max_signature_text_ = 0;
};

}  // namespace wshub::hub
