// The SQLite store's InboxStore: each write is a WriterJob carried by the writer's next batch
// (answered after that batch's commit), reads run on the reader thread, and the receipts the
// writer produced are handed to the hub's InboxEvents once committed.
#include "store/sqlite_inbox.h"

#include <spdlog/spdlog.h>

#include "base/clock.h"

namespace wshub::store {

namespace {

const char* state_name(int64_t state) {
  switch (state) {
    case 0: return "queued";
    case 1: return "delivered";
    case 2: return "acked";
    case 3: return "expired";
    default: return "replaced";
  }
}

// A job whose writer-side work is `apply_fn` and whose answer is `finish_fn(error)`.
template <typename Apply, typename Finish>
class InboxJob final : public WriterJob {
 public:
  InboxJob(SqliteInbox& inbox, Apply apply, Finish finish)
      : inbox_(inbox), apply_(std::move(apply)), finish_(std::move(finish)) {}
  bool apply(int64_t now_ms) override {
    // A batch that is retried after a failure starts the job again from nothing.
    events_.clear();
    delta_ = {};
    return apply_(inbox_.writer_side(), now_ms, events_, delta_);
  }
  void finish(std::string_view error) override {
    if (error.empty()) inbox_.commit(delta_, events_);
    finish_(error);
  }

