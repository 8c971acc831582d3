// Migrating a database written by an earlier schema: a schema-1 file with history is opened by
// this build and keeps every publication, its offset, time and data, and every channel's position.
#include <sqlite3.h>

#include <string>
#include <vector>

#include "store_test_support.h"

namespace wshub::store::testing {
namespace {

// Schema 1 as released (migration 1 of sqlite_schema.cpp): what a database of that version holds.
constexpr const char* kSchemaOne =
    "PRAGMA journal_mode = WAL;"
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE channels(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, epoch TEXT NOT NULL,"
    "  last_offset INTEGER NOT NULL, kept_bytes INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE pubs(channel_id INTEGER NOT NULL, off INTEGER NOT NULL, ts INTEGER NOT NULL,"
    "  expires INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY(channel_id, off)) WITHOUT ROWID;"
    "CREATE INDEX pubs_expiry ON pubs(expires) WHERE expires > 0;"
    "INSERT INTO meta VALUES('epoch', 'e0e0e0e0');"
    "PRAGMA user_version = 1;";

struct OldChannel {
  std::string name, epoch;
  uint64_t first_kept, last_offset;
  size_t data_bytes;
  int64_t expires;  // 0: no expiry
};

// A JSON string of exactly `bytes` bytes that names its channel and offset.
std::string data_for(const std::string& channel, uint64_t offset, size_t bytes) {
  std::string text = "\"" + channel + "#" + std::to_string(offset) + "-";
  text.resize(bytes - 1, 'x');
  return text + "\"";
}

int64_t ts_for(uint64_t offset) { return 1'700'000'000'000 + int64_t(offset) * 7; }

void write_schema_one(const std::string& path, const std::vector<OldChannel>& channels) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, kSchemaOne, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  ASSERT_EQ(sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_stmt* channel = nullptr;
  sqlite3_stmt* pub = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "INSERT INTO channels(id, name, epoch, last_offset, kept_bytes) VALUES(?,?,?,?,?)",
                               -1, &channel, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_prepare_v2(db, "INSERT INTO pubs VALUES(?,?,?,?,?)", -1, &pub, nullptr), SQLITE_OK);
  // Written interleaved, as live traffic would, so rows of the channels alternate in the file.
  uint64_t most = 0;
  for (const OldChannel& c : channels) most = std::max(most, c.last_offset);
  for (uint64_t off = 1; off <= most; ++off) {
    for (size_t i = 0; i < channels.size(); ++i) {
      const OldChannel& c = channels[i];
      if (off < c.first_kept || off > c.last_offset) continue;
      const std::string data = data_for(c.name, off, c.data_bytes);
      sqlite3_bind_int64(pub, 1, int64_t(i + 1));
      sqlite3_bind_int64(pub, 2, int64_t(off));
      sqlite3_bind_int64(pub, 3, ts_for(off));
      sqlite3_bind_int64(pub, 4, c.expires);
      sqlite3_bind_blob(pub, 5, data.data(), int(data.size()), SQLITE_TRANSIENT);
      ASSERT_EQ(sqlite3_step(pub), SQLITE_DONE) << sqlite3_errmsg(db);
      sqlite3_reset(pub);
    }
  }
  for (size_t i = 0; i < channels.size(); ++i) {
    const OldChannel& c = channels[i];
    sqlite3_bind_int64(channel, 1, int64_t(i + 1));
    sqlite3_bind_text(channel, 2, c.name.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(channel, 3, c.epoch.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(channel, 4, int64_t(c.last_offset));
    sqlite3_bind_int64(channel, 5, int64_t((c.last_offset - c.first_kept + 1) * c.data_bytes));
    ASSERT_EQ(sqlite3_step(channel), SQLITE_DONE) << sqlite3_errmsg(db);
    sqlite3_reset(channel);
  }
  sqlite3_finalize(channel);
  sqlite3_finalize(pub);
  ASSERT_EQ(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
}

std::string query_text(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  std::string out;
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW) {
    const unsigned char* text = sqlite3_column_text(stmt, 0);
    out = text ? reinterpret_cast<const char*>(text) : "";
  } else {
    out = std::string("error: ") + sqlite3_errmsg(db);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

// Every kept publication of `c` is read back, in order, with its offset, time and data.
void expect_history_kept(hub::Store& store, const OldChannel& c) {
  std::vector<hub::StoredPublication> all;
  uint64_t after = 0;
  for (;;) {
    hub::HistoryPage page = read_history(store, c.name, after, 100);
    ASSERT_TRUE(page.error.empty()) << page.error;
    EXPECT_EQ(page.stored.epoch, c.epoch);
    EXPECT_EQ(page.stored.offset, c.last_offset);
    EXPECT_EQ(page.first_kept, c.first_kept) << c.name;
    if (page.pubs.empty()) break;
    after = page.pubs.back().offset;
    for (auto& pub : page.pubs) all.push_back(std::move(pub));
  }
  ASSERT_EQ(all.size(), c.last_offset - c.first_kept + 1) << c.name;
  for (size_t i = 0; i < all.size(); ++i) {
    const uint64_t off = c.first_kept + i;
    ASSERT_EQ(all[i].offset, off) << c.name;
    EXPECT_EQ(all[i].ts_ms, ts_for(off));
    ASSERT_EQ(all[i].data, data_for(c.name, off, c.data_bytes)) << c.name << " " << off;
  }
}

TEST(SqliteMigration, ASchemaOneDatabaseKeepsEveryPublicationAndOffset) {
  TempDir dir;
  const std::string path = dir.file("hub.db");
  // Small rows, rows that overflowed a page in schema 1, a channel trimmed to a tail, and one
  // whose publications expire (far in the future, so they are all still readable).
  const std::vector<OldChannel> channels = {
      {"news", "aaaa0001", 1, 400, 64, 0},
      {"big", "aaaa0002", 1, 120, 1024, 0},
      {"trimmed", "aaaa0003", 151, 300, 200, 0},
      {"expiring", "aaaa0004", 1, 50, 100, 4'000'000'000'000},
  };
  write_schema_one(path, channels);
  {
    auto store = open_or_fail(path);
    ASSERT_TRUE(store);
    for (const OldChannel& c : channels) {
      const hub::ChannelPosition position = store->load_position(c.name);
      EXPECT_EQ(position.epoch, c.epoch);
      EXPECT_EQ(position.offset, c.last_offset);
      expect_history_kept(*store, c);
    }
    // Appends continue each channel after its stored offset, and retention still trims.
    AppendTally tally;
    store->append(make_append(tally, "news", "aaaa0001", 401, data_for("news", 401, 64), keep_count(1000)));
    store->append(make_append(tally, "trimmed", "aaaa0003", 301, data_for("trimmed", 301, 200), keep_count(100)));
    ASSERT_TRUE(tally.wait_for(2));
    EXPECT_TRUE(tally.errors().empty()) << tally.errors()[0];
    const hub::HistoryPage trimmed = read_history(*store, "trimmed", 0);
    EXPECT_EQ(trimmed.first_kept, 202u);
    ASSERT_EQ(trimmed.pubs.size(), 100u);
    EXPECT_EQ(trimmed.pubs.back().offset, 301u);
  }
  EXPECT_EQ(query_text(path, "PRAGMA user_version"), std::to_string(kSqliteSchemaVersion));
  EXPECT_EQ(query_text(path, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(query_text(path, "SELECT count(*) FROM pubs"), std::to_string(400 + 1 + 120 + 100 + 50));
  // A rowid table now (a WITHOUT ROWID one has no rowid column), so rows up to a page stay inline.
  EXPECT_EQ(query_text(path, "SELECT count(rowid) FROM pubs"), std::to_string(400 + 1 + 120 + 100 + 50));
  EXPECT_EQ(query_text(path, "SELECT value FROM meta WHERE key = 'epoch'"), "e0e0e0e0");
  // (channel, offset) stays a key: a second row for a stored offset is refused.
  EXPECT_NE(query_text(path, "INSERT INTO pubs(channel_id, off, ts, expires, data) VALUES(1, 401, 0, 0, 'x')")
                .find("UNIQUE constraint failed"),
            std::string::npos);
  // Reopened once more: nothing is migrated twice.
  auto store = open_or_fail(path);
  expect_history_kept(*store, {"big", "aaaa0002", 1, 120, 1024, 0});
}

}  // namespace
}  // namespace wshub::store::testing
