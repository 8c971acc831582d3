// RecentKeys: once per key per window, windows measured in whole seconds, bounded table.
#include "base/recent_keys.h"

#include <gtest/gtest.h>

namespace wshub {
namespace {

TEST(RecentKeys, LetsAKeyThroughOncePerWindow) {
  RecentKeys keys(60);
  const uint64_t start = 1'000'000;
  EXPECT_TRUE(keys.first_in_window(42, start));
  EXPECT_FALSE(keys.first_in_window(42, start));
  EXPECT_FALSE(keys.first_in_window(42, start + 59'999));
  EXPECT_TRUE(keys.first_in_window(42, start + 60'000));
  EXPECT_FALSE(keys.first_in_window(42, start + 60'001));
}

TEST(RecentKeys, KeysAreIndependent) {
  RecentKeys keys(60);
  EXPECT_TRUE(keys.first_in_window(1, 5'000));
  EXPECT_TRUE(keys.first_in_window(2, 5'000));
  EXPECT_FALSE(keys.first_in_window(1, 6'000));
  EXPECT_FALSE(keys.first_in_window(2, 6'000));
  EXPECT_TRUE(keys.first_in_window(3, 6'000));
}

TEST(RecentKeys, TheWindowStartsAtTheLetThroughNotTheLastSighting) {
  RecentKeys keys(10);
  EXPECT_TRUE(keys.first_in_window(7, 0));
  for (uint64_t ms = 1'000; ms < 10'000; ms += 1'000) EXPECT_FALSE(keys.first_in_window(7, ms));
  EXPECT_TRUE(keys.first_in_window(7, 10'000));
}

TEST(RecentKeys, ManyKeysStayBoundedAndRecentOnesAreMostlyRemembered) {
  // More keys than slots: the table does not grow, and what it forgets it lets through again.
  RecentKeys keys(60);
  int first = 0;
  for (uint64_t key = 0; key < 10'000; ++key) first += keys.first_in_window(key, 1'000);
  EXPECT_EQ(first, 10'000);
  int repeated = 0;
  for (uint64_t key = 9'990; key < 10'000; ++key) repeated += keys.first_in_window(key, 2'000);
  EXPECT_LE(repeated, 2);  // the last ten keys are still there unless two shared a slot
  static_assert(sizeof(RecentKeys) <= 256 * 8 + 16);
}

}  // namespace
}  // namespace wshub
