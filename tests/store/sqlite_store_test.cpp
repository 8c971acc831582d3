// Opening the SQLite store: migrations, positions across a reopen, and the refusals (locked,
// not a database, newer schema, a foreign database), each with its one sentence.
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "store_test_support.h"

namespace wshub::store::testing {
namespace {

std::string refusal(const std::string& path) {
  SqliteStoreOptions options;
  options.path = path;
  options.lock_wait_ms = 200;
  std::string why;
  auto store = open_sqlite_store(options, why);
  EXPECT_FALSE(store) << "opened " << path;
  return why;
}

int64_t user_version(const std::string& path) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, nullptr);
  int64_t version = -1;
  if (sqlite3_step(stmt) == SQLITE_ROW) version = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return version;
}

void exec(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);
}

TEST(SqliteStore, NewFileIsMigratedToTheCurrentSchemaInWalMode) {
  TempDir dir;
  const std::string path = dir.file("hub.db");
  { auto store = open_or_fail(path); }
  EXPECT_EQ(user_version(path), kSqliteSchemaVersion);
  std::ifstream file(path, std::ios::binary);
  char header[20] = {};
  file.read(header, sizeof header);
  EXPECT_EQ(std::string(header, 15), "SQLite format 3");
  EXPECT_EQ(header[18], 2) << "WAL databases have file format 2";
}

TEST(SqliteStore, EmptyFileIsTakenAsANewDatabase) {
  TempDir dir;
  const std::string path = dir.file("empty.db");
  std::ofstream(path).close();
  auto store = open_or_fail(path);
  ASSERT_TRUE(store);
  EXPECT_EQ(store->load_position("news").offset, 0u);
}

TEST(SqliteStore, PositionsAndEpochSurviveAReopen) {
  TempDir dir;
  const std::string path = dir.file("hub.db");
  hub::ChannelPosition first;
  {
    auto store = open_or_fail(path);
    first = store->load_position("news");
    EXPECT_EQ(first.offset, 0u);
    EXPECT_EQ(first.epoch.size(), 8u);
    AppendTally tally;
    for (uint64_t off = 1; off <= 5; ++off)
      store->append(make_append(tally, "news", first.epoch, off, "{\"n\":" + std::to_string(off) + "}", keep_count(100)));
    ASSERT_TRUE(tally.wait_for(5));
    EXPECT_TRUE(tally.errors().empty());
  }
  auto store = open_or_fail(path);
  const hub::ChannelPosition again = store->load_position("news");
  EXPECT_EQ(again.epoch, first.epoch);
  EXPECT_EQ(again.offset, 5u);
  // A channel never written has the database's epoch at 0 in every process.
  EXPECT_EQ(store->load_position("other").epoch, first.epoch);
}

TEST(SqliteStore, ANewDatabaseHasANewEpoch) {
  TempDir dir;
  std::string first, second;
  {
    auto store = open_or_fail(dir.file("a.db"));
    first = store->load_position("news").epoch;
  }
  std::remove(dir.file("a.db").c_str());
  std::remove(dir.file("a.db-wal").c_str());
  std::remove(dir.file("a.db-shm").c_str());
  auto store = open_or_fail(dir.file("a.db"));
  second = store->load_position("news").epoch;
  EXPECT_NE(first, second);
}

TEST(SqliteStore, AnOffsetThatDoesNotFollowTheStoredOneIsRefused) {
  TempDir dir;
  auto store = open_or_fail(dir.file("hub.db"));
  const std::string epoch = store->load_position("news").epoch;
  AppendTally tally;
  store->append(make_append(tally, "news", epoch, 1, "1", keep_count(10)));
  store->append(make_append(tally, "news", epoch, 3, "3", keep_count(10)));
  store->append(make_append(tally, "news", epoch, 2, "2", keep_count(10)));
  ASSERT_TRUE(tally.wait_for(3));
  ASSERT_EQ(tally.errors().size(), 1u);
  EXPECT_NE(tally.errors()[0].find("does not follow"), std::string::npos) << tally.errors()[0];
  EXPECT_EQ(tally.order(), (std::vector<uint64_t>{1, 3, 2})) << "reported in append order";
  EXPECT_EQ(read_history(*store, "news", 0).pubs.size(), 2u);
}

