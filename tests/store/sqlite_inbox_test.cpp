// The device inbox in the SQLite store: gapless seq per device, cumulative acks, collapse of a
// message never pushed, ttl expiry by the writer's sweep, idempotency keys for 24 h (a fake
// clock), a user's fan-out, the full inbox, everything kept across a reopen, and the migration
// of a schema-1 database.
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "hub/inbox.h"
#include "store_test_support.h"

namespace wshub::store::testing {
namespace {

using Status = hub::InboxSendResult::Status;
constexpr int64_t kStart = 1'800'000'000'000;  // the fake clock's start (ms)

class RecordedEvents final : public hub::InboxEvents {
 public:
  void on_inbox_events(std::vector<hub::InboxEvent>& events) override {
    std::lock_guard lock(mutex_);
    for (auto& event : events) events_.push_back(event);
  }
  std::vector<hub::InboxEvent> of(hub::InboxEventType type) {
    std::lock_guard lock(mutex_);
    std::vector<hub::InboxEvent> out;
    for (auto& event : events_)
      if (event.type == type) out.push_back(event);
    return out;
  }

 private:
  std::mutex mutex_;
  std::vector<hub::InboxEvent> events_;
};

class SqliteInboxTest : public ::testing::Test {
 protected:
  void open(hub::InboxSettings settings = {}) {
    SqliteStoreOptions options;
    options.path = dir_.file("hub.db");
    options.clock = [this] { return now_.load(); };
    std::string why;
    store_ = open_sqlite_store(options, why);
    ASSERT_TRUE(store_) << why;
    inbox_ = store_->inbox();
    ASSERT_TRUE(inbox_);
    inbox_->configure(settings, &events_);
  }
  void reopen(hub::InboxSettings settings = {}) {
    store_.reset();
    open(settings);
  }

  hub::InboxSendResult send(std::string device, std::string data, std::string collapse = {}, std::string key = {},
                            int64_t expires = 0, std::string user = {}) {
    hub::InboxSendRequest request;
    request.device = std::move(device);
    request.user = std::move(user);
    request.id = "m" + std::to_string(++ids_);
    request.data = std::move(data);
    request.ts_ms = now_.load();
    request.expires_ms = expires;
    request.collapse_key = std::move(collapse);
    request.idempotency_key = std::move(key);
    std::promise<hub::InboxSendResult> done;
    inbox_->send(std::move(request), [&](hub::InboxSendResult& result) { done.set_value(result); });
    return done.get_future().get();
  }
  hub::InboxOpened open_inbox(const std::string& device, const std::string& user, const std::string& epoch,
                              uint64_t acked) {
    std::promise<hub::InboxOpened> done;
    inbox_->open(device, user, epoch, acked, [&](hub::InboxOpened& opened) { done.set_value(opened); });
    return done.get_future().get();
  }
  std::vector<uint64_t> seqs(const std::string& device, uint64_t after = 0) {
    std::promise<hub::InboxPage> done;
    inbox_->read(device, after, 1000, [&](hub::InboxPage& page) { done.set_value(page); });
    hub::InboxPage page = done.get_future().get();
    EXPECT_EQ(page.error, "");
    std::vector<uint64_t> out;
    for (const auto& message : page.messages) out.push_back(message.seq);
    return out;
  }
  std::vector<std::pair<std::string, std::string>> states(const std::string& id) {
    std::promise<hub::MessageReceipts> done;
    inbox_->receipts(id, [&](hub::MessageReceipts& receipts) { done.set_value(receipts); });
    return done.get_future().get().states;
  }
  // Fire-and-forget writes are committed once a later send is answered (one writer, in order).
  void settle() { send("settle-device", "0"); }

