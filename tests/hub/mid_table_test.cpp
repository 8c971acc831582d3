// The table of message ids behind publish and rpc deduplication, on a clock the test sets:
// first / in flight / answered, expiry after the ttl, release for a retry, and the bound.
#include <gtest/gtest.h>

#include "hub/mid_table.h"

namespace wshub::hub {
namespace {

constexpr int64_t kStart = 1'700'000'000'000;

MidRecord answer(MidTable& table, const std::string& key, int64_t claimed_ms, uint64_t offset) {
  return MidRecord{key, table.expiry_for(claimed_ms), "ep1", offset, {}};
}

TEST(MidTable, FirstClaimIsInFlightUntilItsAnswerThenRepeatsGetTheAnswer) {
  MidTable table(60, 100, 1 << 20);
  MidRecord seen;
  EXPECT_EQ(table.claim("pu1:am1", kStart, seen), MidTable::Claim::first);
  EXPECT_EQ(table.claim("pu1:am1", kStart + 5, seen), MidTable::Claim::in_flight);
  table.complete(answer(table, "pu1:am1", kStart, 7));
  ASSERT_EQ(table.claim("pu1:am1", kStart + 10, seen), MidTable::Claim::answered);
  EXPECT_EQ(seen.offset, 7u);
  EXPECT_EQ(seen.epoch, "ep1");
  EXPECT_EQ(table.claim("pu1:bm1", kStart + 10, seen), MidTable::Claim::first) << "another sender's key";
}

TEST(MidTable, AnAnswerIsForgottenOnceTheTtlHasPassed) {
  MidTable table(60, 100, 1 << 20);
  MidRecord seen;
  ASSERT_EQ(table.claim("k", kStart, seen), MidTable::Claim::first);
  table.complete(answer(table, "k", kStart, 1));
  EXPECT_EQ(table.claim("k", kStart + 59'999, seen), MidTable::Claim::answered);
  EXPECT_EQ(table.claim("k", kStart + 60'000, seen), MidTable::Claim::first);
}

TEST(MidTable, ReleasedKeyRunsAgain) {
  MidTable table(60, 100, 1 << 20);
  MidRecord seen;
  ASSERT_EQ(table.claim("k", kStart, seen), MidTable::Claim::first);
  table.release("k");
  EXPECT_EQ(table.claim("k", kStart + 1, seen), MidTable::Claim::first);
  table.complete(answer(table, "k", kStart + 1, 2));
  table.release("k");  // an answered key is not released
  EXPECT_EQ(table.claim("k", kStart + 2, seen), MidTable::Claim::answered);
}

TEST(MidTable, PastItsBoundTheOldestIsForgotten) {
  MidTable table(60, 3, 1 << 20);
  MidRecord seen;
  for (int i = 0; i < 4; ++i) {
    const std::string key = "k" + std::to_string(i);
    ASSERT_EQ(table.claim(key, kStart + i, seen), MidTable::Claim::first);
    table.complete(answer(table, key, kStart + i, uint64_t(i)));
  }
  EXPECT_EQ(table.size(), 3u);
  EXPECT_EQ(table.claim("k3", kStart + 10, seen), MidTable::Claim::answered);
  EXPECT_EQ(table.claim("k1", kStart + 10, seen), MidTable::Claim::answered);
  EXPECT_EQ(table.claim("k0", kStart + 10, seen), MidTable::Claim::first);
}

TEST(MidTable, PastItsMemoryBoundTheOldestIsForgottenAndTheBytesFollowWhatIsKept) {
  MidTable table(60, 100, 4096);
  MidRecord seen;
  for (int i = 0; i < 3; ++i) {
    const std::string key = "r" + std::to_string(i);
    ASSERT_EQ(table.claim(key, kStart + i, seen), MidTable::Claim::first);
    table.complete(MidRecord{key, table.expiry_for(kStart + i), {}, 0, std::string(1500, 'x')});
  }
  // Three answers of 1500 bytes do not fit in 4096: the first went when the third was kept.
  EXPECT_EQ(table.size(), 2u);
  EXPECT_LE(table.bytes(), 4096u);
  EXPECT_EQ(table.claim("r0", kStart + 10, seen), MidTable::Claim::first);
  table.release("r0");
  EXPECT_EQ(table.claim("r2", kStart + 10, seen), MidTable::Claim::answered);
  EXPECT_EQ(seen.data.size(), 1500u);
  const size_t two = table.bytes();
  ASSERT_EQ(table.claim("small", kStart + 11, seen), MidTable::Claim::first);
  EXPECT_GT(table.bytes(), two);
  table.release("small");
  EXPECT_EQ(table.bytes(), two) << "a released key gives its bytes back";
}

TEST(MidTable, LoadedRecordsAnswerAndExpireByTheirOwnTime) {
  MidTable table(60, 100, 1 << 20);
  table.load({MidRecord{"old", kStart + 1'000, "e", 1, {}}, MidRecord{"rpc", kStart + 50'000, {}, 0, "{\"x\":1}"}});
  MidRecord seen;
  ASSERT_EQ(table.claim("rpc", kStart, seen), MidTable::Claim::answered);
  EXPECT_EQ(seen.data, "{\"x\":1}");
  EXPECT_EQ(table.claim("old", kStart + 1'000, seen), MidTable::Claim::first);
}

TEST(MidTable, ZeroTtlRemembersNothing) {
  MidTable table(0, 100, 1 << 20);
  EXPECT_FALSE(table.enabled());
  table.load({MidRecord{"k", kStart + 1'000, "e", 1, {}}});
  EXPECT_EQ(table.size(), 0u);
}

}  // namespace
}  // namespace wshub::hub
