// The SQLite store's writer and readers: group commit, retention by count, bytes and age, and
// history reads beside a busy writer.
#include <sqlite3.h>

#include <atomic>
#include <thread>

#include "base/clock.h"
#include "store_test_support.h"

namespace wshub::store::testing {
namespace {

TEST(SqliteWriter, ConcurrentAppendsShareCommits) {
  TempDir dir;
  auto store = open_or_fail(dir.file("hub.db"));
  const std::string epoch = store->load_position("c0").epoch;
  AppendTally tally;
  constexpr int kThreads = 4, kPerThread = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      const std::string channel = "c" + std::to_string(t);
      for (uint64_t off = 1; off <= kPerThread; ++off)
        store->append(make_append(tally, channel, epoch, off, "{\"x\":1}", keep_count(1000)));
    });
  for (std::thread& thread : threads) thread.join();
  ASSERT_TRUE(tally.wait_for(kThreads * kPerThread));
  EXPECT_TRUE(tally.errors().empty());
  const hub::StoreCounters counters = store->counters();
  EXPECT_EQ(counters.appends, uint64_t(kThreads * kPerThread));
  // Each commit is an fsync in "sync" mode: appends queued while one runs share the next.
  EXPECT_LT(counters.commits, counters.appends / 4) << "commits " << counters.commits;
  EXPECT_GE(counters.syncs, counters.commits);
  for (int t = 0; t < kThreads; ++t)
    EXPECT_EQ(read_history(*store, "c" + std::to_string(t), 0).pubs.size(), size_t(kPerThread));
}

TEST(SqliteWriter, FastModeCommitsWithoutAnFsyncEach) {
  TempDir dir;
  auto store = open_or_fail(dir.file("hub.db"), /*sync=*/false);
  const std::string epoch = store->load_position("c").epoch;
  AppendTally tally;
  for (uint64_t off = 1; off <= 50; ++off) {
    store->append(make_append(tally, "c", epoch, off, "1", keep_count(100)));
    ASSERT_TRUE(tally.wait_for(off));
  }
  EXPECT_EQ(store->counters().commits, 50u);
  EXPECT_EQ(store->counters().syncs, 0u);
}

TEST(SqliteWriter, AFullDatabaseFailsTheAppendsWithTheReasonAndKeepsWhatWasStored) {
  TempDir dir;
  SqliteStoreOptions options;
  options.path = dir.file("hub.db");
  options.max_file_bytes = 256 * 1024;
  std::string why;
  auto store = open_sqlite_store(options, why);
  ASSERT_TRUE(store) << why;
  const std::string epoch = store->load_position("news").epoch;
  AppendTally tally;
  const std::string data = "\"" + std::string(2000, 'x') + "\"";
  uint64_t off = 0;
  // One at a time, so the first failure is known to follow the last stored one.
  while (tally.errors().empty() && off < 1000) {
    store->append(make_append(tally, "news", epoch, ++off, data, keep_count(100000)));
    ASSERT_TRUE(tally.wait_for(off));
  }
  ASSERT_FALSE(tally.errors().empty()) << "256 KiB never filled";
  EXPECT_NE(tally.errors()[0].find("full"), std::string::npos) << tally.errors()[0];
  const uint64_t stored = off - 1;
  EXPECT_EQ(store->counters().append_errors, 1u);
  // The writer goes on from what is stored: the failed offset is taken again by a publication
  // small enough to fit, and the history has no gap.
  store->append(make_append(tally, "news", epoch, off, "1", keep_count(100000)));
  ASSERT_TRUE(tally.wait_for(off + 1));
  EXPECT_EQ(tally.errors().size(), 1u);
  const hub::HistoryPage page = read_history(*store, "news", 0, 100000);
  EXPECT_TRUE(page.error.empty()) << page.error;
  EXPECT_EQ(page.stored.offset, stored + 1);
  ASSERT_EQ(page.pubs.size(), stored + 1);
  EXPECT_EQ(page.pubs[stored - 1].data, data);
  EXPECT_EQ(page.pubs.back().data, "1");
}

TEST(SqliteRetention, KeepsTheLastCountPublications) {
  TempDir dir;
  auto store = open_or_fail(dir.file("hub.db"));
  const std::string epoch = store->load_position("news").epoch;
  AppendTally tally;
  for (uint64_t off = 1; off <= 25; ++off)
    store->append(make_append(tally, "news", epoch, off, std::to_string(off), keep_count(10)));
  ASSERT_TRUE(tally.wait_for(25));
  const hub::HistoryPage page = read_history(*store, "news", 0);
  EXPECT_TRUE(page.error.empty()) << page.error;
  EXPECT_EQ(page.stored.offset, 25u);
  EXPECT_EQ(page.first_kept, 16u);
  ASSERT_EQ(page.pubs.size(), 10u);
  EXPECT_EQ(page.pubs.front().offset, 16u);
  EXPECT_EQ(page.pubs.front().data, "16");
  EXPECT_EQ(page.pubs.back().offset, 25u);
  EXPECT_EQ(store->counters().trimmed, 15u);
}

