// mint_jwt: tokens wshub mints verify with wshub and, the other way round, with python3-jwt;
// unusable claims are refused.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdio>
#include <ctime>
#include <fstream>

#include "hub/jwt_mint.h"
#include "hub/jwt_verifier.h"
#include "jwt_fixture.h"

namespace wshub::hub {
namespace {

using testing::fixture_file;
using testing::key_source;
using testing::token_fixture;

JwtKey signing_key(JwtAlg alg, std::string_view file, std::string_view kid = "") {
  token_fixture();
  JwtKey key;
  std::string why, warning;
  EXPECT_TRUE(load_jwt_key(key_source(alg, file, kid), alg != JwtAlg::hs256, false, key, why,
                           warning)) << why;
  return key;
}

JwtMintClaims sample_claims(int64_t now) {
  JwtMintClaims claims;
  claims.sub = "user-9";
  claims.device = "tablet \"2\"";
  claims.channels = {"news", "chat:\\room"};
  claims.has_channels = true;
  claims.info = R"({ "name": "Zoë", "tags": [1, 2] })";
  claims.audience = "push.example.com";
  claims.issuer = "https://auth.example.com";
  claims.now_s = now;
  claims.ttl_s = 600;
  return claims;
}

std::string mint_or_fail(const JwtKey& key, const JwtMintClaims& claims) {
  std::string token, why;
  EXPECT_TRUE(mint_jwt(key, claims, token, why)) << why;
  return token;
}

TEST(JwtMint, OurTokensVerifyWithOurVerifier) {
  const int64_t now = std::time(nullptr);
  JwtPolicy policy;
  policy.audiences = {"push.example.com"};
  policy.issuer = "https://auth.example.com";
  for (const auto& [alg, private_file, public_file] :
       {std::tuple{JwtAlg::hs256, "hs256.secret", "hs256.secret"},
        std::tuple{JwtAlg::rs256, "rs256_private.pem", "rs256_public.pem"},
        std::tuple{JwtAlg::es256, "es256_private.pem", "es256_public.pem"}}) {
    SCOPED_TRACE(jwt_alg_name(alg));
    const std::string token = mint_or_fail(signing_key(alg, private_file, "k1"), sample_claims(now));
    JwtKeySet keys;
    std::string why;
    std::vector<std::string> warnings;
    ASSERT_TRUE(keys.load({key_source(alg, public_file, "k1")}, false, why, warnings)) << why;
    const JwtVerifier verifier(std::move(keys), policy);
    JwtClaims claims;
    ASSERT_EQ(verifier.verify(token, now, claims), JwtError::none);
    EXPECT_EQ(claims.sub, "user-9");
    EXPECT_EQ(claims.device, "tablet \"2\"");
    EXPECT_EQ(claims.channels, (std::vector<std::string>{"news", "chat:\\room"}));
    EXPECT_EQ(claims.info, R"({"name":"Zoë","tags":[1,2]})");
    EXPECT_EQ(claims.exp, now + 600);
    EXPECT_EQ(claims.iat, now);
    EXPECT_EQ(verifier.verify(token, now + 604, claims), JwtError::none);  // 5 s leeway
    EXPECT_EQ(verifier.verify(token, now + 605, claims), JwtError::expired);
  }
}

TEST(JwtMint, OurTokensVerifyWithPythonJwt) {
  const int64_t now = std::time(nullptr);
  const JwtKey hs = signing_key(JwtAlg::hs256, "hs256.secret");
  const JwtKey rs = signing_key(JwtAlg::rs256, "rs256_private.pem", "rs-1");
  const JwtKey es = signing_key(JwtAlg::es256, "es256_private.pem");
  JwtMintClaims minimal;
  minimal.sub = "user-2";
  minimal.now_s = now;
  minimal.ttl_s = 60;
  const std::string hs_token = mint_or_fail(hs, sample_claims(now));
  const std::string rs_token = mint_or_fail(rs, sample_claims(now));
  const std::string es_token = mint_or_fail(es, sample_claims(now));

  // name, token, alg, key python verifies with, audience
  const std::vector<std::tuple<std::string, std::string, std::string, std::string, std::string>>
      listing = {
          {"hs", hs_token, "HS256", "HS256", "push.example.com"},
          {"rs", rs_token, "RS256", "RS256", "push.example.com"},
          {"es", es_token, "ES256", "ES256", "push.example.com"},
          {"minimal", mint_or_fail(hs, minimal), "HS256", "HS256", ""},
          // Refusals show that python3-jwt really checks what it is given.
          {"rs_other_key", rs_token, "RS256", "RS256-other", "push.example.com"},
          {"hs_other_audience", hs_token, "HS256", "HS256", "elsewhere"},
      };
  const std::string path = fixture_file("wshub_minted.json");
  {
    std::ofstream out(path);
    out << "[";
    for (size_t i = 0; i < listing.size(); ++i) {
      const auto& [name, token, alg, key, audience] = listing[i];
      out << (i ? "," : "") << "{\"name\":\"" << name << "\",\"token\":\"" << token
          << "\",\"alg\":\"" << alg << "\",\"key\":\"" << key << "\"";
      if (!audience.empty())
        out << ",\"audience\":\"" << audience << "\",\"issuer\":\"https://auth.example.com\"";
      out << "}";
    }
    out << "]";
  }
  int status = 0;
  const std::string output =
      testing::run_command(testing::token_script_command() + " check " WSHUB_JWT_FIXTURE_DIR " " + path,
                           status);
  ASSERT_EQ(status, 0) << output;
  simdjson::dom::parser parser;
  simdjson::dom::object results;
  ASSERT_EQ(parser.parse(output).get_object().get(results), simdjson::SUCCESS) << output;

  for (const char* name : {"hs", "rs", "es"}) {
    SCOPED_TRACE(name);
    simdjson::dom::object result = results[name];
    ASSERT_TRUE(bool(result["ok"])) << output;
    simdjson::dom::object claims = result["claims"];
    EXPECT_EQ(std::string_view(claims["sub"]), "user-9");
    EXPECT_EQ(std::string_view(claims["device"]), "tablet \"2\"");
    EXPECT_EQ(std::string_view(claims["channels"].at(1)), "chat:\\room");
    EXPECT_EQ(std::string_view(claims["info"]["name"]), "Zoë");
    EXPECT_EQ(int64_t(claims["info"]["tags"].at(1)), 2);
    EXPECT_EQ(int64_t(claims["exp"]), now + 600);
    EXPECT_EQ(int64_t(claims["iat"]), now);
    EXPECT_EQ(std::string_view(result["header"]["typ"]), "JWT");
  }
  EXPECT_EQ(std::string_view(results["rs"]["header"]["kid"]), "rs-1");
  EXPECT_TRUE(bool(results["minimal"]["ok"])) << output;
  EXPECT_EQ(std::string_view(results["minimal"]["claims"]["sub"]), "user-2");
  EXPECT_FALSE(bool(results["rs_other_key"]["ok"]));
  EXPECT_EQ(std::string_view(results["rs_other_key"]["error"]), "InvalidSignatureError");
  EXPECT_FALSE(bool(results["hs_other_audience"]["ok"]));
  EXPECT_EQ(std::string_view(results["hs_other_audience"]["error"]), "InvalidAudienceError");
}

TEST(JwtMint, TokensWithoutExpiryNeedThePolicyToAllowThem) {
  const JwtKey hs = signing_key(JwtAlg::hs256, "hs256.secret");
  JwtMintClaims claims;
  claims.sub = "svc";
  claims.now_s = 1000;
  claims.ttl_s = 0;
  const std::string token = mint_or_fail(hs, claims);
  JwtKeySet keys;
  std::string why;
  std::vector<std::string> warnings;
  ASSERT_TRUE(keys.load({key_source(JwtAlg::hs256, "hs256.secret")}, false, why, warnings));
  JwtPolicy policy;
  JwtClaims out;
  EXPECT_EQ(JwtVerifier(std::move(keys), policy).verify(token, 5000, out), JwtError::missing_exp);
  ASSERT_TRUE(keys.load({key_source(JwtAlg::hs256, "hs256.secret")}, false, why, warnings));
  policy.allow_no_exp = true;
  const JwtVerifier verifier(std::move(keys), policy);
  ASSERT_EQ(verifier.verify(token, 5000, out), JwtError::none);
  EXPECT_FALSE(out.has_exp);
}

TEST(JwtMint, UnusableClaimsAreRefused) {
  const JwtKey hs = signing_key(JwtAlg::hs256, "hs256.secret");
  const auto refusal = [&](const JwtMintClaims& claims) {
    std::string token, why;
    EXPECT_FALSE(mint_jwt(hs, claims, token, why));
    return why;
  };
  JwtMintClaims claims = sample_claims(1000);
  claims.sub.clear();
  EXPECT_NE(refusal(claims).find("sub"), std::string::npos);
  claims = sample_claims(1000);
  claims.sub = "\xff\xfe";
  EXPECT_NE(refusal(claims).find("UTF-8"), std::string::npos);
  claims = sample_claims(1000);
  claims.info = "[1, 2]";
  EXPECT_NE(refusal(claims).find("info"), std::string::npos);
  claims.info = "{not json";
  EXPECT_NE(refusal(claims).find("info"), std::string::npos);
  claims = sample_claims(1000);
  claims.channels.push_back("");
  EXPECT_NE(refusal(claims).find("channel 3"), std::string::npos);
  claims = sample_claims(1000);
  claims.ttl_s = -1;
  EXPECT_NE(refusal(claims).find("ttl"), std::string::npos);

  // A public key cannot sign.
  JwtKey public_key;
  std::string why, warning, token;
  ASSERT_TRUE(load_jwt_key(key_source(JwtAlg::es256, "es256_public.pem"), false, false,
                           public_key, why, warning));
  EXPECT_FALSE(mint_jwt(public_key, sample_claims(1000), token, why));
  EXPECT_NE(why.find("ES256 key"), std::string::npos) << why;
}

}  // namespace
}  // namespace wshub::hub
