// JwtVerifier against tokens minted by python3-jwt (jwt_tokens.py): every accepted case with
// its claims, every refused case with its exact error.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <thread>

#include "hub/jwt_verifier.h"
#include "jwt_fixture.h"

namespace wshub::hub {
namespace {

using testing::make_keyset;
using testing::make_policy;
using testing::token_fixture;

struct Verifiers {
  std::map<std::string, std::unique_ptr<JwtVerifier>> by_setup;
  const JwtVerifier& get(const std::string& keyset, const std::string& policy) {
    auto& slot = by_setup[keyset + "/" + policy];
    if (!slot) slot = std::make_unique<JwtVerifier>(make_keyset(keyset), make_policy(policy));
    return *slot;
  }
};

const testing::TokenCase& find_case(std::string_view name) {
  for (const auto& c : token_fixture().cases)
    if (c.name == name) return c;
  throw std::runtime_error("no token case " + std::string(name));
}

TEST(JwtVerifier, EveryThirdPartyTokenGetsItsExactResult) {
  const auto& fixture = token_fixture();
  ASSERT_GT(fixture.cases.size(), 100u);
  Verifiers verifiers;
  for (const auto& c : fixture.cases) {
    SCOPED_TRACE(c.name);
    const JwtVerifier& verifier = verifiers.get(c.keyset, c.policy);
    JwtClaims claims;
    const JwtError error = verifier.verify(c.token, fixture.now, claims);
    EXPECT_EQ(jwt_error_name(error), c.expect) << c.token.substr(0, 200);
    if (error != JwtError::none) continue;
    EXPECT_FALSE(claims.sub.empty());
    ASSERT_NE(claims.key, nullptr);
    if (!c.claims) continue;
    const auto& want = *c.claims;
    EXPECT_EQ(claims.sub, want.sub.value_or(claims.sub));
    EXPECT_EQ(claims.device, want.device.value_or(""));
    EXPECT_EQ(claims.has_channels, want.channels.has_value());
    EXPECT_EQ(claims.channels, want.channels.value_or(std::vector<std::string>{}));
    EXPECT_EQ(claims.info, want.info.value_or(""));
    EXPECT_EQ(claims.has_exp, want.exp.has_value());
    EXPECT_EQ(claims.exp, want.exp.value_or(0));
    EXPECT_EQ(claims.iat, want.iat.value_or(0));
  }
}

TEST(JwtVerifier, TheCasesCoverEveryErrorATokenCanCause) {
  std::set<std::string> expected;
  for (const auto& c : token_fixture().cases) expected.insert(c.expect);
  for (size_t i = 0; i < size_t(JwtError::count_); ++i) {
    const auto error = JwtError(i);
    if (error == JwtError::internal) continue;  // OpenSSL out of memory: no token causes it
    EXPECT_TRUE(expected.count(std::string(jwt_error_name(error)))) << jwt_error_name(error);
  }
}

TEST(JwtVerifier, TheKeyThatVerifiedIsReported) {
  const JwtVerifier verifier(make_keyset("kids"), make_policy("default"));
  JwtClaims claims;
  ASSERT_EQ(verifier.verify(find_case("kid_rs_second_key").token, token_fixture().now, claims),
            JwtError::none);
  ASSERT_NE(claims.key, nullptr);
  EXPECT_EQ(claims.key->kid(), "rs-2");
  EXPECT_EQ(claims.key->alg(), JwtAlg::rs256);

  const JwtVerifier rotation(make_keyset("rotation"), make_policy("default"));
  ASSERT_EQ(rotation.verify(find_case("no_kid_tries_each_key_of_its_alg").token,
                            token_fixture().now, claims),
            JwtError::none);
  EXPECT_EQ(claims.key, &rotation.keys().keys()[1]);
}

TEST(JwtVerifier, ReusedClaimsKeepNothingFromTheLastToken) {
  const JwtVerifier verifier(make_keyset("hs"), make_policy("default"));
  JwtClaims claims;
  ASSERT_EQ(verifier.verify(find_case("hs256_valid").token, token_fixture().now, claims),
            JwtError::none);
  EXPECT_EQ(claims.device, "phone-7");
  ASSERT_EQ(verifier.verify(find_case("minimal_claims").token, token_fixture().now, claims),
            JwtError::none);
  EXPECT_EQ(claims.sub, "user-1");
  EXPECT_TRUE(claims.device.empty());
  EXPECT_FALSE(claims.has_channels);
  EXPECT_TRUE(claims.channels.empty());
  EXPECT_TRUE(claims.info.empty());
}

TEST(JwtVerifier, TimeIsJudgedAtTheGivenNowWithTheLeeway) {
  const auto& token = find_case("hs256_valid").token;  // exp = now + 3600
  const int64_t now = token_fixture().now;
  JwtPolicy policy = make_policy("default");
  policy.leeway_s = 0;
  const JwtVerifier strict(make_keyset("hs"), policy);
  JwtClaims claims;
  EXPECT_EQ(strict.verify(token, now + 3599, claims), JwtError::none);
  EXPECT_EQ(strict.verify(token, now + 3600, claims), JwtError::expired);
  policy.leeway_s = 30;
  const JwtVerifier lenient(make_keyset("hs"), policy);
  EXPECT_EQ(lenient.verify(token, now + 3629, claims), JwtError::none);
  EXPECT_EQ(lenient.verify(token, now + 3630, claims), JwtError::expired);

  const auto& later = find_case("not_yet_valid").token;  // nbf = now + 60
  EXPECT_EQ(strict.verify(later, now + 59, claims), JwtError::not_yet_valid);
  EXPECT_EQ(strict.verify(later, now + 60, claims), JwtError::none);
  EXPECT_EQ(lenient.verify(later, now + 30, claims), JwtError::none);
}

TEST(JwtVerifier, ExpiredTokensAreReportedBeforeAudienceAndIssuer) {
  // The client refreshes an expired token; what else is wrong shows on the next attempt.
  const JwtVerifier verifier(make_keyset("hs"), make_policy("audience"));
  JwtClaims claims;
  EXPECT_EQ(verifier.verify(find_case("expired").token, token_fixture().now, claims),
            JwtError::expired);
}

TEST(JwtVerifier, WithoutKeysEveryTokenIsRefused) {
  const JwtVerifier verifier(JwtKeySet{}, make_policy("default"));
  JwtClaims claims;
  EXPECT_EQ(verifier.verify(find_case("hs256_valid").token, token_fixture().now, claims),
            JwtError::alg_not_allowed);
  EXPECT_EQ(verifier.verify(find_case("alg_none").token, token_fixture().now, claims),
            JwtError::alg_none);
}

TEST(JwtVerifier, OneVerifierServesManyThreadsAtOnce) {
  const JwtVerifier verifier(make_keyset("all"), make_policy("default"));
  const std::vector<std::pair<std::string, JwtError>> work = {
      {find_case("hs256_valid").token, JwtError::none},
      {find_case("rs256_valid").token, JwtError::none},
      {find_case("es256_valid").token, JwtError::none},
      {find_case("es256_flipped_byte").token, JwtError::bad_signature},
      {find_case("expired").token, JwtError::expired},
  };
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      JwtClaims claims;
      for (int i = 0; i < 200; ++i) {
        const auto& [token, want] = work[size_t(i + t) % work.size()];
        if (verifier.verify(token, token_fixture().now, claims) != want) ++wrong;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(JwtVerifier, EachKeyVerifiesWithItsOwnContextAsKeysComeAndGo) {
  // Each thread caches a digest context for the last 8 keys it used; 30 verifiers with two
  // keys each pass through it, and a context must never serve another key.
  const auto& by_first = find_case("rs256_valid").token;
  const auto& by_second = find_case("no_kid_tries_each_key_of_its_alg").token;
  const int64_t now = token_fixture().now;
  JwtClaims claims;
  for (int round = 0; round < 30; ++round) {
    JwtKeySet first_keys, second_keys;
    std::string why;
    std::vector<std::string> warnings;
    ASSERT_TRUE(first_keys.load({testing::key_source(JwtAlg::rs256, "rs256_public.pem")}, false,
                                why, warnings));
    ASSERT_TRUE(second_keys.load({testing::key_source(JwtAlg::rs256, "rs256_other_public.pem")},
                                 false, why, warnings));
    const JwtVerifier first(std::move(first_keys), make_policy("default"));
    const JwtVerifier second(std::move(second_keys), make_policy("default"));
    for (int i = 0; i < 2; ++i) {
      EXPECT_EQ(first.verify(by_first, now, claims), JwtError::none);
      EXPECT_EQ(second.verify(by_first, now, claims), JwtError::bad_signature);
      EXPECT_EQ(first.verify(by_second, now, claims), JwtError::bad_signature);
      EXPECT_EQ(second.verify(by_second, now, claims), JwtError::none);
    }
  }
}

TEST(JwtPolicy, ContradictoryLimitsAreRefused) {
  std::string why;
  JwtPolicy policy;
  EXPECT_TRUE(check_jwt_policy(policy, why));
  policy.max_token_bytes = 100;
  EXPECT_FALSE(check_jwt_policy(policy, why));
  EXPECT_NE(why.find("max_token_bytes"), std::string::npos);
  policy = {};
  policy.max_claims_bytes = policy.max_token_bytes + 1;
  EXPECT_FALSE(check_jwt_policy(policy, why));
  EXPECT_NE(why.find("max_claims_bytes"), std::string::npos);
  policy = {};
  policy.max_info_bytes = policy.max_claims_bytes + 1;
  EXPECT_FALSE(check_jwt_policy(policy, why));
  policy = {};
  policy.leeway_s = -1;
  EXPECT_FALSE(check_jwt_policy(policy, why));
  EXPECT_NE(why.find("leeway_s"), std::string::npos);
}

}  // namespace
}  // namespace wshub::hub
