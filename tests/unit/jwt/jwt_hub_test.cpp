// JwtTokenVerifier (the hub's TokenVerifier) and mint_configured_jwt: settings in, Identity and
// the hub's codes out.
#include <gtest/gtest.h>

#include "hub/jwt.h"
#include "jwt_fixture.h"

namespace wshub::hub {
namespace {

using testing::key_source;
using testing::token_fixture;

const testing::TokenCase& find_case(std::string_view name) {
  for (const auto& c : token_fixture().cases)
    if (c.name == name) return c;
  throw std::runtime_error("no token case " + std::string(name));
}

std::unique_ptr<JwtTokenVerifier> create_or_fail(const JwtSettings& settings) {
  std::string why;
  std::vector<std::string> warnings;
  auto verifier = JwtTokenVerifier::create(settings, why, warnings);
  EXPECT_NE(verifier, nullptr) << why;
  return verifier;
}

JwtSettings hs_settings() {
  token_fixture();
  JwtSettings settings;
  settings.keys = {key_source(JwtAlg::hs256, "hs256.secret")};
  return settings;
}

TEST(JwtTokenVerifier, AnAcceptedTokenBecomesTheIdentity) {
  const auto verifier = create_or_fail(hs_settings());
  const int64_t now_ms = token_fixture().now * 1000 + 999;
  Identity identity;
  const TokenCheck check = verifier->verify(find_case("hs256_valid").token, now_ms, identity);
  ASSERT_TRUE(check.ok) << check.reason;
  EXPECT_EQ(identity.user, "user-1");
  EXPECT_EQ(identity.device, "phone-7");
  EXPECT_EQ(identity.channels, (std::vector<std::string>{"news", "chat:room-1"}));
  EXPECT_EQ(identity.info_json, R"({"name":"Ann","level":3,"tags":["a","b"]})");
  EXPECT_EQ(identity.expires_ms, (token_fixture().now + 3600) * 1000);
}

TEST(JwtTokenVerifier, RefusalsCarryTheHubCodeAndTheNamedReason) {
  const auto verifier = create_or_fail(hs_settings());
  const int64_t now_ms = token_fixture().now * 1000;
  Identity identity;
  TokenCheck check = verifier->verify(find_case("expired").token, now_ms, identity);
  EXPECT_FALSE(check.ok);
  EXPECT_EQ(check.error, ErrorCode::token_expired);
  EXPECT_EQ(check.reason.rfind("expired: ", 0), 0u) << check.reason;
  check = verifier->verify(find_case("hs256_flipped_byte").token, now_ms, identity);
  EXPECT_FALSE(check.ok);
  EXPECT_EQ(check.error, ErrorCode::unauthorized);
  EXPECT_EQ(check.reason.rfind("bad_signature: ", 0), 0u) << check.reason;
  check = verifier->verify(find_case("alg_none").token, now_ms, identity);
  EXPECT_EQ(check.error, ErrorCode::unauthorized);
  EXPECT_EQ(check.reason.rfind("alg_none: ", 0), 0u) << check.reason;
  EXPECT_TRUE(identity.user.empty());
}

TEST(JwtTokenVerifier, MillisecondsAreJudgedInWholeSeconds) {
  JwtSettings settings = hs_settings();
  settings.policy.leeway_s = 0;
  const auto verifier = create_or_fail(settings);
  const auto& token = find_case("hs256_valid").token;  // exp = now + 3600 s
  const int64_t exp_ms = (token_fixture().now + 3600) * 1000;
  Identity identity;
  EXPECT_TRUE(verifier->verify(token, exp_ms - 1, identity).ok);
  EXPECT_EQ(verifier->verify(token, exp_ms, identity).error, ErrorCode::token_expired);
}

TEST(JwtTokenVerifier, WrongSettingsAreRefusedAtStart) {
  std::string why;
  std::vector<std::string> warnings;
  JwtSettings settings;
  EXPECT_EQ(JwtTokenVerifier::create(settings, why, warnings), nullptr);
  EXPECT_NE(why.find("no keys"), std::string::npos) << why;

  settings = hs_settings();
  settings.policy.max_token_bytes = 10;
  EXPECT_EQ(JwtTokenVerifier::create(settings, why, warnings), nullptr);
  EXPECT_NE(why.find("hub.jwt.max_token_bytes"), std::string::npos) << why;

  settings = hs_settings();
  settings.keys = {key_source(JwtAlg::hs256, "short.secret")};
  EXPECT_EQ(JwtTokenVerifier::create(settings, why, warnings), nullptr);
  EXPECT_EQ(why.rfind("hub.jwt: HS256 key", 0), 0u) << why;
  settings.allow_short_secret = true;
  EXPECT_NE(JwtTokenVerifier::create(settings, why, warnings), nullptr) << why;
  EXPECT_EQ(warnings.size(), 1u);
}

TEST(MintConfiguredJwt, SignsWithTheHs256SecretAndPassesTheHubsOwnChecks) {
  JwtSettings settings = hs_settings();
  settings.policy.audiences = {"push.example.com"};
  settings.policy.issuer = "https://auth.example.com";
  JwtMintClaims claims;
  claims.sub = "cli-user";
  claims.device = "d1";
  claims.now_s = token_fixture().now;
  claims.ttl_s = 120;
  std::string token, why;
  ASSERT_TRUE(mint_configured_jwt(settings, claims, token, why)) << why;
  const auto verifier = create_or_fail(settings);
  Identity identity;
  const TokenCheck check = verifier->verify(token, claims.now_s * 1000, identity);
  ASSERT_TRUE(check.ok) << check.reason;
  EXPECT_EQ(identity.user, "cli-user");
  EXPECT_EQ(identity.device, "d1");
  EXPECT_EQ(identity.expires_ms, (claims.now_s + 120) * 1000);
}

TEST(MintConfiguredJwt, SignsWithTheConfiguredPrivateKey) {
  token_fixture();
  JwtSettings settings;
  settings.keys = {key_source(JwtAlg::es256, "es256_public.pem", "e1")};
  settings.signing_key = key_source(JwtAlg::es256, "es256_private.pem", "e1");
  JwtMintClaims claims;
  claims.sub = "cli-user";
  claims.now_s = token_fixture().now;
  std::string token, why;
  ASSERT_TRUE(mint_configured_jwt(settings, claims, token, why)) << why;
  const auto verifier = create_or_fail(settings);
  Identity identity;
  EXPECT_TRUE(verifier->verify(token, claims.now_s * 1000, identity).ok);

  settings.signing_key = {};
  EXPECT_FALSE(mint_configured_jwt(settings, claims, token, why));
  EXPECT_NE(why.find("nothing to sign with"), std::string::npos) << why;
}

}  // namespace
}  // namespace wshub::hub
