// Loading verifying and signing keys: what is accepted, and that every refusal names the key
// and the problem.
#include <gtest/gtest.h>

#include <fstream>

#include "hub/jwt_keys.h"
#include "jwt_fixture.h"

namespace wshub::hub {
namespace {

using testing::fixture_file;
using testing::key_source;
using testing::token_fixture;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Loads `source` for verifying; returns the error text ("" when it loaded).
std::string refusal(const JwtKeySource& source, bool private_key = false) {
  token_fixture();
  JwtKey key;
  std::string why, warning;
  return load_jwt_key(source, private_key, false, key, why, warning) ? "" : why;
}

TEST(JwtKeys, AlgNamesAreExact) {
  JwtAlg alg;
  EXPECT_TRUE(parse_jwt_alg("HS256", alg));
  EXPECT_EQ(alg, JwtAlg::hs256);
  EXPECT_TRUE(parse_jwt_alg("ES256", alg));
  EXPECT_EQ(alg, JwtAlg::es256);
  EXPECT_TRUE(parse_jwt_alg("RS256", alg));
  EXPECT_EQ(alg, JwtAlg::rs256);
  EXPECT_FALSE(parse_jwt_alg("rs256", alg));
  EXPECT_FALSE(parse_jwt_alg("none", alg));
  EXPECT_FALSE(parse_jwt_alg("HS384", alg));
  EXPECT_FALSE(parse_jwt_alg("", alg));
}

TEST(JwtKeys, SecretFileLosesItsTrailingNewlineOnly) {
  token_fixture();
  JwtKey key;
  std::string why, warning;
  ASSERT_TRUE(load_jwt_key(key_source(JwtAlg::hs256, "hs256.secret", "k"), false, false, key,
                           why, warning)) << why;
  EXPECT_EQ(key.secret(), "wshub-test-secret-0123456789-abcdefghijklmnop");
  EXPECT_EQ(key.kid(), "k");
  EXPECT_EQ(key.signature_size(), 32u);
  EXPECT_TRUE(warning.empty());
}

TEST(JwtKeys, ShortSecretIsRefusedUnlessAllowedAndThenWarned) {
  JwtKeySource source;
  source.secret = "dev-secret";
  const std::string why = refusal(source);
  EXPECT_NE(why.find("has 10 bytes"), std::string::npos) << why;
  EXPECT_NE(why.find("at least 32"), std::string::npos) << why;

  JwtKey key;
  std::string problem, warning;
  ASSERT_TRUE(load_jwt_key(source, false, true, key, problem, warning)) << problem;
  EXPECT_NE(warning.find("development only"), std::string::npos) << warning;

  source.secret.clear();
  EXPECT_NE(refusal(source).find("empty"), std::string::npos);
}

TEST(JwtKeys, PublicKeysComeFromSubjectPublicKeyInfoOrCertificates) {
  token_fixture();
  for (const auto& [alg, file, size] :
       {std::tuple{JwtAlg::rs256, "rs256_public.pem", 256u},
        std::tuple{JwtAlg::rs256, "rs256_cert.pem", 256u},
        std::tuple{JwtAlg::es256, "es256_public.pem", 64u}}) {
    SCOPED_TRACE(file);
    JwtKey key;
    std::string why, warning;
    ASSERT_TRUE(load_jwt_key(key_source(alg, file), false, false, key, why, warning)) << why;
    EXPECT_NE(key.pkey(), nullptr);
    EXPECT_EQ(key.signature_size(), size);
  }
  // The PEM text itself works as well as a file.
  JwtKeySource inline_pem;
  inline_pem.alg = JwtAlg::es256;
  inline_pem.pem = read_file(fixture_file("es256_public.pem"));
  EXPECT_EQ(refusal(inline_pem), "");
}

TEST(JwtKeys, WrongKeysAreRefusedWithTheReason) {
  const auto has = [](const std::string& why, std::string_view part) {
    return why.find(part) != std::string::npos;
  };
  std::string why = refusal(key_source(JwtAlg::rs256, "rs1024_public.pem", "old"));
  EXPECT_TRUE(has(why, "RS256 key 'old'") && has(why, "1024-bit")) << why;
  why = refusal(key_source(JwtAlg::es256, "es384_public.pem"));
  EXPECT_TRUE(has(why, "secp384r1") && has(why, "P-256")) << why;
  why = refusal(key_source(JwtAlg::es256, "rs256_public.pem"));
  EXPECT_TRUE(has(why, "not an EC key")) << why;
  why = refusal(key_source(JwtAlg::rs256, "es256_public.pem"));
  EXPECT_TRUE(has(why, "not an RSA key")) << why;
  why = refusal(key_source(JwtAlg::rs256, "rs256_pkcs1_public.pem"));
  EXPECT_TRUE(has(why, "PKCS#1") && has(why, "-RSAPublicKey_in")) << why;
  why = refusal(key_source(JwtAlg::rs256, "rs256_private.pem"));
  EXPECT_TRUE(has(why, "private key") && has(why, "-pubout")) << why;
  why = refusal(key_source(JwtAlg::rs256, "hs256.secret"));
  EXPECT_TRUE(has(why, "not PEM")) << why;
  why = refusal(key_source(JwtAlg::rs256, "no-such-file.pem"));
  EXPECT_TRUE(has(why, "cannot open") && has(why, "no-such-file.pem")) << why;
  JwtKeySource both = key_source(JwtAlg::hs256, "hs256.secret");
  both.secret = "x";
  why = refusal(both);
  EXPECT_TRUE(has(why, "one place")) << why;
}

TEST(JwtKeys, PrivateKeysLoadOnlyForMinting) {
  EXPECT_EQ(refusal(key_source(JwtAlg::rs256, "rs256_private.pem"), true), "");
  EXPECT_EQ(refusal(key_source(JwtAlg::es256, "es256_private.pem"), true), "");
  EXPECT_NE(refusal(key_source(JwtAlg::rs256, "rs256_public.pem"), true).find("no PEM private"),
            std::string::npos);
  EXPECT_NE(refusal(key_source(JwtAlg::es256, "rs256_private.pem"), true).find("not an EC key"),
            std::string::npos);
}

TEST(JwtKeySet, KidsAreUniqueAndTheCountIsBounded) {
  token_fixture();
  JwtKeySet keys;
  std::string why;
  std::vector<std::string> warnings;
  EXPECT_FALSE(keys.load({key_source(JwtAlg::hs256, "hs256.secret", "a"),
                          key_source(JwtAlg::es256, "es256_public.pem", "a")},
                         false, why, warnings));
  EXPECT_NE(why.find("kids must be unique"), std::string::npos) << why;

  JwtKeySet many;
  std::vector<JwtKeySource> sources;
  for (size_t i = 0; i <= kMaxJwtKeys; ++i)
    sources.push_back(key_source(JwtAlg::hs256, "hs256.secret", "k" + std::to_string(i)));
  EXPECT_FALSE(many.load(sources, false, why, warnings));
  EXPECT_NE(why.find("more than 16 keys"), std::string::npos) << why;
  EXPECT_EQ(many.keys().size(), kMaxJwtKeys);

  JwtKeySet found;
  ASSERT_TRUE(found.load({key_source(JwtAlg::hs256, "hs256.secret"),
                          key_source(JwtAlg::rs256, "rs256_public.pem", "r")},
                         false, why, warnings)) << why;
  ASSERT_NE(found.find_kid("r"), nullptr);
  EXPECT_EQ(found.find_kid("r")->alg(), JwtAlg::rs256);
  EXPECT_EQ(found.find_kid(""), nullptr);  // a key without a kid is never found by kid
  EXPECT_EQ(found.max_signature_size(), 256u);
}

TEST(JwtKeySet, AllowedShortSecretsAreListedAsWarnings) {
  token_fixture();
  JwtKeySet keys;
  std::string why;
  std::vector<std::string> warnings;
  ASSERT_TRUE(keys.load({key_source(JwtAlg::hs256, "short.secret")}, true, why, warnings)) << why;
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("only 10 bytes"), std::string::npos) << warnings[0];
}

}  // namespace
}  // namespace wshub::hub