 private:
  SqliteInbox& inbox_;
  Apply apply_;
  Finish finish_;
  std::vector<hub::InboxEvent> events_;
  InboxWriter::Delta delta_;
};

template <typename Apply, typename Finish>
std::unique_ptr<WriterJob> make_job(SqliteInbox& inbox, Apply apply, Finish finish) {
  return std::make_unique<InboxJob<Apply, Finish>>(inbox, std::move(apply), std::move(finish));
}

}  // namespace

SqliteInbox::SqliteInbox(SqliteConnection& writer_db, SqliteWriter& writer, SqliteConnection& read_db,
                         std::function<void(std::function<void()>)> post_read, std::function<int64_t()> clock)
    : writer_(writer),
      tables_(writer_db, settings_),
      read_db_(read_db),
      post_read_(std::move(post_read)),
      clock_(std::move(clock)) {}

int64_t SqliteInbox::now() const { return clock_ ? clock_() : wall_ms(); }

bool SqliteInbox::open(const std::string& path, std::string& why) {
  if (!tables_.prepare(why)) return false;
  if (!open_reader(info_db_, path, why)) return false;
  const bool ok =
      read_msgs_.prepare(read_db_, "SELECT seq, ts, expires, id, data FROM inbox WHERE device = ?1 AND seq > ?2 "
                                   "AND (expires = 0 OR expires > ?3) ORDER BY seq LIMIT ?4") &&
      read_receipts_.prepare(read_db_, "SELECT device, state, created FROM receipts WHERE id = ?1 ORDER BY device") &&
      info_device_.prepare(info_db_, "SELECT user, epoch, head, acked, pending, last_seen FROM devices WHERE name = ?1") &&
      info_with_pending_.prepare(info_db_, "SELECT count(*) FROM devices WHERE pending > 0");
  if (!ok) {
    why = "the database " + path + " cannot be read for the inbox: " +
          (read_db_.code() ? read_db_.error() : info_db_.error());
    return false;
  }
  int64_t pending = 0;
  if (!info_db_.query_int("SELECT coalesce(sum(pending), 0) FROM devices", pending)) {
    why = "the database " + path + " cannot be read for the inbox: " + info_db_.error();
    return false;
  }
  counters_.pending.store(uint64_t(pending), std::memory_order_relaxed);
  return true;
}

void SqliteInbox::configure(const hub::InboxSettings& settings, hub::InboxEvents* events) {
  // Taken on the writer's thread, the only one that reads them (its jobs and sweeps), in order
  // before any send that follows.
  writer_.submit(make_job(
      *this,
      [this, settings, events](InboxWriter&, int64_t, std::vector<hub::InboxEvent>&, InboxWriter::Delta&) {
        settings_ = settings;
        events_ = events;
        return true;
      },
      [](std::string_view) {}));
}

void SqliteInbox::commit(const InboxWriter::Delta& delta, std::vector<hub::InboxEvent>& events) {
  counters_.pending.fetch_add(uint64_t(delta.pending), std::memory_order_relaxed);
  counters_.sends.fetch_add(delta.sends, std::memory_order_relaxed);
  counters_.delivered.fetch_add(delta.delivered, std::memory_order_relaxed);
  counters_.acked.fetch_add(delta.acked, std::memory_order_relaxed);
  counters_.expired.fetch_add(delta.expired, std::memory_order_relaxed);
  counters_.duplicates.fetch_add(delta.duplicates, std::memory_order_relaxed);
  if (events_ && !events.empty()) events_->on_inbox_events(events);
}

void SqliteInbox::send(hub::InboxSendRequest request, std::function<void(hub::InboxSendResult&)> done) {
  auto result = std::make_shared<hub::InboxSendResult>();
  writer_.submit(make_job(
      *this,
      [request = std::move(request), result](InboxWriter& tables, int64_t now_ms, std::vector<hub::InboxEvent>&,
                                             InboxWriter::Delta& delta) {
        *result = {};
        return tables.send(request, now_ms, *result, delta);
      },
      [result, done = std::move(done)](std::string_view error) {
        if (!error.empty()) {
          *result = {};
          result->status = hub::InboxSendResult::Status::failed;
          result->message = "the store could not keep the message: " + std::string(error);
        }
        done(*result);
      }));
}

void SqliteInbox::open(std::string_view device, std::string_view user, std::string_view epoch, uint64_t acked,
                       std::function<void(hub::InboxOpened&)> done) {
  auto opened = std::make_shared<hub::InboxOpened>();
  writer_.submit(make_job(
      *this,
      [device = std::string(device), user = std::string(user), epoch = std::string(epoch), acked, opened](
          InboxWriter& tables, int64_t now_ms, std::vector<hub::InboxEvent>& events, InboxWriter::Delta& delta) {
        return tables.open(device, user, epoch, acked, now_ms, *opened, events, delta);
      },
      [opened, done = std::move(done)](std::string_view error) {
        if (!error.empty()) opened->error = "the store could not open the inbox: " + std::string(error);
        done(*opened);
      }));
}

void SqliteInbox::mark_sent(std::string_view device, uint64_t first, uint64_t last) {
  writer_.submit(make_job(
      *this,
      [device = std::string(device), first, last](InboxWriter& tables, int64_t now_ms,
                                                  std::vector<hub::InboxEvent>& events, InboxWriter::Delta& delta) {
        return tables.mark_sent(device, first, last, now_ms, events, delta);
      },
      [](std::string_view) {}));  // a lost mark only delays a receipt: the next push marks again
}

void SqliteInbox::seen(std::string_view device, std::string_view user) {
  writer_.submit(make_job(
      *this,
      [device = std::string(device), user = std::string(user)](InboxWriter& tables, int64_t now_ms,
                                                               std::vector<hub::InboxEvent>&, InboxWriter::Delta&) {
        return tables.seen(device, user, now_ms);
      },
      [](std::string_view) {}));
}

void SqliteInbox::ack(std::string_view device, uint64_t upto) {
  writer_.submit(make_job(
      *this,
      [device = std::string(device), upto](InboxWriter& tables, int64_t now_ms, std::vector<hub::InboxEvent>& events,
                                           InboxWriter::Delta& delta) {
        return tables.ack(device, upto, now_ms, events, delta);
      },
      // A lost ack is repeated by the client's next connect (`acked`); meanwhile the message
      // may be pushed again, which the client's dedup by seq absorbs.
      [](std::string_view) {}));
}

void SqliteInbox::claim_key(std::string_view scope, std::string_view key,
                            std::function<void(hub::IdempotencyClaim&)> done) {
  auto claim = std::make_shared<hub::IdempotencyClaim>();
  writer_.submit(make_job(
      *this,
      [scope = std::string(scope), key = std::string(key), claim](InboxWriter& tables, int64_t now_ms,
                                                                   std::vector<hub::InboxEvent>&, InboxWriter::Delta&) {
        *claim = {};
        return tables.claim_key(scope, key, now_ms, *claim);
      },
      [claim, done = std::move(done)](std::string_view error) {
        if (!error.empty()) {
          *claim = {};
          claim->error = "the store could not check the idempotency_key: " + std::string(error);
        }
        done(*claim);
      }));
}

void SqliteInbox::record_key(std::string_view scope, std::string_view key, std::string_view answer) {
  writer_.submit(make_job(
      *this,
      [scope = std::string(scope), key = std::string(key), answer = std::string(answer)](
          InboxWriter& tables, int64_t, std::vector<hub::InboxEvent>&, InboxWriter::Delta&) {
        return tables.settle_key(scope, key, answer);
      },
      [](std::string_view) {}));  // unrecorded, the claim turns void after a minute
}

void SqliteInbox::release_key(std::string_view scope, std::string_view key) { record_key(scope, key, {}); }

void SqliteInbox::read(std::string_view device, uint64_t after, uint32_t limit,
                       std::function<void(hub::InboxPage&)> done) {
  post_read_([this, device = std::string(device), after, limit, done = std::move(done)] {
    hub::InboxPage page;
    read_msgs_.bind_text(1, device);
    read_msgs_.bind(2, int64_t(after));
    read_msgs_.bind(3, now());
    read_msgs_.bind(4, int64_t(limit));
    int rc;
    while ((rc = read_msgs_.step()) == SQLITE_ROW)
      page.messages.push_back({uint64_t(read_msgs_.column_int(0)), read_msgs_.column_int(1), read_msgs_.column_int(2),
                               std::string(read_msgs_.column_text(3)), std::string(read_msgs_.column_text(4))});
    read_msgs_.reset();
    if (rc != SQLITE_DONE) page.error = "the store could not read the inbox: " + read_db_.error();
    done(page);
  });
}

void SqliteInbox::receipts(std::string_view id, std::function<void(hub::MessageReceipts&)> done) {
  post_read_([this, id = std::string(id), done = std::move(done)] {
    hub::MessageReceipts receipts;
    read_receipts_.bind_text(1, id);
    int rc;
    while ((rc = read_receipts_.step()) == SQLITE_ROW) {
      receipts.found = true;
      receipts.states.emplace_back(std::string(read_receipts_.column_text(0)), state_name(read_receipts_.column_int(1)));
      const int64_t created = read_receipts_.column_int(2);
      if (!receipts.created_ms || created < receipts.created_ms) receipts.created_ms = created;
    }
    read_receipts_.reset();
    if (rc != SQLITE_DONE) receipts.error = "the store could not read receipts: " + read_db_.error();
    done(receipts);
  });
}

hub::InboxDeviceSummary SqliteInbox::device_summary(std::string_view device) {
  hub::InboxDeviceSummary summary;
  std::lock_guard lock(info_mutex_);
  info_device_.bind_text(1, device);
  if (info_device_.step() == SQLITE_ROW) {
    summary.found = true;
    summary.user = std::string(info_device_.column_text(0));
    summary.epoch = std::string(info_device_.column_text(1));
    summary.head = uint64_t(info_device_.column_int(2));
    summary.acked = uint64_t(info_device_.column_int(3));
    summary.pending = uint64_t(info_device_.column_int(4));
    summary.last_seen_ms = info_device_.column_int(5);
  }
  info_device_.reset();
  return summary;
}

uint64_t SqliteInbox::devices_with_pending() {
  std::lock_guard lock(info_mutex_);
  uint64_t count = 0;
  if (info_with_pending_.step() == SQLITE_ROW) count = uint64_t(info_with_pending_.column_int(0));
  info_with_pending_.reset();
  return count;
}

hub::InboxTotals SqliteInbox::totals() const {
  hub::InboxTotals t;
  t.pending = counters_.pending.load(std::memory_order_relaxed);
  t.sends = counters_.sends.load(std::memory_order_relaxed);
  t.delivered = counters_.delivered.load(std::memory_order_relaxed);
  t.acked = counters_.acked.load(std::memory_order_relaxed);
  t.expired = counters_.expired.load(std::memory_order_relaxed);
  t.duplicates = counters_.duplicates.load(std::memory_order_relaxed);
  return t;
}

bool SqliteInbox::sweep(int64_t now_ms) {
  sweep_events_.clear();
  sweep_delta_ = {};
  return tables_.sweep(now_ms, sweep_events_, sweep_delta_);
}

void SqliteInbox::swept(bool committed) {
  if (committed) commit(sweep_delta_, sweep_events_);
  sweep_events_.clear();
}

}  // namespace wshub::store
