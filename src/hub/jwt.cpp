#include "hub/jwt.h"

#include <fmt/format.h>

#include <cstdint>
#include <utility>

namespace wshub::hub {

std::unique_ptr<JwtTokenVerifier> JwtTokenVerifier::create(const JwtSettings& settings,
                                                           std::string& why,
                                                           std::vector<std::string>& warnings) {
  std::string problem;
  if (!check_jwt_policy(settings.policy, problem)) {
    why = problem;
    return nullptr;
  }
  JwtKeySet keys;
  if (!keys.load(settings.keys, settings.allow_short_secret, problem, warnings)) {
    why = fmt::format("hub.jwt: {}", problem);
    return nullptr;
  }
  if (keys.empty()) {
    why = "hub.jwt.keys: no keys: add keys = [{ alg = \"HS256\", secret = \"...\" }] (or a file or pem for RS256/ES256)";
    return nullptr;
  }
  return std::make_unique<JwtTokenVerifier>(JwtVerifier(std::move(keys), settings.policy));
}

TokenCheck JwtTokenVerifier::verify(std::string_view token, int64_t now_ms,
                                    Identity& identity) const {
  JwtClaims claims;
  // Floor division: the claims' seconds are compared with whole seconds of wall-clock time.
  const int64_t now_s = now_ms >= 0 ? now_ms / 1000 : (now_ms - 999) / 1000;
  const JwtError error = verifier_.verify(token, now_s, claims);
  TokenCheck check;
  if (error != JwtError::none) {
    check.error = hub_error_code_of(error);
    check.reason = fmt::format("{}: {}", jwt_error_name(error), jwt_error_sentence(error));
    return check;
  }
  identity.user = std::move(claims.sub);
  identity.device = std::move(claims.device);
  identity.channels = std::move(claims.channels);
  identity.info_json = std::move(claims.info);
  identity.expires_ms = !claims.has_exp                    ? 0
                        : claims.exp > INT64_MAX / 1000 ? INT64_MAX
                                                         : claims.exp * 1000;
  check.ok = true;
  return check;
}

bool mint_configured_jwt(const JwtSettings& settings, JwtMintClaims claims, std::string& token,
                         std::string& why) {
  const JwtKeySource* source = nullptr;
  const JwtKeySource& named = settings.signing_key;
  if (!named.file.empty() || !named.pem.empty() || !named.secret.empty()) {
    source = &named;
  } else {
    for (const JwtKeySource& key : settings.keys)
      if (key.alg == JwtAlg::hs256 && !source) source = &key;
  }
  if (!source) {
    why = "hub.jwt: nothing to sign with: set signing_key (an RS256 or ES256 private key) or an "
          "HS256 secret";
    return false;
  }
  JwtKey key;
  std::string warning;
  if (!load_jwt_key(*source, source->alg != JwtAlg::hs256, settings.allow_short_secret, key, why,
                    warning))
    return false;
  if (claims.audience.empty() && !settings.policy.audiences.empty())
    claims.audience = settings.policy.audiences.front();
  if (claims.issuer.empty()) claims.issuer = settings.policy.issuer;
  return mint_jwt(key, claims, token, why);
}

}  // namespace wshub::hub
