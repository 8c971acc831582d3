// The hub's TokenVerifier for JWTs: what [hub.jwt] configures (keys, policy, the key `wshub
// token` signs with) and the adapter from JwtVerifier's claims and errors to the hub's Identity
// and codes. Built once at start; knows nothing about sessions or the config file's syntax.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hub/identity.h"
#include "hub/jwt_keys.h"
#include "hub/jwt_mint.h"
#include "hub/jwt_verifier.h"

namespace wshub::hub {

// [hub.jwt] as plain values (docs/identity.md). The app layer fills it from TOML, with key
// files already resolved against the config file's directory.
struct JwtSettings {
  std::vector<JwtKeySource> keys;   // verifying keys: HS256 secrets, RS256/ES256 public keys
  bool allow_short_secret = false;  // development only: HS256 secrets under 32 bytes
  JwtPolicy policy;
  // The key `wshub token` signs with: an RS256/ES256 private key (file or pem) or an HS256
  // secret. Left empty, tokens are signed with the first HS256 key of `keys`.
  JwtKeySource signing_key;
};

class JwtTokenVerifier final : public TokenVerifier {
 public:
  // Loads the keys and checks the policy. Null with `why` ("hub.jwt: ...") when a key or a
  // limit is wrong; `warnings` gets one line per short secret that was allowed.
  static std::unique_ptr<JwtTokenVerifier> create(const JwtSettings& settings, std::string& why,
                                                  std::vector<std::string>& warnings);
  explicit JwtTokenVerifier(JwtVerifier verifier) : verifier_(std::move(verifier)) {}

  // `now_ms`: wall-clock ms since the epoch. Accepted: `identity` gets sub, device, channels,
  // info and exp (in ms; 0 without exp). Refused: `error` and the close it implies follow
  // close_code_of (token_expired only for an expired token) and `reason` reads
  // "NAME: SENTENCE" (jwt_error_name, jwt_error_sentence).
  TokenCheck verify(std::string_view token, int64_t now_ms, Identity& identity) const override;

  const JwtVerifier& jwt() const { return verifier_; }

 private:
  JwtVerifier verifier_;
};

// Mints a token with the key `settings` names for signing (see JwtSettings::signing_key), for
// `wshub token --user U [--device D] [--ttl S]`. When `claims` names no audience or issuer, the
// first configured audience and the issuer are used, so the token passes this hub's checks.
// False with `why` when there is no usable signing key or a claim cannot be written.
bool mint_configured_jwt(const JwtSettings& settings, JwtMintClaims claims, std::string& token,
                         std::string& why);

}  // namespace wshub::hub
