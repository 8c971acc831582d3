// The store's one writer: group commit of appends, retention by count and bytes as channels are
// written, expiry by age swept about once a second, WAL checkpoints, and the free pages given
// back to the file system (auto_vacuum = INCREMENTAL) when they pile up after a burst.
#include <spdlog/spdlog.h>

#include <cerrno>
#include <chrono>

#include "base/clock.h"
#include "hub/json_writer.h"
#include "store/sqlite_internal.h"

namespace wshub::store {

namespace {

constexpr int64_t kSweepIntervalMs = 1000;
constexpr uint32_t kSweepChannelsPerTurn = 1000;

}  // namespace

SqliteWriter::SqliteWriter(SqliteConnection& db, const SqliteStoreOptions& options, StoreTotals& totals)
    : db_(db), options_(options), totals_(totals) {}

SqliteWriter::~SqliteWriter() { stop(); }

bool SqliteWriter::prepare(std::string& why) {
  const bool ok =
      find_channel_.prepare(db_, "SELECT id, last_offset, kept_bytes FROM channels WHERE name = ?1") &&
      insert_channel_.prepare(db_, "INSERT INTO channels(name, epoch, last_offset, kept_bytes) VALUES(?1, ?2, 0, 0)") &&
      update_channel_.prepare(db_, "UPDATE channels SET last_offset = ?2, kept_bytes = ?3 WHERE id = ?1") &&
      insert_pub_.prepare(db_, "INSERT INTO pubs(channel_id, off, ts, expires, data) VALUES(?1, ?2, ?3, ?4, ?5)") &&
      // Sized first, then deleted: DELETE ... RETURNING would build a temporary table each time.
      sized_through_.prepare(db_, "SELECT count(*), coalesce(sum(length(data)), 0) FROM pubs "
                                  "WHERE channel_id = ?1 AND off <= ?2") &&
      delete_through_.prepare(db_, "DELETE FROM pubs WHERE channel_id = ?1 AND off <= ?2") &&
      sizes_from_.prepare(db_, "SELECT off, length(data) FROM pubs WHERE channel_id = ?1 AND off >= ?2 ORDER BY off") &&
      expired_.prepare(db_, "SELECT channel_id, max(off) FROM pubs WHERE expires > 0 AND expires <= ?1 "
                            "GROUP BY channel_id LIMIT " + std::to_string(kSweepChannelsPerTurn)) &&
      oldest_kept_.prepare(db_, "SELECT min(off) FROM pubs WHERE channel_id = ?1") &&
      insert_mid_.prepare(db_, "INSERT OR REPLACE INTO mids(key, expires, epoch, off, data) VALUES(?1, ?2, ?3, ?4, ?5)") &&
      expire_mids_.prepare(db_, "DELETE FROM mids WHERE expires <= ?1") &&
      bound_mids_.prepare(db_, "DELETE FROM mids WHERE key IN (SELECT key FROM mids ORDER BY expires DESC "
                               "LIMIT -1 OFFSET ?1)") &&
      answer_publish_.prepare(db_, "UPDATE idempotency SET answer = ?2 WHERE scope = 'publish' AND key = ?1");
  if (!ok) why = "the database " + options_.path + " cannot be written: " + db_.error();
  // Checkpoints are ours (wal_autocheckpoint is 0): counted, and run by this thread only.
  if (ok) sqlite3_wal_hook(db_.handle(), &SqliteWriter::on_wal_commit, this);
  return ok;
}

void SqliteWriter::start() { thread_ = std::thread([this] { run(); }); }

void SqliteWriter::append(std::unique_ptr<hub::StoreAppend> item) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      const bool was_empty = queue_.empty() && mid_queue_.empty() && jobs_.empty();
      queue_.push_back(std::move(item));
      if (was_empty) wake_.notify_one();
      return;
    }
  }
  totals_.append_errors.fetch_add(1, std::memory_order_relaxed);
  item->on_stored("the store is closed (the server is stopping)");
}

