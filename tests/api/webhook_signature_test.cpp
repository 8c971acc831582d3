// X-Wshub-Signature: the exact header for a known body (the HMAC computed independently with
// Python's hmac module), and every way verification refuses one.
#include <gtest/gtest.h>

#include "api/webhook_signature.h"

namespace {

using wshub::api::SignatureCheck;
using wshub::api::verify_webhook_signature;
using wshub::api::webhook_signature;

constexpr const char* kSecret = "whsec_test_secret_0123";
constexpr const char* kBody = R"({"type":"rpc","m":"sum"})";
constexpr int64_t kT = 1700000000;
constexpr const char* kExpected =
    "t=1700000000,v1=b644b4f71af3ee659363d7e90c61229c58f176a00be90c337d145cc49bad3b0f";

TEST(WebhookSignature, MatchesAnIndependentHmacOfTDotBody) {
  EXPECT_EQ(webhook_signature(kSecret, kT, kBody), kExpected);
  EXPECT_EQ(webhook_signature(kSecret, kT, ""),
            "t=1700000000,v1=abee3089c1670ab6f1a13e4645904d14193b8ccdd5d7bddb6993bdcd6b978550");
}

TEST(WebhookSignature, VerifiesWithinTheToleranceWindow) {
  EXPECT_EQ(verify_webhook_signature(kExpected, kBody, kSecret, kT), SignatureCheck::valid);
  EXPECT_EQ(verify_webhook_signature(kExpected, kBody, kSecret, kT + 300, 300), SignatureCheck::valid);
  EXPECT_EQ(verify_webhook_signature(kExpected, kBody, kSecret, kT - 300, 300), SignatureCheck::valid);
  EXPECT_EQ(verify_webhook_signature(kExpected, kBody, kSecret, kT + 301, 300),
            SignatureCheck::outside_tolerance);
  EXPECT_EQ(verify_webhook_signature(kExpected, kBody, kSecret, kT - 301, 300),
            SignatureCheck::outside_tolerance);
}

TEST(WebhookSignature, RefusesAnotherSecretOrAChangedBody) {
  EXPECT_EQ(verify_webhook_signature(kExpected, kBody, "another-secret", kT), SignatureCheck::mismatch);
  EXPECT_EQ(verify_webhook_signature(kExpected, R"({"type":"rpc","m":"sum "})", kSecret, kT),
            SignatureCheck::mismatch);
  // The timestamp is signed too: moving it breaks the signature.
  std::string moved = kExpected;
  moved.replace(2, 10, "1700000001");
  EXPECT_EQ(verify_webhook_signature(moved, kBody, kSecret, kT), SignatureCheck::mismatch);
}

TEST(WebhookSignature, AcceptsAnyOfSeveralV1AndUnknownKeysAndUppercaseHex) {
  std::string other = "v1=" + std::string(64, '0');
  std::string rotated = std::string("t=1700000000, ") + other + ", v2=whatever," +
                        std::string(kExpected).substr(13);
  EXPECT_EQ(verify_webhook_signature(rotated, kBody, kSecret, kT), SignatureCheck::valid);
  std::string upper = kExpected;
  for (size_t i = 17; i < upper.size(); ++i) upper[i] = char(toupper(upper[i]));
  EXPECT_EQ(verify_webhook_signature(upper, kBody, kSecret, kT), SignatureCheck::valid);
}

TEST(WebhookSignature, RefusesMalformedHeaders) {
  const std::string hex(64, 'a');
  for (std::string header : {std::string(""), std::string("garbage"), "v1=" + hex,
                             std::string("t=1700000000"), "t=,v1=" + hex, "t=-5,v1=" + hex,
                             "t=17x,v1=" + hex, "t=1,t=2,v1=" + hex, std::string("t=1700000000,v1=abc"),
                             "t=1700000000,v1=" + std::string(64, 'g'),
                             "t=1700000000,v1=" + hex + "00",
                             "t=1234567890123456789,v1=" + hex}) {
    EXPECT_EQ(verify_webhook_signature(header, kBody, kSecret, kT), SignatureCheck::malformed)
        << header;
  }
}

}  // namespace