  TempDir dir_;
  std::atomic<int64_t> now_{kStart};
  uint64_t ids_ = 0;
  RecordedEvents events_;
  std::unique_ptr<hub::Store> store_;
  hub::InboxStore* inbox_ = nullptr;
};

TEST_F(SqliteInboxTest, SeqIsGaplessPerDeviceAndAnAckRemovesEverythingUpToIt) {
  open();
  EXPECT_EQ(send("d1", "1").answer, R"({"id":"m1","seq":1})");
  EXPECT_EQ(send("d1", "2").copies.at(0).seq, 2u);
  EXPECT_EQ(send("d2", "3").copies.at(0).seq, 1u) << "each device counts on its own";
  EXPECT_EQ(send("d1", "4").copies.at(0).seq, 3u);
  EXPECT_EQ(seqs("d1"), (std::vector<uint64_t>{1, 2, 3}));
  inbox_->mark_sent("d1", 1, 3);
  inbox_->ack("d1", 2);
  settle();
  EXPECT_EQ(seqs("d1"), (std::vector<uint64_t>{3}));
  const hub::InboxDeviceSummary summary = inbox_->device_summary("d1");
  EXPECT_EQ(summary.head, 3u);
  EXPECT_EQ(summary.acked, 2u);
  EXPECT_EQ(summary.pending, 1u);
  EXPECT_EQ(states("m1"), (std::vector<std::pair<std::string, std::string>>{{"d1", "acked"}}));
  EXPECT_EQ(states("m4"), (std::vector<std::pair<std::string, std::string>>{{"d1", "delivered"}}));
  EXPECT_EQ(events_.of(hub::InboxEventType::acked).size(), 2u);
  EXPECT_EQ(events_.of(hub::InboxEventType::delivered).size(), 3u);
  // An ack past the head acknowledges the head; an older one changes nothing.
  inbox_->ack("d1", 99);
  inbox_->ack("d1", 1);
  settle();
  EXPECT_EQ(inbox_->device_summary("d1").acked, 3u);
  EXPECT_EQ(seqs("d1"), (std::vector<uint64_t>{}));
  EXPECT_EQ(inbox_->totals().pending, 3u) << "d2's one message and the two settling sends";
}

TEST_F(SqliteInboxTest, ACollapseKeyReplacesOnlyAMessageNeverPushed) {
  open();
  send("d", "1", "score");  // seq 1
  inbox_->mark_sent("d", 1, 1);
  send("d", "2", "score");  // seq 2: seq 1 was pushed, so it stays
  send("d", "3", "score");  // seq 3 replaces seq 2
  EXPECT_EQ(seqs("d"), (std::vector<uint64_t>{1, 3}));
  EXPECT_EQ(states("m2"), (std::vector<std::pair<std::string, std::string>>{{"d", "replaced"}}));
  EXPECT_EQ(inbox_->device_summary("d").pending, 2u);
  send("d", "4", "other");
  EXPECT_EQ(seqs("d"), (std::vector<uint64_t>{1, 3, 4}));
}

TEST_F(SqliteInboxTest, AMessagePastItsTtlIsNotReadAndTheSweepReportsItExpired) {
  open();
  send("d", "1", {}, {}, kStart + 1000);
  send("d", "2");
  now_ += 1500;
  EXPECT_EQ(seqs("d"), (std::vector<uint64_t>{2})) << "reads skip it at once";
  for (int i = 0; i < 40 && events_.of(hub::InboxEventType::expired).empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto expired = events_.of(hub::InboxEventType::expired);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].id, "m1");
  EXPECT_EQ(expired[0].seq, 1u);
  EXPECT_EQ(states("m1"), (std::vector<std::pair<std::string, std::string>>{{"d", "expired"}}));
  EXPECT_EQ(inbox_->device_summary("d").pending, 1u);
  EXPECT_EQ(inbox_->totals().expired, 1u);
}

TEST_F(SqliteInboxTest, AnIdempotencyKeyIsAnsweredFromTheFirstSendFor24Hours) {
  open();
  const hub::InboxSendResult first = send("d", "1", {}, "order-1");
  ASSERT_EQ(first.status, Status::stored);
  now_ += 23 * 3600 * 1000;
  const hub::InboxSendResult again = send("d", "2", {}, "order-1");
  EXPECT_EQ(again.status, Status::duplicate);
  EXPECT_EQ(again.answer, first.answer);
  EXPECT_EQ(inbox_->device_summary("d").pending, 1u) << "a repeat stores nothing";
  now_ += 3600 * 1000 + 1;
  const hub::InboxSendResult later = send("d", "3", {}, "order-1");
  EXPECT_EQ(later.status, Status::stored);
  EXPECT_EQ(later.copies.at(0).seq, 2u);
}

TEST_F(SqliteInboxTest, AUserSendReachesDevicesSeenWithinDeviceTtlAndAFullInboxRefusesAll) {
  hub::InboxSettings settings;
  settings.device_ttl_s = 3600;
  settings.max_pending = 2;
  open(settings);
  EXPECT_EQ(send({}, "1", {}, {}, 0, "bob").status, Status::no_device);
  open_inbox("phone", "bob", "", 0);
  now_ += 3000 * 1000;
  open_inbox("laptop", "bob", "", 0);
  now_ += 1000 * 1000;  // phone was seen 4000 s ago, laptop 1000 s ago
  const hub::InboxSendResult one = send({}, "1", {}, {}, 0, "bob");
  ASSERT_EQ(one.status, Status::stored);
  ASSERT_EQ(one.copies.size(), 1u);
  EXPECT_EQ(one.copies[0].device, "laptop");
  EXPECT_EQ(one.answer, R"({"id":"m2","copies":[{"device":"laptop","seq":1}]})");
  EXPECT_EQ(send("laptop", "2").status, Status::stored);
  const hub::InboxSendResult full = send({}, "3", {}, {}, 0, "bob");
  EXPECT_EQ(full.status, Status::full);
  EXPECT_NE(full.message.find("inbox.max_pending"), std::string::npos) << full.message;
  EXPECT_EQ(inbox_->device_summary("laptop").pending, 2u);
}

TEST_F(SqliteInboxTest, ADeviceIsSeenUntilItsConnectionCloses) {
  hub::InboxSettings settings;
  settings.device_ttl_s = 3600;
  open(settings);
  open_inbox("phone", "bob", "", 0);
  now_ += 3000 * 1000;
  inbox_->seen("phone", "bob");  // its connection closed now, 3000 s after it opened
  settle();                      // written (on the writer's clock) before the clock moves on
  now_ += 1000 * 1000;
  const hub::InboxSendResult sent = send({}, "1", {}, {}, 0, "bob");
  ASSERT_EQ(sent.status, Status::stored) << sent.message;
  EXPECT_EQ(sent.copies.at(0).device, "phone");
  now_ += 3000 * 1000;
  EXPECT_EQ(send({}, "2", {}, {}, 0, "bob").status, Status::no_device);
}

TEST_F(SqliteInboxTest, AReopenKeepsSeqAckedAndEpochAndTheClientsAckCountsInItsEpochOnly) {
  open();
  const std::string epoch = open_inbox("d", "ann", "", 0).epoch;
  ASSERT_FALSE(epoch.empty());
  for (int i = 0; i < 3; ++i) send("d", std::to_string(i));
  inbox_->ack("d", 1);
  settle();
  reopen();
  EXPECT_EQ(inbox_->totals().pending, 3u) << "d's two and the settling send";
  hub::InboxOpened opened = open_inbox("d", "ann", "another-epoch", 3);
  EXPECT_EQ(opened.epoch, epoch);
  EXPECT_EQ(opened.head, 3u);
  EXPECT_EQ(opened.acked, 1u) << "an ack counted in another epoch is ignored";
  EXPECT_EQ(opened.pending, 2u);
  EXPECT_EQ(seqs("d", 1), (std::vector<uint64_t>{2, 3}));
  opened = open_inbox("d", "ann", epoch, 2);
  EXPECT_EQ(opened.acked, 2u);
  EXPECT_EQ(opened.pending, 1u);
  EXPECT_EQ(send("d", "next").copies.at(0).seq, 4u);
}

TEST_F(SqliteInboxTest, ASchema1DatabaseIsMigratedAndKeepsItsHistory) {
  const std::string path = dir_.file("hub.db");
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    // The schema as release 1 wrote it (migration 1), with one channel and one publication.
    const char* v1 =
        "PRAGMA auto_vacuum = INCREMENTAL; PRAGMA journal_mode = WAL;"
        "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
        "CREATE TABLE channels(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, epoch TEXT NOT NULL,"
        "  last_offset INTEGER NOT NULL, kept_bytes INTEGER NOT NULL DEFAULT 0);"
        "CREATE TABLE pubs(channel_id INTEGER NOT NULL, off INTEGER NOT NULL, ts INTEGER NOT NULL,"
        "  expires INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY(channel_id, off)) WITHOUT ROWID;"
        "CREATE INDEX pubs_expiry ON pubs(expires) WHERE expires > 0;"
        "INSERT INTO meta VALUES('epoch', 'e1e1e1e1');"
        "INSERT INTO channels VALUES(1, 'news', 'e1e1e1e1', 1, 2);"
        "INSERT INTO pubs VALUES(1, 1, 5, 0, '42');"
        "PRAGMA user_version = 1;";
    ASSERT_EQ(sqlite3_exec(db, v1, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  open();
  const hub::ChannelPosition position = store_->load_position("news");
  EXPECT_EQ(position.epoch, "e1e1e1e1");
  EXPECT_EQ(position.offset, 1u);
  const hub::HistoryPage page = read_history(*store_, "news", 0);
  ASSERT_EQ(page.pubs.size(), 1u);
  EXPECT_EQ(page.pubs[0].data, "42");
  EXPECT_EQ(send("d", "1").status, Status::stored);
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, nullptr);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int64(stmt, 0), kSqliteSchemaVersion);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

}  // namespace
}  // namespace wshub::store::testing
