// The parts of the SQLite store shared by its files (internal to the store layer): opening and
// migrating the database, and the writer thread that commits appends in groups.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/log_limiter.h"
#include "store/sqlite_db.h"
#include "store/sqlite_store.h"

namespace wshub::store {

// Opens `options.path` on `db`, makes sure no other process uses it, checks it, migrates it
// to kSqliteSchemaVersion and sets WAL and the durability mode. `lock_fd` gets the descriptor
// holding the process lock (kept open while the store lives). Fills `epoch` with the
// database's epoch (made when it was created). False with `why` one sentence.
bool open_database(SqliteConnection& db, const SqliteStoreOptions& options, int& lock_fd, std::string& epoch,
                   std::string& why);
// A connection for reads beside the writer (same file, WAL), with `busy_timeout`.
bool open_reader(SqliteConnection& db, const std::string& path, std::string& why);

// Work other than appends that the writer runs inside a batch's transaction (the inbox's sends,
// acks, receipts), so it shares the batch's commit. On the writer thread only.
class WriterJob {
 public:
  virtual ~WriterJob() = default;
  // In the open transaction, after the batch's appends. False on an SQL error: the whole batch
  // is rolled back and every part of it refused.
  virtual bool apply(int64_t now_ms) = 0;
  // Once: after the commit (`error` empty) or with why the batch was refused.
  virtual void finish(std::string_view error) = 0;
};

// Work the writer runs about once a second in a transaction of its own (the inbox's expiry).
class WriterSweeper {
 public:
  virtual bool sweep(int64_t now_ms) = 0;   // in the transaction; false on an SQL error
  virtual void swept(bool committed) = 0;   // after the commit or the rollback

 protected:
  ~WriterSweeper() = default;
};

struct StoreTotals {
  std::atomic<uint64_t> appends{0}, append_errors{0}, commits{0}, syncs{0}, trimmed{0}, reads{0};
};

// The one thread that writes. Appends queue here; each turn takes every queued append (up to
// max_batch) into one transaction, trims the channels it touched to their retention, commits,
// and then reports each append in queue order. Expired history is swept about once a second.
class SqliteWriter {
 public:
  SqliteWriter(SqliteConnection& db, const SqliteStoreOptions& options, StoreTotals& totals);
  ~SqliteWriter();
  bool prepare(std::string& why);  // the statements; before start()
  // The descriptor of the database file opened at start (the process lock's): each commit
  // checks through it that the file is still the one at options.path. Before start().
  void watch(int database_fd) {
    database_fd_ = database_fd;
    check_file();  // records the WAL's inode
  }
  void start();
  void append(std::unique_ptr<hub::StoreAppend> item);
  // A message id that came with no publication (an rpc's answer): committed with the next turn.
  // Lost with that turn's commit if it fails (the client's retry then runs again).
  void remember_mid(hub::MidRecord record);
  // Queues `job` into the next batch; after stop() it is finished with an error at once.
  void submit(std::unique_ptr<WriterJob> job);
  // Before start().
  void set_sweeper(WriterSweeper* sweeper) { sweeper_ = sweeper; }
  // The writer's clock for jobs and sweeps (the options' clock, else wall time).
  int64_t now_ms() const;
  // Commits what is queued, then stops; later appends fail at once.
  void stop();

 private:
  // What the writer knows of a channel: authoritative, since nothing else writes.
  struct ChannelRow {
    int64_t id = 0;
    uint64_t last_offset = 0;
    uint64_t first_kept = 1;  // the oldest kept offset; last_offset + 1 when none is kept
    uint64_t kept_bytes = 0;
    bool touched = false;
    hub::HistoryRetention retention;
  };
  void run();
  void write_batch(std::vector<std::unique_ptr<hub::StoreAppend>>& batch, std::vector<std::unique_ptr<WriterJob>>& jobs,
                   std::vector<hub::MidRecord>& mids);
  bool insert_mid(std::string_view key, int64_t expires_ms, std::string_view epoch, uint64_t offset,
                  std::string_view data);
  // Drops expired mids and, past options_.max_mids, those that expire soonest.
  bool sweep_mids(int64_t now_ms);
  // Answers every append and job of the batch with `why`, counts them and logs it (rate-limited).
  void refuse_batch(std::vector<std::unique_ptr<hub::StoreAppend>>& batch, std::vector<std::unique_ptr<WriterJob>>& jobs,
                    const std::string& why);
  void run_sweeper(int64_t now_ms);
  // In the open transaction; false on an SQL error (the whole batch then fails).
  bool apply(hub::StoreAppend& item, std::string& refusal);
  bool find_channel(std::string_view name, std::string_view epoch, ChannelRow*& row);
  bool trim(ChannelRow& row, int64_t now_ms);
  bool delete_through(ChannelRow& row, uint64_t offset);
  bool sweep_expired(int64_t now_ms);
  void maybe_vacuum();
  // Empty while the database file and its WAL are still the ones opened at start; else the
  // sentence every later append is refused with (sticky: a deleted file does not come back).
  const std::string& check_file();
  // The sentence for the failed write on db_ (its extended code and errno), naming the file.
  std::string failure_sentence() const;
  static int on_wal_commit(void* self, sqlite3* db, const char* name, int pages);

  SqliteConnection& db_;
  SqliteStoreOptions options_;
  StoreTotals& totals_;
  std::unordered_map<std::string, ChannelRow> channels_;
  SqliteStatement find_channel_, insert_channel_, update_channel_, insert_pub_, sized_through_, delete_through_,
      sizes_from_, expired_, oldest_kept_, insert_mid_, expire_mids_, bound_mids_, answer_publish_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<std::unique_ptr<hub::StoreAppend>> queue_;
  std::vector<hub::MidRecord> mid_queue_;
  uint64_t mids_since_sweep_ = 0;  // mid rows written since the bound was last applied
  std::vector<std::unique_ptr<WriterJob>> jobs_;
  WriterSweeper* sweeper_ = nullptr;
  bool stopping_ = false;
  bool stopped_ = false;
  std::thread thread_;
  int64_t next_sweep_ms_ = 0;
  uint64_t commits_since_vacuum_check_ = 0;
  int database_fd_ = -1;
  uint64_t wal_inode_ = 0;  // recorded at the first check
  std::string file_lost_;
  LogLimiter log_limiter_{1};
};

}  // namespace wshub::store
