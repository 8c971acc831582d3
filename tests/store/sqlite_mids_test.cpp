// The message ids the SQLite store keeps for deduplication: a publication's in its own commit,
// an rpc's on its own, both back after a reopen; expiry by the clock given to load_mids and by
// the writer's sweep; the bound; and none for a publication that was refused.
#include <chrono>
#include <thread>

#include "base/clock.h"
#include "store_test_support.h"

namespace wshub::store::testing {
namespace {

constexpr int64_t kFarFuture = int64_t(4'000'000'000'000);  // year 2096: never expired by the sweep

std::unique_ptr<hub::Store> open_with(const std::string& path, uint64_t max_mids) {
  SqliteStoreOptions options;
  options.path = path;
  options.max_mids = max_mids;
  std::string why;
  auto store = open_sqlite_store(options, why);
  EXPECT_TRUE(store) << why;
  return store;
}

// Waits until the writer has committed what was queued before: an append after it is reported.
void settle(hub::Store& store, const std::string& epoch, uint64_t offset) {
  AppendTally tally;
  store.append(make_append(tally, "flush", epoch, offset, "{}", keep_count(10)));
  ASSERT_TRUE(tally.wait_for(1));
}

TEST(SqliteMids, PublicationMidIsStoredInItsCommitAndRpcMidOnItsOwnBothSurviveAReopen) {
  TempDir dir;
  const std::string path = dir.file("hub.db");
  std::string epoch;
  {
    auto store = open_or_fail(path);
    epoch = store->load_position("news").epoch;
    AppendTally tally;
    auto append = make_append(tally, "news", epoch, 1, "{\"n\":1}", keep_count(100));
    append->mid_key = "pu5:alicem-1";
    append->mid_expires_ms = kFarFuture;
    store->append(std::move(append));
    ASSERT_TRUE(tally.wait_for(1));
    ASSERT_TRUE(tally.errors().empty()) << tally.errors()[0];
    store->remember_mid(hub::MidRecord{"ru5:alicem-2", kFarFuture - 1, {}, 0, "{\"answer\":42}"});
    settle(*store, epoch, 1);
  }
  auto store = open_or_fail(path);
  const std::vector<hub::MidRecord> mids = store->load_mids(wall_ms(), 100);
  ASSERT_EQ(mids.size(), 2u);
  EXPECT_EQ(mids[0].key, "ru5:alicem-2") << "oldest (soonest to expire) first";
  EXPECT_EQ(mids[0].data, "{\"answer\":42}");
  EXPECT_EQ(mids[1].key, "pu5:alicem-1");
  EXPECT_EQ(mids[1].epoch, epoch);
  EXPECT_EQ(mids[1].offset, 1u);
  EXPECT_EQ(mids[1].expires_ms, kFarFuture);
}

TEST(SqliteMids, LoadLeavesOutWhatExpiredByTheGivenClockAndKeepsTheNewestUpToTheLimit) {
  TempDir dir;
  auto store = open_or_fail(dir.file("hub.db"));
  const std::string epoch = store->load_position("flush").epoch;
  for (int i = 1; i <= 3; ++i)
    store->remember_mid(hub::MidRecord{"k" + std::to_string(i), kFarFuture + i * 1000, {}, 0, "1"});
  settle(*store, epoch, 1);
  EXPECT_EQ(store->load_mids(kFarFuture, 100).size(), 3u);
  EXPECT_EQ(store->load_mids(kFarFuture + 1000, 100).size(), 2u) << "k1 expires at exactly that time";
  EXPECT_EQ(store->load_mids(kFarFuture + 3000, 100).size(), 0u);
  const std::vector<hub::MidRecord> newest = store->load_mids(kFarFuture, 2);
  ASSERT_EQ(newest.size(), 2u);
  EXPECT_EQ(newest[0].key, "k2");
  EXPECT_EQ(newest[1].key, "k3");
}

TEST(SqliteMids, RefusedPublicationLeavesNoMid) {
  TempDir dir;
  auto store = open_or_fail(dir.file("hub.db"));
  const std::string epoch = store->load_position("news").epoch;
  AppendTally tally;
  auto append = make_append(tally, "news", epoch, 5, "{}", keep_count(100));  // offset 1 is next
  append->mid_key = "pu1:am";
  append->mid_expires_ms = kFarFuture;
  store->append(std::move(append));
  ASSERT_TRUE(tally.wait_for(1));
  ASSERT_EQ(tally.errors().size(), 1u);
  EXPECT_TRUE(store->load_mids(0, 100).empty());
}

TEST(SqliteMids, WriterSweepDropsExpiredMidsAndKeepsAtMostTheBound) {
  TempDir dir;
  auto store = open_with(dir.file("hub.db"), 2);
  const std::string epoch = store->load_position("flush").epoch;
  store->remember_mid(hub::MidRecord{"gone", wall_ms() - 1, {}, 0, "1"});
  for (int i = 1; i <= 4; ++i)
    store->remember_mid(hub::MidRecord{"k" + std::to_string(i), kFarFuture + i, {}, 0, "1"});
  settle(*store, epoch, 1);
  // The sweep runs about once a second; past the bound the soonest to expire go.
  std::vector<hub::MidRecord> kept;
  for (int tries = 0; tries < 50; ++tries) {
    kept = store->load_mids(0, 100);
    if (kept.size() == 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].key, "k3");
  EXPECT_EQ(kept[1].key, "k4");
}

}  // namespace
}  // namespace wshub::store::testing