void SqliteWriter::remember_mid(hub::MidRecord record) {
  std::lock_guard lock(mutex_);
  if (stopping_) return;
  const bool was_empty = queue_.empty() && mid_queue_.empty() && jobs_.empty();
  mid_queue_.push_back(std::move(record));
  if (was_empty) wake_.notify_one();
}

void SqliteWriter::submit(std::unique_ptr<WriterJob> job) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      const bool was_empty = queue_.empty() && mid_queue_.empty() && jobs_.empty();
      jobs_.push_back(std::move(job));
      if (was_empty) wake_.notify_one();
      return;
    }
  }
  job->finish("the store is closed (the server is stopping)");
}

int64_t SqliteWriter::now_ms() const { return options_.clock ? options_.clock() : wall_ms(); }

void SqliteWriter::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopping_ = true;
    stopped_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void SqliteWriter::run() {
  std::vector<std::unique_ptr<hub::StoreAppend>> batch;
  std::vector<hub::MidRecord> mids;
  std::vector<std::unique_ptr<WriterJob>> jobs;
  next_sweep_ms_ = wall_ms() + kSweepIntervalMs;
  for (;;) {
    bool finished = false;
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, std::chrono::milliseconds(kSweepIntervalMs),
                     [this] { return !queue_.empty() || !mid_queue_.empty() || !jobs_.empty() || stopping_; });
      mids.swap(mid_queue_);
      if (queue_.size() <= options_.max_batch) {
        batch.swap(queue_);
      } else {
        batch.assign(std::make_move_iterator(queue_.begin()),
                     std::make_move_iterator(queue_.begin() + options_.max_batch));
        queue_.erase(queue_.begin(), queue_.begin() + options_.max_batch);
      }
      // Jobs are few next to appends (one per send, ack or delivery batch): all of them go.
      jobs.swap(jobs_);
      finished = stopping_ && queue_.empty() && jobs_.empty();
    }
    if (!batch.empty() || !jobs.empty() || !mids.empty()) write_batch(batch, jobs, mids);
    batch.clear();
    jobs.clear();
    mids.clear();
    if (finished) break;
    const int64_t now = wall_ms();
    if (now >= next_sweep_ms_) {
      sweep_expired(now);
      sweep_mids(now);
      run_sweeper(now_ms());
      next_sweep_ms_ = now + kSweepIntervalMs;
    }
  }
}

void SqliteWriter::run_sweeper(int64_t now_ms) {
  if (!sweeper_ || !check_file().empty()) return;
  bool ok = db_.exec("BEGIN IMMEDIATE");
  if (ok) ok = sweeper_->sweep(now_ms);
  if (ok) ok = db_.exec("COMMIT");
  if (!ok) db_.exec("ROLLBACK");
  sweeper_->swept(ok);
  if (ok) {
    totals_.commits.fetch_add(1, std::memory_order_relaxed);
    if (options_.sync) totals_.syncs.fetch_add(1, std::memory_order_relaxed);
  }
}

