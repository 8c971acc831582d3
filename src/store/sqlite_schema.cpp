// Opening the store's database: the process lock, the checks that refuse a file we must not
// use (another process's, not a database, damaged, newer), WAL and the durability mode, and the
// schema migrations, each one transaction that ends by setting user_version.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "store/sqlite_internal.h"

namespace wshub::store {

namespace {

// Migration N takes a database at user_version N-1 to N. Never edit a released one: add the
// next.
constexpr std::string_view kMigrations[] = {
    // 1: channel positions and history.
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE channels(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, epoch TEXT NOT NULL,"
    "  last_offset INTEGER NOT NULL, kept_bytes INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE pubs(channel_id INTEGER NOT NULL, off INTEGER NOT NULL, ts INTEGER NOT NULL,"
    "  expires INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY(channel_id, off)) WITHOUT ROWID;"
    "CREATE INDEX pubs_expiry ON pubs(expires) WHERE expires > 0;"
    "INSERT INTO meta VALUES('epoch', lower(hex(randomblob(4))));",
    // 2: history as a rowid table with (channel_id, off) as a unique index. In the WITHOUT ROWID
    // table of migration 1 a row above about a quarter of a 4 KiB page (985 B of data) kept 489
    // bytes inline and the rest on an overflow page of its own, so 1 KiB of data took 4.6 KB; a
    // rowid table keeps rows up to a whole page inline, and appends fill its pages in rowid
    // order. The rows are copied in key order, so their rowids follow (channel, offset).
    "ALTER TABLE pubs RENAME TO pubs_by_key;"
    "CREATE TABLE pubs(channel_id INTEGER NOT NULL, off INTEGER NOT NULL, ts INTEGER NOT NULL,"
    "  expires INTEGER NOT NULL, data BLOB NOT NULL);"
    "INSERT INTO pubs(channel_id, off, ts, expires, data)"
    "  SELECT channel_id, off, ts, expires, data FROM pubs_by_key ORDER BY channel_id, off;"
    "DROP TABLE pubs_by_key;"
    "CREATE UNIQUE INDEX pubs_position ON pubs(channel_id, off);"
    "CREATE INDEX pubs_expiry ON pubs(expires) WHERE expires > 0;",
    // 3: the message ids (`mid`) of client publish and rpc, for deduplication. A publish's
    // row is written in the commit of its publication (epoch, off); an rpc's keeps its data.
    "CREATE TABLE mids(key TEXT PRIMARY KEY, expires INTEGER NOT NULL, epoch TEXT NOT NULL DEFAULT '',"
    "  off INTEGER NOT NULL DEFAULT 0, data BLOB) WITHOUT ROWID;"
    "CREATE INDEX mids_expiry ON mids(expires);",
    // 4: the device inbox: devices (their inbox's epoch, last seq given, acked and pending counts),
    // messages keyed by (device, seq), receipts by message id, idempotency keys by scope.
    "CREATE TABLE devices(name TEXT PRIMARY KEY, user TEXT NOT NULL, epoch TEXT NOT NULL, head INTEGER NOT NULL,"
    "  acked INTEGER NOT NULL, pending INTEGER NOT NULL, last_seen INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX devices_user ON devices(user, last_seen);"
    "CREATE TABLE inbox(device TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL, ts INTEGER NOT NULL,"
    "  expires INTEGER NOT NULL, collapse_key TEXT, first_sent INTEGER NOT NULL DEFAULT 0,"
    "  undelivered INTEGER NOT NULL DEFAULT 0, data BLOB NOT NULL, PRIMARY KEY(device, seq)) WITHOUT ROWID;"
    "CREATE INDEX inbox_expiry ON inbox(expires) WHERE expires > 0;"
    "CREATE INDEX inbox_collapse ON inbox(device, collapse_key) WHERE collapse_key IS NOT NULL;"
    "CREATE INDEX inbox_fallback ON inbox(ts) WHERE undelivered = 0;"
    "CREATE TABLE receipts(id TEXT NOT NULL, device TEXT NOT NULL, seq INTEGER NOT NULL, state INTEGER NOT NULL,"
    "  created INTEGER NOT NULL, changed INTEGER NOT NULL, PRIMARY KEY(id, device)) WITHOUT ROWID;"
    "CREATE INDEX receipts_changed ON receipts(changed) WHERE state >= 2;"
    "CREATE TABLE idempotency(scope TEXT NOT NULL, key TEXT NOT NULL, answer TEXT NOT NULL,"
    "  expires INTEGER NOT NULL, PRIMARY KEY(scope, key)) WITHOUT ROWID;"
    "CREATE INDEX idempotency_expiry ON idempotency(expires);",
};
static_assert(std::size(kMigrations) == kSqliteSchemaVersion);

bool is_busy(int code) { return (code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED; }
bool is_not_database(int code) { return (code & 0xff) == SQLITE_NOTADB || (code & 0xff) == SQLITE_CORRUPT; }

std::string locked_sentence(const std::string& path) {
  return "the database " + path + " is locked by another process (another wshub, or a tool holding it open): "
         "stop it, or set [store] path to another file";
}

std::string damaged_sentence(const std::string& path, std::string_view detail) {
  return "the file " + path + " is not a usable wshub database (" + std::string(detail) +
         "): move it away and wshub starts a new one (its history is then lost), or restore a backup";
}

// Fills `why` from a failed call on `db` in the terms an operator acts on.
bool refuse(const SqliteConnection& db, const std::string& path, std::string_view doing, std::string& why) {
  if (is_busy(db.code())) why = locked_sentence(path);
  else if (is_not_database(db.code())) why = damaged_sentence(path, db.error());
  else why = "the database " + path + " cannot be used: " + std::string(doing) + ": " + db.error();
  return false;
}

}  // namespace

bool open_database(SqliteConnection& db, const SqliteStoreOptions& options, int& lock_fd, std::string& epoch,
                   std::string& why) {
  const std::string& path = options.path;
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0 && !S_ISREG(info.st_mode)) {
    why = "the database path " + path + " is not a regular file: set [store] path to a file";
    return false;
  }
  // One process per database: SQLite would let two share it, and two brokers would hand out the
  // same offsets. flock is separate from SQLite's own fcntl locks, and the descriptor stays open
  // for the store's life (closing another descriptor of the file would drop SQLite's locks).
  lock_fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd < 0) {
    const int error = errno;
    const char* fix = error == EROFS   ? "it is on a read-only file system: remount it read-write, or set [store] path "
                                         "to a writable place"
                      : error == EPERM ? "the file is immutable or append-only (lsattr shows it; chattr -i clears it)"
                                       : "check the path and its permissions ([store] path)";
    why = "the database " + path + " cannot be opened for writing (" + std::strerror(error) + "): " + fix;
    return false;
  }
  if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    why = errno == EWOULDBLOCK ? locked_sentence(path)
                               : "the database " + path + " cannot be locked: " + std::strerror(errno);
    return false;
  }
  if (!db.open(path, true)) return refuse(db, path, "open", why);
  sqlite3_busy_timeout(db.handle(), int(options.lock_wait_ms));
  int64_t version = 0;
  if (!db.query_int("PRAGMA user_version", version)) return refuse(db, path, "reading its schema version", why);
  if (version > kSqliteSchemaVersion) {
    why = "the database " + path + " was written by a newer wshub (schema " + std::to_string(version) +
          "; this build knows up to " + std::to_string(kSqliteSchemaVersion) +
          "): run that version, or set [store] path to another file";
    return false;
  }
  int64_t tables = 0;
  if (!db.query_int("SELECT count(*) FROM sqlite_master", tables)) return refuse(db, path, "reading its tables", why);
  if (version == 0 && tables > 0) {
    why = "the file " + path + " is an SQLite database but not a wshub one (it has tables and no wshub schema "
          "version): set [store] path to another file";
    return false;
  }
  if (version > 0) {
    std::string check;
    if (!db.query_text("PRAGMA quick_check", check)) return refuse(db, path, "checking it", why);
    if (check != "ok") {
      why = damaged_sentence(path, "integrity check: " + check.substr(0, 200));
      return false;
    }
  } else if (!db.exec("PRAGMA auto_vacuum = INCREMENTAL")) {
    // Before the first table: freed pages can then be given back to the file system.
    return refuse(db, path, "setting auto_vacuum", why);
  }
  std::string mode;
  if (!db.query_text("PRAGMA journal_mode = WAL", mode)) return refuse(db, path, "switching to WAL", why);
  if (mode != "wal") {
    why = "the database " + path + " cannot use write-ahead logging (journal mode stays '" + mode +
          "'): put it on a local file system";
    return false;
  }
  for (int64_t next = version + 1; next <= kSqliteSchemaVersion; ++next) {
    const std::string sql = "BEGIN IMMEDIATE;" + std::string(kMigrations[next - 1]) +
                            "PRAGMA user_version = " + std::to_string(next) + ";COMMIT;";
    if (!db.exec(sql)) {
      refuse(db, path, "migrating to schema " + std::to_string(next), why);
      db.exec("ROLLBACK");
      return false;
    }
  }
  // A writer elsewhere (a tool holding a write transaction) shows here, not at the first publish.
  if (!db.exec("BEGIN IMMEDIATE; COMMIT;")) {
    refuse(db, path, "taking the write lock", why);
    db.exec("ROLLBACK");
    return false;
  }
  if (!db.exec(options.sync ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL") ||
      !db.exec("PRAGMA wal_autocheckpoint = 0") ||
      // After a checkpoint the WAL file is cut back to this, so a burst does not keep it large.
      !db.exec("PRAGMA journal_size_limit = 67108864"))
    return refuse(db, path, "setting durability", why);
  if (options.max_file_bytes) {
    int64_t page_size = 4096;
    db.query_int("PRAGMA page_size", page_size);
    const int64_t pages = int64_t(options.max_file_bytes) / (page_size > 0 ? page_size : 4096);
    if (!db.exec("PRAGMA max_page_count = " + std::to_string(pages > 1 ? pages : 1)))
      return refuse(db, path, "setting the size cap", why);
  }
  if (!db.query_text("SELECT value FROM meta WHERE key = 'epoch'", epoch))
    return refuse(db, path, "reading its epoch", why);
  return true;
}

bool open_reader(SqliteConnection& db, const std::string& path, std::string& why) {
  if (!db.open(path, false)) {
    why = "the database " + path + " cannot be opened for reading: " + db.error();
    return false;
  }
  sqlite3_busy_timeout(db.handle(), 5000);
  return true;
}

}  // namespace wshub::store
