// The JwtError table: each refusal has a unique name, a sentence and the protocol's codes.
#include <gtest/gtest.h>

#include <set>

#include "hub/jwt_error.h"

namespace wshub::hub {
namespace {

TEST(JwtError, ExpiredAsksForANewTokenAndEverythingElseIsUnauthorized) {
  EXPECT_EQ(uint16_t(hub_error_code_of(JwtError::expired)), 109);
  EXPECT_EQ(uint16_t(close_code_of(JwtError::expired)), 3005);
  EXPECT_TRUE(close_means_reconnect(uint16_t(close_code_of(JwtError::expired))));
  EXPECT_EQ(uint16_t(hub_error_code_of(JwtError::internal)), 100);
  EXPECT_EQ(uint16_t(close_code_of(JwtError::internal)), 3000);
  for (size_t i = 1; i < size_t(JwtError::count_); ++i) {
    const auto error = JwtError(i);
    if (error == JwtError::expired || error == JwtError::internal) continue;
    EXPECT_EQ(uint16_t(hub_error_code_of(error)), 101) << jwt_error_name(error);
    EXPECT_EQ(uint16_t(close_code_of(error)), 3500) << jwt_error_name(error);
    EXPECT_FALSE(close_means_reconnect(uint16_t(close_code_of(error))));
  }
}

TEST(JwtError, NamesAreUniqueAndSentencesPresent) {
  std::set<std::string_view> names;
  for (size_t i = 1; i < size_t(JwtError::count_); ++i) {
    const auto error = JwtError(i);
    EXPECT_TRUE(names.insert(jwt_error_name(error)).second) << jwt_error_name(error);
    EXPECT_GT(jwt_error_sentence(error).size(), 20u) << jwt_error_name(error);
  }
  EXPECT_EQ(jwt_error_name(JwtError::alg_key_mismatch), "alg_key_mismatch");
  EXPECT_EQ(jwt_error_name(JwtError::none), "none");
}

}  // namespace
}  // namespace wshub::hub
