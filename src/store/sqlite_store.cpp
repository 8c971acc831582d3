// The SQLite store as the hub sees it: positions read on a connection of their own, history
// reads queued to a reader thread with its own connection, appends handed to the writer.
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>

#include "base/clock.h"
#include "store/sqlite_inbox.h"
#include "store/sqlite_internal.h"

namespace wshub::store {

namespace {

struct HistoryRequest {
  std::string channel;
  uint64_t after = 0;
  uint32_t limit = 0;
  uint64_t max_bytes = 0;
  std::unique_ptr<hub::HistoryRead> done;
};

uint64_t file_size(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 ? uint64_t(info.st_size) : 0;
}

class SqliteStore final : public hub::Store {
 public:
  explicit SqliteStore(const SqliteStoreOptions& options) : options_(options), writer_(writer_db_, options_, totals_) {}

  ~SqliteStore() override {
    close();
  }

  bool open(std::string& why) {
    if (!open_database(writer_db_, options_, lock_.fd, epoch_, why)) return false;
    if (!open_reader(position_db_, options_.path, why) || !open_reader(read_db_, options_.path, why)) return false;
    const bool prepared =
        load_position_.prepare(position_db_, "SELECT epoch, last_offset FROM channels WHERE name = ?1") &&
        read_channel_.prepare(read_db_, "SELECT id, epoch, last_offset FROM channels WHERE name = ?1") &&
        read_first_.prepare(read_db_,
                            "SELECT min(off) FROM pubs WHERE channel_id = ?1 AND (expires = 0 OR expires > ?2)") &&
        read_pubs_.prepare(read_db_,
                           "SELECT off, ts, data FROM pubs WHERE channel_id = ?1 AND off > ?2 "
                           "AND (expires = 0 OR expires > ?3) ORDER BY off LIMIT ?4");
    if (!prepared) {
      why = "the database " + options_.path + " cannot be read: " +
            (position_db_.code() ? position_db_.error() : read_db_.error());
      return false;
    }
    if (!writer_.prepare(why)) return false;
    inbox_ = std::make_unique<SqliteInbox>(
        writer_db_, writer_, read_db_, [this](std::function<void()> task) { post_read(std::move(task)); },
        options_.clock);
    if (!inbox_->open(options_.path, why)) return false;
    writer_.set_sweeper(inbox_.get());
    writer_.watch(lock_.fd);
    writer_.start();
    reader_ = std::thread([this] { read_loop(); });
    opened_ = true;
    return true;
  }

  bool keeps_history() const override { return true; }
  hub::InboxStore* inbox() override { return inbox_.get(); }

  hub::ChannelPosition load_position(std::string_view channel) override {
    hub::ChannelPosition position{epoch_, 0};
    std::lock_guard lock(position_mutex_);
    load_position_.bind_text(1, channel);
    const int rc = load_position_.step();
    if (rc == SQLITE_ROW) {
      position.epoch = std::string(load_position_.column_text(0));
      position.offset = uint64_t(load_position_.column_int(1));
    } else if (rc != SQLITE_DONE) {
      // The writer refuses offsets that do not follow what is stored, so a wrong guess here
      // costs failed publishes, never a wrong history.
      spdlog::error("store: reading the position of {:?} failed: {}", channel.substr(0, 80), position_db_.error());
    }
    load_position_.reset();
    return position;
  }

  void append(std::unique_ptr<hub::StoreAppend> item) override { writer_.append(std::move(item)); }

  void remember_mid(hub::MidRecord record) override { writer_.remember_mid(std::move(record)); }

  std::vector<hub::MidRecord> load_mids(int64_t now_ms, size_t limit) override {
    std::vector<hub::MidRecord> records;
    std::lock_guard lock(position_mutex_);
    SqliteStatement newest;
    if (!newest.prepare(position_db_, "SELECT key, expires, epoch, off, data FROM "
                                      "(SELECT * FROM mids WHERE expires > ?1 ORDER BY expires DESC LIMIT ?2) "
                                      "ORDER BY expires")) {
      spdlog::error("store: reading the remembered mids failed: {}", position_db_.error());
      return records;
    }
    newest.bind(1, now_ms);
    newest.bind(2, int64_t(std::min<size_t>(limit, size_t(INT64_MAX))));
    int rc;
    while ((rc = newest.step()) == SQLITE_ROW) {
      hub::MidRecord& record = records.emplace_back();
      record.key = std::string(newest.column_text(0));
      record.expires_ms = newest.column_int(1);
      record.epoch = std::string(newest.column_text(2));
      record.offset = uint64_t(newest.column_int(3));
      record.data = std::string(newest.column_text(4));
    }
    if (rc != SQLITE_DONE) spdlog::error("store: reading the remembered mids failed: {}", position_db_.error());
    return records;
  }

  void read_history(std::string_view channel, uint64_t after, uint32_t limit, uint64_t max_bytes,
                    std::unique_ptr<hub::HistoryRead> done) override {
    {
      std::lock_guard lock(read_mutex_);
      if (!read_stopping_) {
        read_queue_.push_back({std::string(channel), after, limit, max_bytes, std::move(done)});
        read_wake_.notify_one();
        return;
      }
    }
    hub::HistoryPage page;
    page.error = "the store is closed (the server is stopping)";
    done->on_history(std::move(page));
  }

  hub::StoreCounters counters() const override {
    hub::StoreCounters c;
    c.appends = totals_.appends.load(std::memory_order_relaxed);
    c.append_errors = totals_.append_errors.load(std::memory_order_relaxed);
    c.commits = totals_.commits.load(std::memory_order_relaxed);
    c.syncs = totals_.syncs.load(std::memory_order_relaxed);
    c.trimmed = totals_.trimmed.load(std::memory_order_relaxed);
    c.reads = totals_.reads.load(std::memory_order_relaxed);
    c.file_bytes = file_size(options_.path) + file_size(options_.path + "-wal");
    return c;
  }