TEST(SqliteRetention, KeepsAtMostTheBytes) {
  TempDir dir;
  auto store = open_or_fail(dir.file("hub.db"));
  const std::string epoch = store->load_position("news").epoch;
  AppendTally tally;
  const std::string data = "\"" + std::string(28, 'x') + "\"";  // 30 bytes
  for (uint64_t off = 1; off <= 10; ++off)
    store->append(make_append(tally, "news", epoch, off, data, {1000, 100, 0}));
  ASSERT_TRUE(tally.wait_for(10));
  const hub::HistoryPage page = read_history(*store, "news", 0);
  ASSERT_EQ(page.pubs.size(), 3u) << "three of 30 bytes fit in 100";
  EXPECT_EQ(page.pubs.front().offset, 8u);
  EXPECT_EQ(page.first_kept, 8u);
}

TEST(SqliteRetention, AgedPublicationsAreSweptAndNotRead) {
  TempDir dir;
  auto store = open_or_fail(dir.file("hub.db"));
  const std::string epoch = store->load_position("news").epoch;
  AppendTally tally;
  const int64_t long_ago = wall_ms() - 60000;
  for (uint64_t off = 1; off <= 5; ++off)
    store->append(make_append(tally, "news", epoch, off, "1", {100, 0, 10}, long_ago));
  store->append(make_append(tally, "news", epoch, 6, "6", {100, 0, 10}));
  ASSERT_TRUE(tally.wait_for(6));
  hub::HistoryPage page = read_history(*store, "news", 0);
  ASSERT_EQ(page.pubs.size(), 1u) << "expired ones are not read even before the sweep";
  EXPECT_EQ(page.pubs[0].offset, 6u);
  EXPECT_EQ(page.first_kept, 6u);
  // The writer sweeps about once a second.
  for (int i = 0; i < 50 && store->counters().trimmed < 5; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(store->counters().trimmed, 5u);
  EXPECT_EQ(read_history(*store, "news", 0).stored.offset, 6u);
}

TEST(SqliteHistory, PagesByCountAndBytes) {
  TempDir dir;
  auto store = open_or_fail(dir.file("hub.db"));
  const std::string epoch = store->load_position("news").epoch;
  AppendTally tally;
  for (uint64_t off = 1; off <= 20; ++off)
    store->append(make_append(tally, "news", epoch, off, "\"0123456789\"", keep_count(100)));
  ASSERT_TRUE(tally.wait_for(20));
  hub::HistoryPage page = read_history(*store, "news", 4, 5);
  ASSERT_EQ(page.pubs.size(), 5u);
  EXPECT_EQ(page.pubs[0].offset, 5u);
  EXPECT_EQ(page.pubs[4].offset, 9u);
  page = read_history(*store, "news", 0, 100, 30);
  EXPECT_EQ(page.pubs.size(), 2u) << "12-byte publications, 30 bytes at most";
  page = read_history(*store, "news", 0, 100, 1);
  EXPECT_EQ(page.pubs.size(), 1u) << "the first publication always comes, whatever its size";
  page = read_history(*store, "unknown", 0);
  EXPECT_TRUE(page.pubs.empty());
  EXPECT_EQ(page.first_kept, 0u);
  EXPECT_EQ(page.stored.offset, 0u);
}

TEST(SqliteHistory, ReadsNeitherWaitForNorStopTheWriter) {
  TempDir dir;
  const std::string path = dir.file("hub.db");
  auto store = open_or_fail(path);
  const std::string epoch = store->load_position("news").epoch;
  // A reader elsewhere holds a snapshot open for the whole test: the writer goes on.
  sqlite3* reader = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &reader), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(reader, "BEGIN; SELECT count(*) FROM pubs;", nullptr, nullptr, nullptr), SQLITE_OK);
  AppendTally tally;
  constexpr uint64_t kTotal = 3000;
  std::thread writer([&] {
    for (uint64_t off = 1; off <= kTotal; ++off)
      store->append(make_append(tally, "news", epoch, off, std::to_string(off), keep_count(100000)));
  });
  // Every page read meanwhile is an unbroken run that starts right after the asked offset.
  uint64_t after = 0, pages = 0;
  while (after < kTotal) {
    const hub::HistoryPage page = read_history(*store, "news", after, 200);
    ASSERT_TRUE(page.error.empty()) << page.error;
    for (const hub::StoredPublication& pub : page.pubs) {
      ASSERT_EQ(pub.offset, after + 1);
      ASSERT_EQ(pub.data, std::to_string(pub.offset));
      after = pub.offset;
    }
    ASSERT_LE(after, page.stored.offset);
    ++pages;
  }
  writer.join();
  ASSERT_TRUE(tally.wait_for(kTotal));
  EXPECT_TRUE(tally.errors().empty());
  EXPECT_GT(pages, 1u);
  sqlite3_exec(reader, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(reader);
}

}  // namespace
}  // namespace wshub::store::testing
