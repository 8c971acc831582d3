// The embedded store: channel positions and history in one SQLite database (WAL mode). One
// writer thread commits appends in groups (many publications, one transaction, one fsync);
// history reads run on their own connection and thread and never wait for the writer.
// Depends on the hub's Store interface only; the app layer chooses and opens it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "hub/broker.h"

namespace wshub::store {

// The schema this build writes. A database with a larger user_version was written by a newer
// wshub and is refused; a smaller one is migrated forward at open.
inline constexpr int64_t kSqliteSchemaVersion = 4;

struct SqliteStoreOptions {
  std::string path = "wshub.db";
  // "sync": an append is reported stored once its commit is on disk (synchronous = FULL: the
  // WAL is fsynced at every commit). "fast": once it is in the OS (synchronous = NORMAL).
  bool sync = true;
  uint32_t max_batch = 4096;            // appends in one commit at most
  uint32_t checkpoint_pages = 4000;     // the WAL is checkpointed past this many pages
  uint32_t lock_wait_ms = 2000;         // how long open waits for another connection's lock
  // The database file grows to at most this many bytes (0: no cap); past it appends fail as on
  // a full disk. Retention normally keeps the file far below any such cap.
  uint64_t max_file_bytes = 0;
  // Message ids kept for deduplication (hub.max_mids): past it the soonest to expire go.
  uint64_t max_mids = 100000;
  // The inbox's clock (ms since the epoch: ttl, idempotency, receipts); wall time when empty.
  // Tests set a fake one.
  std::function<int64_t()> clock;
};

// Opens, checks and migrates the database; null with `why` set to one sentence naming the file,
// the problem and the fix when it is locked by another process, is not a database or is
// damaged, or was written by a newer schema.
std::unique_ptr<hub::Store> open_sqlite_store(const SqliteStoreOptions& options, std::string& why);

}  // namespace wshub::store
