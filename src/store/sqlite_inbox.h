// The device inbox in the SQLite store (internal to the store layer). Writes (sends, opens,
// delivery marks, acks) are WriterJobs: they run in the writer's batches and share its commits;
// expiry, inbox.undelivered and the removal of old receipts and idempotency keys run in its
// once-a-second sweep. Reads run on the store's reader thread; /api/info's numbers on a
// connection of their own.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "hub/inbox.h"
#include "store/sqlite_internal.h"

namespace wshub::store {

struct InboxCounters {
  std::atomic<uint64_t> pending{0}, sends{0}, delivered{0}, acked{0}, expired{0}, duplicates{0};
};

// The statements of the writer's connection and what they do; the writer thread only.
class InboxWriter {
 public:
  InboxWriter(SqliteConnection& db, const hub::InboxSettings& settings) : db_(db), settings_(settings) {}
  bool prepare(std::string& why);

  // Each runs inside the writer's open transaction; false on an SQL error. Receipts to raise
  // once committed are added to `events`, counter changes to `delta`.
  struct Delta {
    int64_t pending = 0;
    uint64_t sends = 0, delivered = 0, acked = 0, expired = 0, duplicates = 0;
  };
  bool send(const hub::InboxSendRequest& request, int64_t now_ms, hub::InboxSendResult& result, Delta& delta);
  bool open(const std::string& device, const std::string& user, const std::string& epoch, uint64_t acked,
            int64_t now_ms, hub::InboxOpened& opened, std::vector<hub::InboxEvent>& events, Delta& delta);
  bool mark_sent(const std::string& device, uint64_t first, uint64_t last, int64_t now_ms,
                 std::vector<hub::InboxEvent>& events, Delta& delta);
  bool ack(const std::string& device, uint64_t upto, int64_t now_ms, std::vector<hub::InboxEvent>& events,
           Delta& delta);
  bool sweep(int64_t now_ms, std::vector<hub::InboxEvent>& events, Delta& delta);
  bool seen(const std::string& device, const std::string& user, int64_t now_ms);
  bool claim_key(const std::string& scope, const std::string& key, int64_t now_ms, hub::IdempotencyClaim& claim);
  // answer "": the claim is released.
  bool settle_key(const std::string& scope, const std::string& key, const std::string& answer);

 private:
  struct DeviceRow {
    bool found = false;
    std::string user, epoch;
    uint64_t head = 0, acked = 0, pending = 0;
  };
  bool find_device(const std::string& device, DeviceRow& row);
  // Writes the row's head, acked and pending back; false on an SQL error.
  bool write_device(const std::string& device, const DeviceRow& row);
  bool set_receipt(std::string_view id, std::string_view device, int state, int64_t now_ms);
  // Appends one copy to `device`'s inbox (its row already read); false on an SQL error.
  bool append(const std::string& device, DeviceRow& row, const hub::InboxSendRequest& request, int64_t now_ms,
              uint64_t& seq, Delta& delta);

  SqliteConnection& db_;
  const hub::InboxSettings& settings_;
  SqliteStatement find_device_, insert_device_, update_device_, touch_device_, user_devices_, insert_msg_,
      find_collapse_, delete_one_, insert_receipt_, update_receipt_, find_idempotent_, insert_idempotent_,
      unsent_range_, mark_range_, acked_rows_, delete_acked_, expired_rows_, overdue_rows_, mark_undelivered_,
      drop_receipts_, drop_idempotent_, add_pending_, read_claim_, answer_claim_, delete_claim_;
};

// The InboxStore of the SQLite store.
class SqliteInbox final : public hub::InboxStore, public WriterSweeper {
 public:
  // `post_read` runs a task on the store's reader thread (whose connection is `read_db`).
  SqliteInbox(SqliteConnection& writer_db, SqliteWriter& writer, SqliteConnection& read_db,
              std::function<void(std::function<void()>)> post_read, std::function<int64_t()> clock);
  // Prepares statements and opens the connection for /api/info; false with `why`.
  bool open(const std::string& path, std::string& why);

  void configure(const hub::InboxSettings& settings, hub::InboxEvents* events) override;
  void send(hub::InboxSendRequest request, std::function<void(hub::InboxSendResult&)> done) override;
  void open(std::string_view device, std::string_view user, std::string_view epoch, uint64_t acked,
            std::function<void(hub::InboxOpened&)> done) override;
  void read(std::string_view device, uint64_t after, uint32_t limit,
            std::function<void(hub::InboxPage&)> done) override;
  void mark_sent(std::string_view device, uint64_t first, uint64_t last) override;
  void seen(std::string_view device, std::string_view user) override;
  void ack(std::string_view device, uint64_t upto) override;
  void receipts(std::string_view id, std::function<void(hub::MessageReceipts&)> done) override;
  void claim_key(std::string_view scope, std::string_view key,
                 std::function<void(hub::IdempotencyClaim&)> done) override;
  void record_key(std::string_view scope, std::string_view key, std::string_view answer) override;
  void release_key(std::string_view scope, std::string_view key) override;
  hub::InboxDeviceSummary device_summary(std::string_view device) override;
  uint64_t devices_with_pending() override;
  hub::InboxTotals totals() const override;

  // For jobs, after their commit.
  void commit(const InboxWriter::Delta& delta, std::vector<hub::InboxEvent>& events);
  InboxWriter& writer_side() { return tables_; }

 private:
  bool sweep(int64_t now_ms) override;
  void swept(bool committed) override;
  int64_t now() const;

  // Written and read on the writer thread only (configure() is a job).
  hub::InboxSettings settings_;
  hub::InboxEvents* events_ = nullptr;
  SqliteWriter& writer_;
  InboxWriter tables_;
  SqliteConnection& read_db_;
  std::function<void(std::function<void()>)> post_read_;
  std::function<int64_t()> clock_;
  InboxCounters counters_;
  SqliteStatement read_msgs_, read_receipts_;  // reader thread
  std::mutex info_mutex_;
  SqliteConnection info_db_;
  SqliteStatement info_device_, info_with_pending_;
  // The sweep's results, committed or not (writer thread).
  std::vector<hub::InboxEvent> sweep_events_;
  InboxWriter::Delta sweep_delta_;
};

}  // namespace wshub::store