// SIGTERM's path: close() commits what is queued and moves the WAL into the database file
// itself, while the store object (and its connections) still live.
TEST(SqliteStore, CloseCommitsTheQueueAndEmptiesTheWal) {
  TempDir dir;
  const std::string path = dir.file("hub.db");
  auto store = open_or_fail(path, /*sync=*/false);
  const std::string epoch = store->load_position("news").epoch;
  AppendTally tally;
  for (uint64_t off = 1; off <= 200; ++off)
    store->append(make_append(tally, "news", epoch, off, "{\"n\":" + std::to_string(off) + "}", keep_count(1000)));
  store->close();
  ASSERT_TRUE(tally.wait_for(200));
  EXPECT_TRUE(tally.errors().empty());
  struct stat wal {};
  ASSERT_EQ(::stat((path + "-wal").c_str(), &wal), 0) << "the connections are still open: the WAL file exists";
  EXPECT_EQ(wal.st_size, 0) << "close() left committed pages in the WAL";
  AppendTally late;
  store->append(make_append(late, "news", epoch, 201, "1", keep_count(1000)));
  ASSERT_TRUE(late.wait_for(1));
  EXPECT_EQ(late.errors().size(), 1u) << "an append after close() was accepted";
  store->close();  // idempotent
  store.reset();
  auto reopened = open_or_fail(path);
  EXPECT_EQ(reopened->load_position("news").offset, 200u);
}

TEST(SqliteStoreRefuses, ASecondStoreOnTheSameFile) {
  TempDir dir;
  const std::string path = dir.file("hub.db");
  auto first = open_or_fail(path);
  const std::string why = refusal(path);
  EXPECT_NE(why.find("is locked by another process"), std::string::npos) << why;
  EXPECT_NE(why.find(path), std::string::npos) << why;
}

TEST(SqliteStoreRefuses, AFileAnotherProcessHoldsOpen) {
  TempDir dir;
  const std::string path = dir.file("hub.db");
  int ready[2], release[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(release), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    SqliteStoreOptions options;
    options.path = path;
    std::string why;
    auto store = open_sqlite_store(options, why);
    char byte = store ? 'y' : 'n';
    (void)!write(ready[1], &byte, 1);
    (void)!read(release[0], &byte, 1);
    _exit(0);
  }
  char byte = 0;
  ASSERT_EQ(read(ready[0], &byte, 1), 1);
  ASSERT_EQ(byte, 'y');
  const std::string why = refusal(path);
  EXPECT_NE(why.find("is locked by another process"), std::string::npos) << why;
  (void)!write(release[1], "x", 1);
  int status = 0;
  waitpid(child, &status, 0);
  // Once that process is gone the file is ours.
  EXPECT_TRUE(open_or_fail(path));
}

TEST(SqliteStoreRefuses, AFileAnotherConnectionHoldsAWriteLockOn) {
  TempDir dir;
  const std::string path = dir.file("hub.db");
  { auto store = open_or_fail(path); }
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  const std::string why = refusal(path);
  EXPECT_NE(why.find("is locked by another process"), std::string::npos) << why;
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
}

TEST(SqliteStoreRefuses, AFileThatIsNotADatabase) {
  TempDir dir;
  const std::string path = dir.file("garbage.db");
  std::ofstream out(path, std::ios::binary);
  for (int i = 0; i < 512; ++i) out << "this is not a database ";
  out.close();
  const std::string why = refusal(path);
  EXPECT_NE(why.find("is not a usable wshub database"), std::string::npos) << why;
}

TEST(SqliteStoreRefuses, ADatabaseFromANewerSchema) {
  TempDir dir;
  const std::string path = dir.file("hub.db");
  { auto store = open_or_fail(path); }
  exec(path, "PRAGMA user_version = 99");
  const std::string why = refusal(path);
  EXPECT_NE(why.find("written by a newer wshub (schema 99"), std::string::npos) << why;
}

TEST(SqliteStoreRefuses, ADatabaseOfAnotherProgram) {
  TempDir dir;
  const std::string path = dir.file("other.db");
  exec(path, "CREATE TABLE accounts(id INTEGER PRIMARY KEY)");
  const std::string why = refusal(path);
  EXPECT_NE(why.find("not a wshub one"), std::string::npos) << why;
}

TEST(SqliteStoreRefuses, ADirectory) {
  TempDir dir;
  const std::string why = refusal(dir.file(""));
  EXPECT_NE(why.find("is not a regular file"), std::string::npos) << why;
}

}  // namespace
}  // namespace wshub::store::testing