void SqliteWriter::write_batch(std::vector<std::unique_ptr<hub::StoreAppend>>& batch,
                               std::vector<std::unique_ptr<WriterJob>>& jobs,
                               std::vector<hub::MidRecord>& mids) {
  std::vector<std::string> refusals(batch.size());
  std::vector<ChannelRow*> touched;
  if (!check_file().empty()) return refuse_batch(batch, jobs, file_lost_);
  bool ok = db_.exec("BEGIN IMMEDIATE");
  for (size_t i = 0; ok && i < mids.size(); ++i)
    ok = insert_mid(mids[i].key, mids[i].expires_ms, {}, 0, mids[i].data);
  size_t stored = 0;
  for (size_t i = 0; ok && i < batch.size(); ++i) {
    ChannelRow* row = nullptr;
    hub::StoreAppend& item = *batch[i];
    ok = find_channel(item.channel, item.epoch, row);
    if (!ok) break;
    if (item.offset != row->last_offset + 1) {
      // The broker gave this offset before an earlier append of the channel failed.
      refusals[i] = "offset " + std::to_string(item.offset) + " does not follow the stored " +
                    std::to_string(row->last_offset) + " (an earlier write failed)";
      continue;
    }
    insert_pub_.bind(1, row->id);
    insert_pub_.bind(2, int64_t(item.offset));
    insert_pub_.bind(3, item.ts_ms);
    insert_pub_.bind(4, item.retention.ttl_s ? item.ts_ms + int64_t(item.retention.ttl_s) * 1000 : 0);
    insert_pub_.bind_blob(5, item.data);
    ok = insert_pub_.step() == SQLITE_DONE;
    insert_pub_.reset();
    // The mid in the publication's own commit: a stored publication always has its mid.
    if (ok && !item.mid_key.empty()) ok = insert_mid(item.mid_key, item.mid_expires_ms, item.epoch, item.offset, {});
    if (ok && !item.idempotency_key.empty()) {
      // The API's answer, with the publication: a repeat after any crash finds both or neither.
      std::string answer;
      hub::JsonWriter(answer).begin_object().member("epoch", item.epoch).member("offset", item.offset).end_object();
      answer_publish_.bind_text(1, item.idempotency_key);
      answer_publish_.bind_text(2, answer);
      ok = answer_publish_.step() == SQLITE_DONE;
      answer_publish_.reset();
    }
    if (!ok) break;
    row->last_offset = item.offset;
    row->kept_bytes += item.data.size();
    row->retention = item.retention;
    if (!row->touched) touched.push_back(row);
    row->touched = true;
    ++stored;
  }
  const int64_t now = wall_ms();
  for (ChannelRow* row : touched) {
    row->touched = false;
    if (ok) ok = trim(*row, now);
  }
  const int64_t job_now = now_ms();
  for (size_t i = 0; ok && i < jobs.size(); ++i) ok = jobs[i]->apply(job_now);
  if (ok) ok = db_.exec("COMMIT");
  if (!ok) {
    const std::string failure = failure_sentence();
    const int os_error = sqlite3_system_errno(db_.handle());
    const bool full = (db_.code() & 0xff) == SQLITE_FULL || os_error == ENOSPC || os_error == EDQUOT;
    db_.exec("ROLLBACK");
    // The rows the batch changed are not what the file holds any more: read them again.
    channels_.clear();
    // On a full disk a checkpoint lets the next commit reuse the WAL from its start instead of
    // growing it (it may fail too, for want of room in the database file: nothing is lost).
    if (full) sqlite3_wal_checkpoint_v2(db_.handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    return refuse_batch(batch, jobs, failure);
  }
  // Committed to a file deleted meanwhile: gone at the next start, so not acknowledged.
  if (!check_file().empty()) return refuse_batch(batch, jobs, file_lost_);
  totals_.commits.fetch_add(1, std::memory_order_relaxed);
  if (options_.sync) totals_.syncs.fetch_add(1, std::memory_order_relaxed);
  totals_.appends.fetch_add(stored, std::memory_order_relaxed);
  if (++commits_since_vacuum_check_ >= 256) maybe_vacuum();
  totals_.append_errors.fetch_add(batch.size() - stored, std::memory_order_relaxed);
  for (size_t i = 0; i < batch.size(); ++i) batch[i]->on_stored(refusals[i]);
  for (auto& job : jobs) job->finish({});
}

void SqliteWriter::refuse_batch(std::vector<std::unique_ptr<hub::StoreAppend>>& batch,
                                std::vector<std::unique_ptr<WriterJob>>& jobs, const std::string& why) {
  totals_.append_errors.fetch_add(batch.size(), std::memory_order_relaxed);
  if (log_limiter_.allow()) {
    const uint64_t suppressed = log_limiter_.take_suppressed();
    spdlog::error("store: {} publication(s) and {} inbox write(s) refused: {}{}", batch.size(), jobs.size(), why,
                  suppressed ? fmt::format(" ({} similar lines suppressed)", suppressed) : std::string());
  }
  for (auto& item : batch) item->on_stored(why);
  for (auto& job : jobs) job->finish(why);
}

bool SqliteWriter::find_channel(std::string_view name, std::string_view epoch, ChannelRow*& row) {
  auto it = channels_.find(std::string(name));
  if (it != channels_.end()) {
    row = &it->second;
    return true;
  }
  ChannelRow loaded;
  find_channel_.bind_text(1, name);
  int rc = find_channel_.step();
  if (rc == SQLITE_ROW) {
    loaded.id = find_channel_.column_int(0);
    loaded.last_offset = uint64_t(find_channel_.column_int(1));
    loaded.kept_bytes = uint64_t(find_channel_.column_int(2));
  }
  find_channel_.reset();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return false;
  if (rc == SQLITE_DONE) {
    insert_channel_.bind_text(1, name);
    insert_channel_.bind_text(2, epoch);
    rc = insert_channel_.step();
    insert_channel_.reset();
    if (rc != SQLITE_DONE) return false;
    loaded.id = sqlite3_last_insert_rowid(db_.handle());
  }
  loaded.first_kept = loaded.last_offset + 1;
  oldest_kept_.bind(1, loaded.id);
  rc = oldest_kept_.step();
  if (rc == SQLITE_ROW && oldest_kept_.column_int(0) > 0)  // min() of no rows is NULL: 0
    loaded.first_kept = uint64_t(oldest_kept_.column_int(0));
  oldest_kept_.reset();
  if (rc != SQLITE_ROW) return false;
  row = &channels_.emplace(std::string(name), loaded).first->second;
  return true;
}

bool SqliteWriter::delete_through(ChannelRow& row, uint64_t offset) {
  sized_through_.bind(1, row.id);
  sized_through_.bind(2, int64_t(offset));
  int rc = sized_through_.step();
  const uint64_t count = rc == SQLITE_ROW ? uint64_t(sized_through_.column_int(0)) : 0;
  const uint64_t bytes = rc == SQLITE_ROW ? uint64_t(sized_through_.column_int(1)) : 0;
  sized_through_.reset();
  if (rc != SQLITE_ROW) return false;
  if (count) {
    delete_through_.bind(1, row.id);
    delete_through_.bind(2, int64_t(offset));
    rc = delete_through_.step();
    delete_through_.reset();
    if (rc != SQLITE_DONE) return false;
  }
  row.kept_bytes -= bytes < row.kept_bytes ? bytes : row.kept_bytes;
  if (offset + 1 > row.first_kept) row.first_kept = offset + 1;
  totals_.trimmed.fetch_add(count, std::memory_order_relaxed);
  return true;
}

// Keeps the last max_count publications and at most max_bytes of them, then records the row.
bool SqliteWriter::trim(ChannelRow& row, int64_t now_ms) {
  const hub::HistoryRetention& keep = row.retention;
  if (keep.max_count && row.last_offset >= row.first_kept &&
      row.last_offset - row.first_kept + 1 > keep.max_count) {
    if (!delete_through(row, row.last_offset - keep.max_count)) return false;
  }
  if (keep.max_bytes && row.kept_bytes > keep.max_bytes) {
    // The oldest go first until the rest fits.
    uint64_t remaining = row.kept_bytes, cut = 0;
    sizes_from_.bind(1, row.id);
    sizes_from_.bind(2, int64_t(row.first_kept));
    int rc;
    while (remaining > keep.max_bytes && (rc = sizes_from_.step()) == SQLITE_ROW) {
      cut = uint64_t(sizes_from_.column_int(0));
      remaining -= std::min<uint64_t>(remaining, uint64_t(sizes_from_.column_int(1)));
    }
    sizes_from_.reset();
    if (cut && !delete_through(row, cut)) return false;
  }
  (void)now_ms;
  update_channel_.bind(1, row.id);
  update_channel_.bind(2, int64_t(row.last_offset));
  update_channel_.bind(3, int64_t(row.kept_bytes));
  const bool ok = update_channel_.step() == SQLITE_DONE;
  update_channel_.reset();
  return ok;
}

bool SqliteWriter::sweep_expired(int64_t now_ms) {
  // Which channels have expired publications, and the newest expired one of each: everything up
  // to it goes, so a channel's kept publications stay one unbroken run of offsets.
  std::vector<std::pair<int64_t, uint64_t>> expired;
  expired_.bind(1, now_ms);
  int rc;
  while ((rc = expired_.step()) == SQLITE_ROW)
    expired.emplace_back(expired_.column_int(0), uint64_t(expired_.column_int(1)));
  expired_.reset();
  if (rc != SQLITE_DONE || expired.empty()) return rc == SQLITE_DONE;
  if (!db_.exec("BEGIN IMMEDIATE")) return false;
  bool ok = true;
  for (const auto& [id, through] : expired) {
    ChannelRow* row = nullptr;
    for (auto& [name, cached] : channels_)
      if (cached.id == id) row = &cached;
    ChannelRow scratch;
    if (!row) {
      // Not written since this process started: its row is read for its numbers.
      SqliteStatement read;
      ok = read.prepare(db_, "SELECT last_offset, kept_bytes FROM channels WHERE id = ?1");
      if (!ok) break;
      read.bind(1, id);
      if (read.step() == SQLITE_ROW) {
        scratch.last_offset = uint64_t(read.column_int(0));
        scratch.kept_bytes = uint64_t(read.column_int(1));
      }
      scratch.id = id;
      scratch.first_kept = 1;
      row = &scratch;
    }
    ok = delete_through(*row, through) && trim(*row, now_ms);
    if (!ok) break;
  }
  if (ok) ok = db_.exec("COMMIT");
  if (!ok) {
    db_.exec("ROLLBACK");
    channels_.clear();
    return false;
  }
  totals_.commits.fetch_add(1, std::memory_order_relaxed);
  if (options_.sync) totals_.syncs.fetch_add(1, std::memory_order_relaxed);
  return true;
}

bool SqliteWriter::insert_mid(std::string_view key, int64_t expires_ms, std::string_view epoch, uint64_t offset,
                              std::string_view data) {
  insert_mid_.bind_text(1, key);
  insert_mid_.bind(2, expires_ms);
  insert_mid_.bind_text(3, epoch);
  insert_mid_.bind(4, int64_t(offset));
  insert_mid_.bind_blob(5, data);
  const bool ok = insert_mid_.step() == SQLITE_DONE;
  insert_mid_.reset();
  if (ok) ++mids_since_sweep_;
  return ok;
}

bool SqliteWriter::sweep_mids(int64_t now_ms) {
  expire_mids_.bind(1, now_ms);
  bool ok = expire_mids_.step() == SQLITE_DONE;
  expire_mids_.reset();
  if (ok && mids_since_sweep_) {
    // Only after rows were added: the bound walks the expiry index up to max_mids.
    bound_mids_.bind(1, int64_t(options_.max_mids));
    ok = bound_mids_.step() == SQLITE_DONE;
    bound_mids_.reset();
    if (ok) mids_since_sweep_ = 0;
  }
  return ok;
}

void SqliteWriter::maybe_vacuum() {
  commits_since_vacuum_check_ = 0;
  int64_t free_pages = 0, pages = 0;
  if (!db_.query_int("PRAGMA freelist_count", free_pages) || !db_.query_int("PRAGMA page_count", pages)) return;
  // Free pages are reused by later writes; only a large surplus (after a burst was trimmed) is
  // handed back, a slice at a time so the writer is not held up for long.
  if (free_pages > 1024 && free_pages * 4 > pages) db_.exec("PRAGMA incremental_vacuum(1024)");
}

int SqliteWriter::on_wal_commit(void* self, sqlite3* db, const char* name, int pages) {
  auto& writer = *static_cast<SqliteWriter*>(self);
  if (uint32_t(pages) < writer.options_.checkpoint_pages) return SQLITE_OK;
  int log = 0, done = 0;
  if (sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, &log, &done) == SQLITE_OK)
    writer.totals_.syncs.fetch_add(2, std::memory_order_relaxed);  // the WAL, then the database
  return SQLITE_OK;
}

}  // namespace wshub::store