  void close() override {
    writer_.stop();
    {
      std::lock_guard lock(read_mutex_);
      read_stopping_ = true;
    }
    read_wake_.notify_one();
    if (reader_.joinable()) reader_.join();
    // Everything committed goes from the WAL into the database file here, not whenever the last
    // connection happens to close: once close() returns the file alone holds the history (and
    // is fsynced, also under "fast"). A failure loses nothing: the WAL is replayed at the next start.
    if (opened_ && !closed_) {
      closed_ = true;
      int log = 0, done = 0;
      const int rc = sqlite3_wal_checkpoint_v2(writer_db_.handle(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, &log, &done);
      if (rc != SQLITE_OK)
        spdlog::error("store: the WAL of {} was not checkpointed at the stop ({}); the next start replays it",
                      options_.path, writer_db_.error());
      else
        spdlog::info("store: {} closed, {} publications stored since the start", options_.path,
                     totals_.appends.load(std::memory_order_relaxed));
    }
  }

 private:
  // Runs `task` on the reader thread (the inbox's reads); dropped once the store is closed (the
  // hub's workers, which would take the answer, are stopped by then).
  void post_read(std::function<void()> task) {
    std::lock_guard lock(read_mutex_);
    if (read_stopping_) return;
    read_tasks_.push_back(std::move(task));
    read_wake_.notify_one();
  }

  void read_loop() {
    for (;;) {
      HistoryRequest request;
      std::function<void()> task;
      {
        std::unique_lock lock(read_mutex_);
        read_wake_.wait(lock, [this] { return !read_queue_.empty() || !read_tasks_.empty() || read_stopping_; });
        if (!read_tasks_.empty()) {
          task = std::move(read_tasks_.front());
          read_tasks_.pop_front();
        } else if (read_queue_.empty()) {
          return;
        } else {
          request = std::move(read_queue_.front());
          read_queue_.pop_front();
        }
      }
      if (task) {
        task();
        totals_.reads.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      hub::HistoryPage page = read(request);
      totals_.reads.fetch_add(1, std::memory_order_relaxed);
      request.done->on_history(std::move(page));
    }
  }

  // One read transaction: the channel's row and its publications agree with each other.
  hub::HistoryPage read(const HistoryRequest& request) {
    hub::HistoryPage page;
    if (!read_db_.exec("BEGIN")) {
      page.error = "the store could not read history: " + read_db_.error();
      return page;
    }
    const int64_t now = wall_ms();
    int64_t id = 0;
    read_channel_.bind_text(1, request.channel);
    int rc = read_channel_.step();
    if (rc == SQLITE_ROW) {
      id = read_channel_.column_int(0);
      page.stored.epoch = std::string(read_channel_.column_text(1));
      page.stored.offset = uint64_t(read_channel_.column_int(2));
    }
    read_channel_.reset();
    if (rc == SQLITE_ROW) {
      read_first_.bind(1, id);
      read_first_.bind(2, now);
      rc = read_first_.step();
      if (rc == SQLITE_ROW) page.first_kept = uint64_t(read_first_.column_int(0));
      read_first_.reset();
    }
    if (rc == SQLITE_ROW && page.first_kept && request.limit) {
      read_pubs_.bind(1, id);
      read_pubs_.bind(2, int64_t(request.after));
      read_pubs_.bind(3, now);
      read_pubs_.bind(4, int64_t(request.limit));
      uint64_t bytes = 0;
      while ((rc = read_pubs_.step()) == SQLITE_ROW) {
        const std::string_view data = read_pubs_.column_text(2);
        if (!page.pubs.empty() && bytes + data.size() > request.max_bytes) break;
        bytes += data.size();
        page.pubs.push_back({uint64_t(read_pubs_.column_int(0)), read_pubs_.column_int(1), std::string(data)});
      }
      read_pubs_.reset();
      if (rc == SQLITE_DONE) rc = SQLITE_ROW;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) page.error = "the store could not read history: " + read_db_.error();
    read_db_.exec("COMMIT");
    if (page.stored.epoch.empty()) page.stored.epoch = epoch_;
    return page;
  }

  // Closed last, after every statement and connection: closing a descriptor of the file while a
  // connection is open would drop that connection's SQLite locks.
  struct ProcessLock {
    int fd = -1;
    ~ProcessLock() {
      if (fd >= 0) ::close(fd);
    }
  } lock_;
  SqliteStoreOptions options_;
  StoreTotals totals_;
  SqliteConnection writer_db_, position_db_, read_db_;
  SqliteWriter writer_;
  std::unique_ptr<SqliteInbox> inbox_;  // after the writer: destroyed before it
  std::string epoch_;

  std::mutex position_mutex_;
  SqliteStatement load_position_;

  std::mutex read_mutex_;
  std::condition_variable read_wake_;
  std::deque<HistoryRequest> read_queue_;
  std::deque<std::function<void()>> read_tasks_;
  bool read_stopping_ = false;
  bool opened_ = false;  // open() succeeded: the database is ours to checkpoint
  bool closed_ = false;  // the WAL was checkpointed by close()
  std::thread reader_;
  SqliteStatement read_channel_, read_first_, read_pubs_;
};

}  // namespace

std::unique_ptr<hub::Store> open_sqlite_store(const SqliteStoreOptions& options, std::string& why) {
  auto store = std::make_unique<SqliteStore>(options);
  if (!store->open(why)) return nullptr;
  return store;
}

}  // namespace wshub::store
