// The inbox's tables as the writer changes them: sends (with collapse and idempotency keys),
// the open of a device's inbox at connect, delivery marks, acks, and the sweep of expired
// messages, overdue ones (inbox.undelivered), old receipts and old idempotency keys.
#include "hub/json_writer.h"
#include "store/sqlite_inbox.h"

namespace wshub::store {

namespace {

enum ReceiptState : int { kQueued = 0, kDelivered = 1, kAcked = 2, kExpired = 3, kReplaced = 4 };
constexpr int kSweepRows = 1000;  // rows of each kind one sweep handles at most
constexpr int64_t kClaimVoidMs = 60000;  // an idempotency claim left unanswered this long is void

}  // namespace

bool InboxWriter::prepare(std::string& why) {
  const bool ok =
      find_device_.prepare(db_, "SELECT user, epoch, head, acked, pending FROM devices WHERE name = ?1") &&
      insert_device_.prepare(db_, "INSERT INTO devices(name, user, epoch, head, acked, pending, last_seen) "
                                  "VALUES(?1, ?2, lower(hex(randomblob(4))), 0, 0, 0, ?3)") &&
      update_device_.prepare(db_, "UPDATE devices SET head = ?2, acked = ?3, pending = ?4 WHERE name = ?1") &&
      touch_device_.prepare(db_, "UPDATE devices SET user = ?2, last_seen = ?3 WHERE name = ?1") &&
      user_devices_.prepare(db_, "SELECT name FROM devices WHERE user = ?1 AND last_seen >= ?2 ORDER BY name LIMIT ?3") &&
      insert_msg_.prepare(db_, "INSERT INTO inbox(device, seq, id, ts, expires, collapse_key, data) "
                               "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)") &&
      find_collapse_.prepare(db_, "SELECT seq, id FROM inbox WHERE device = ?1 AND collapse_key = ?2 AND first_sent = 0") &&
      delete_one_.prepare(db_, "DELETE FROM inbox WHERE device = ?1 AND seq = ?2") &&
      insert_receipt_.prepare(db_, "INSERT OR REPLACE INTO receipts(id, device, seq, state, created, changed) "
                                   "VALUES(?1, ?2, ?3, 0, ?4, ?4)") &&
      update_receipt_.prepare(db_, "UPDATE receipts SET state = ?3, changed = ?4 WHERE id = ?1 AND device = ?2 AND state < ?3") &&
      find_idempotent_.prepare(db_, "SELECT answer FROM idempotency WHERE scope = ?1 AND key = ?2 AND expires > ?3") &&
      insert_idempotent_.prepare(db_, "INSERT OR REPLACE INTO idempotency(scope, key, answer, expires) VALUES(?1, ?2, ?3, ?4)") &&
      unsent_range_.prepare(db_, "SELECT seq, id FROM inbox WHERE device = ?1 AND seq >= ?2 AND seq <= ?3 AND first_sent = 0") &&
      mark_range_.prepare(db_, "UPDATE inbox SET first_sent = ?4 WHERE device = ?1 AND seq >= ?2 AND seq <= ?3 AND first_sent = 0") &&
      acked_rows_.prepare(db_, "SELECT seq, id FROM inbox WHERE device = ?1 AND seq <= ?2") &&
      delete_acked_.prepare(db_, "DELETE FROM inbox WHERE device = ?1 AND seq <= ?2") &&
      expired_rows_.prepare(db_, "SELECT i.device, i.seq, i.id, d.user FROM inbox i JOIN devices d ON d.name = i.device "
                                 "WHERE i.expires > 0 AND i.expires <= ?1 LIMIT " + std::to_string(kSweepRows)) &&
      overdue_rows_.prepare(db_, "SELECT i.device, i.seq, i.id, d.user FROM inbox i JOIN devices d ON d.name = i.device "
                                 "WHERE i.undelivered = 0 AND i.ts <= ?1 LIMIT " + std::to_string(kSweepRows)) &&
      mark_undelivered_.prepare(db_, "UPDATE inbox SET undelivered = 1 WHERE device = ?1 AND seq = ?2") &&
      drop_receipts_.prepare(db_, "DELETE FROM receipts WHERE state >= 2 AND changed < ?1") &&
      drop_idempotent_.prepare(db_, "DELETE FROM idempotency WHERE expires <= ?1") &&
      add_pending_.prepare(db_, "UPDATE devices SET pending = pending + ?2 WHERE name = ?1") &&
      read_claim_.prepare(db_, "SELECT answer, expires FROM idempotency WHERE scope = ?1 AND key = ?2") &&
      answer_claim_.prepare(db_, "UPDATE idempotency SET answer = ?3 WHERE scope = ?1 AND key = ?2") &&
      delete_claim_.prepare(db_, "DELETE FROM idempotency WHERE scope = ?1 AND key = ?2 AND answer = ''");
  if (!ok) why = "the inbox's statements cannot be prepared: " + db_.error();
  return ok;
}

bool InboxWriter::find_device(const std::string& device, DeviceRow& row) {
  find_device_.bind_text(1, device);
  const int rc = find_device_.step();
  row.found = rc == SQLITE_ROW;
  if (row.found) {
    row.user = std::string(find_device_.column_text(0));
    row.epoch = std::string(find_device_.column_text(1));
    row.head = uint64_t(find_device_.column_int(2));
    row.acked = uint64_t(find_device_.column_int(3));
    row.pending = uint64_t(find_device_.column_int(4));
  }
  find_device_.reset();
  return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

bool InboxWriter::write_device(const std::string& device, const DeviceRow& row) {
  update_device_.bind_text(1, device);
  update_device_.bind(2, int64_t(row.head));
  update_device_.bind(3, int64_t(row.acked));
  update_device_.bind(4, int64_t(row.pending));
  const int rc = update_device_.step();
  update_device_.reset();
  return rc == SQLITE_DONE;
}

bool InboxWriter::set_receipt(std::string_view id, std::string_view device, int state, int64_t now_ms) {
  update_receipt_.bind_text(1, id);
  update_receipt_.bind_text(2, device);
  update_receipt_.bind(3, state);
  update_receipt_.bind(4, now_ms);
  const bool ok = update_receipt_.step() == SQLITE_DONE;
  update_receipt_.reset();
  return ok;
}

bool InboxWriter::append(const std::string& device, DeviceRow& row, const hub::InboxSendRequest& request,
                         int64_t now_ms, uint64_t& seq, Delta& delta) {
  if (!request.collapse_key.empty()) {
    // A newer message replaces one with the same key that was never pushed: the older one's
    // seq is skipped (seq numbers are never reused) and its receipt says "replaced".
    std::vector<std::pair<uint64_t, std::string>> older;
    find_collapse_.bind_text(1, device);
    find_collapse_.bind_text(2, request.collapse_key);
    int rc;
    while ((rc = find_collapse_.step()) == SQLITE_ROW)
      older.emplace_back(uint64_t(find_collapse_.column_int(0)), std::string(find_collapse_.column_text(1)));
    find_collapse_.reset();
    if (rc != SQLITE_DONE) return false;
    for (const auto& [old_seq, old_id] : older) {
      delete_one_.bind_text(1, device);
      delete_one_.bind(2, int64_t(old_seq));
      rc = delete_one_.step();
      delete_one_.reset();
      if (rc != SQLITE_DONE || !set_receipt(old_id, device, kReplaced, now_ms)) return false;
      --row.pending;
      --delta.pending;
    }
  }
  seq = ++row.head;
  insert_msg_.bind_text(1, device);
  insert_msg_.bind(2, int64_t(seq));
  insert_msg_.bind_text(3, request.id);
  insert_msg_.bind(4, request.ts_ms);
  insert_msg_.bind(5, request.expires_ms);
  if (!request.collapse_key.empty()) insert_msg_.bind_text(6, request.collapse_key);  // else NULL
  insert_msg_.bind_blob(7, request.data);
  int rc = insert_msg_.step();
  insert_msg_.reset();
  if (rc != SQLITE_DONE) return false;
  insert_receipt_.bind_text(1, request.id);
  insert_receipt_.bind_text(2, device);
  insert_receipt_.bind(3, int64_t(seq));
  insert_receipt_.bind(4, now_ms);
  rc = insert_receipt_.step();
  insert_receipt_.reset();
  if (rc != SQLITE_DONE) return false;
  ++row.pending;
  ++delta.pending;
  ++delta.sends;
  return write_device(device, row);
}

bool InboxWriter::send(const hub::InboxSendRequest& request, int64_t now_ms, hub::InboxSendResult& result,
                       Delta& delta) {
  using Status = hub::InboxSendResult::Status;
  if (!request.idempotency_key.empty()) {
    find_idempotent_.bind_text(1, "send");
    find_idempotent_.bind_text(2, request.idempotency_key);
    find_idempotent_.bind(3, now_ms);
    const int rc = find_idempotent_.step();
    if (rc == SQLITE_ROW) result.answer = std::string(find_idempotent_.column_text(0));
    find_idempotent_.reset();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return false;
    if (rc == SQLITE_ROW) {
      result.status = Status::duplicate;
      ++delta.duplicates;
      return true;
    }
  }
  std::vector<std::string> targets;
  if (!request.device.empty()) {
    targets.push_back(request.device);
  } else {
    user_devices_.bind_text(1, request.user);
    user_devices_.bind(2, now_ms - int64_t(settings_.device_ttl_s) * 1000);
    user_devices_.bind(3, int64_t(settings_.max_devices_per_send));
    int rc;
    while ((rc = user_devices_.step()) == SQLITE_ROW) targets.emplace_back(user_devices_.column_text(0));
    user_devices_.reset();
    if (rc != SQLITE_DONE) return false;
    if (targets.empty()) {
      result.status = Status::no_device;
      result.message = "user '" + request.user.substr(0, 100) + "' has no device seen in the last " +
                       std::to_string(settings_.device_ttl_s) + " s (inbox.device_ttl_s): nothing was queued";
      return true;
    }
  }
  std::vector<DeviceRow> rows(targets.size());
  for (size_t i = 0; i < targets.size(); ++i) {
    if (!find_device(targets[i], rows[i])) return false;
    if (!rows[i].found) {
      // A device never connected yet: its inbox starts now and waits for it (never seen, so a
      // user's sends do not reach it).
      insert_device_.bind_text(1, targets[i]);
      insert_device_.bind_text(2, request.user);
      insert_device_.bind(3, 0);
      const int rc = insert_device_.step();
      insert_device_.reset();
      if (rc != SQLITE_DONE || !find_device(targets[i], rows[i])) return false;
    }
    // Full means nothing is queued anywhere: the caller retries the whole send.
    if (rows[i].pending >= settings_.max_pending) {
      result.status = Status::full;
      result.message = "the inbox of device '" + targets[i].substr(0, 100) + "' holds " +
                       std::to_string(rows[i].pending) + " unacknowledged messages (inbox.max_pending " +
                       std::to_string(settings_.max_pending) + "): nothing was queued";
      return true;
    }
  }
  for (size_t i = 0; i < targets.size(); ++i) {
    uint64_t seq = 0;
    if (!append(targets[i], rows[i], request, now_ms, seq, delta)) return false;
    result.copies.push_back({targets[i], seq});
  }
  hub::JsonWriter json(result.answer);
  json.begin_object().member("id", request.id);
  if (!request.device.empty()) {
    json.member("seq", result.copies.front().seq);
  } else {
    json.key("copies").begin_array();
    for (const hub::InboxCopy& copy : result.copies)
      json.begin_object().member("device", copy.device).member("seq", copy.seq).end_object();
    json.end_array();
  }
  json.end_object();
  if (!request.idempotency_key.empty()) {
    insert_idempotent_.bind_text(1, "send");
    insert_idempotent_.bind_text(2, request.idempotency_key);
    insert_idempotent_.bind_text(3, result.answer);
    insert_idempotent_.bind(4, now_ms + int64_t(settings_.idempotency_ttl_s) * 1000);
    const int rc = insert_idempotent_.step();
    insert_idempotent_.reset();
    if (rc != SQLITE_DONE) return false;
  }
  result.status = Status::stored;
  return true;
}

bool InboxWriter::open(const std::string& device, const std::string& user, const std::string& epoch, uint64_t acked,
                       int64_t now_ms, hub::InboxOpened& opened, std::vector<hub::InboxEvent>& events,
                       Delta& delta) {
  DeviceRow row;
  if (!find_device(device, row)) return false;
  if (!row.found) {
    insert_device_.bind_text(1, device);
    insert_device_.bind_text(2, user);
    insert_device_.bind(3, now_ms);
    const int rc = insert_device_.step();
    insert_device_.reset();
    if (rc != SQLITE_DONE) return false;
  } else {
    touch_device_.bind_text(1, device);
    touch_device_.bind_text(2, user);
    touch_device_.bind(3, now_ms);
    const int rc = touch_device_.step();
    touch_device_.reset();
    if (rc != SQLITE_DONE) return false;
    // The client's `acked` is an ack, in the epoch it was counted in only.
    if (epoch == row.epoch && acked > row.acked && !this->ack(device, acked, now_ms, events, delta)) return false;
  }
  if (!find_device(device, row)) return false;
  opened.epoch = row.epoch;
  opened.head = row.head;
  opened.acked = row.acked;
  opened.pending = row.pending;
  return true;
}

bool InboxWriter::seen(const std::string& device, const std::string& user, int64_t now_ms) {
  touch_device_.bind_text(1, device);
  touch_device_.bind_text(2, user);
  touch_device_.bind(3, now_ms);
  const int rc = touch_device_.step();
  touch_device_.reset();
  return rc == SQLITE_DONE;
}

bool InboxWriter::mark_sent(const std::string& device, uint64_t first, uint64_t last, int64_t now_ms,
                            std::vector<hub::InboxEvent>& events, Delta& delta) {
  DeviceRow row;
  if (!find_device(device, row)) return false;
  if (!row.found) return true;
  std::vector<std::pair<uint64_t, std::string>> rows;
  unsent_range_.bind_text(1, device);
  unsent_range_.bind(2, int64_t(first));
  unsent_range_.bind(3, int64_t(last));
  int rc;
  while ((rc = unsent_range_.step()) == SQLITE_ROW)
    rows.emplace_back(uint64_t(unsent_range_.column_int(0)), std::string(unsent_range_.column_text(1)));
  unsent_range_.reset();
  if (rc != SQLITE_DONE) return false;
  if (rows.empty()) return true;
  mark_range_.bind_text(1, device);
  mark_range_.bind(2, int64_t(first));
  mark_range_.bind(3, int64_t(last));
  mark_range_.bind(4, now_ms);
  rc = mark_range_.step();
  mark_range_.reset();
  if (rc != SQLITE_DONE) return false;
  for (auto& [seq, id] : rows) {
    if (!set_receipt(id, device, kDelivered, now_ms)) return false;
    events.push_back({hub::InboxEventType::delivered, row.user, device, std::move(id), seq});
    ++delta.delivered;
  }
  return true;
}

bool InboxWriter::ack(const std::string& device, uint64_t upto, int64_t now_ms, std::vector<hub::InboxEvent>& events,
                      Delta& delta) {
  DeviceRow row;
  if (!find_device(device, row)) return false;
  if (!row.found) return true;
  if (upto > row.head) upto = row.head;
  if (upto <= row.acked) return true;
  std::vector<std::pair<uint64_t, std::string>> rows;
  acked_rows_.bind_text(1, device);
  acked_rows_.bind(2, int64_t(upto));
  int rc;
  while ((rc = acked_rows_.step()) == SQLITE_ROW)
    rows.emplace_back(uint64_t(acked_rows_.column_int(0)), std::string(acked_rows_.column_text(1)));
  acked_rows_.reset();
  if (rc != SQLITE_DONE) return false;
  delete_acked_.bind_text(1, device);
  delete_acked_.bind(2, int64_t(upto));
  rc = delete_acked_.step();
  delete_acked_.reset();
  if (rc != SQLITE_DONE) return false;
  for (auto& [seq, id] : rows) {
    if (!set_receipt(id, device, kAcked, now_ms)) return false;
    events.push_back({hub::InboxEventType::acked, row.user, device, std::move(id), seq});
  }
  row.acked = upto;
  row.pending -= std::min<uint64_t>(row.pending, rows.size());
  delta.pending -= int64_t(rows.size());
  delta.acked += rows.size();
  return write_device(device, row);
}

bool InboxWriter::sweep(int64_t now_ms, std::vector<hub::InboxEvent>& events, Delta& delta) {
  struct Row {
    std::string device, id, user;
    uint64_t seq;
  };
  auto collect = [](SqliteStatement& statement, int64_t bound, std::vector<Row>& out) {
    statement.bind(1, bound);
    int rc;
    while ((rc = statement.step()) == SQLITE_ROW)
      out.push_back({std::string(statement.column_text(0)), std::string(statement.column_text(2)),
                     std::string(statement.column_text(3)), uint64_t(statement.column_int(1))});
    statement.reset();
    return rc == SQLITE_DONE;
  };
  std::vector<Row> rows;
  if (!collect(expired_rows_, now_ms, rows)) return false;
  for (Row& row : rows) {
    delete_one_.bind_text(1, row.device);
    delete_one_.bind(2, int64_t(row.seq));
    int rc = delete_one_.step();
    delete_one_.reset();
    if (rc != SQLITE_DONE || !set_receipt(row.id, row.device, kExpired, now_ms)) return false;
    add_pending_.bind_text(1, row.device);
    add_pending_.bind(2, -1);
    rc = add_pending_.step();
    add_pending_.reset();
    if (rc != SQLITE_DONE) return false;
    --delta.pending;
    ++delta.expired;
    events.push_back({hub::InboxEventType::expired, std::move(row.user), std::move(row.device), std::move(row.id),
                      row.seq});
  }
  if (settings_.fallback_after_s) {
    rows.clear();
    if (!collect(overdue_rows_, now_ms - int64_t(settings_.fallback_after_s) * 1000, rows)) return false;
    for (Row& row : rows) {
      mark_undelivered_.bind_text(1, row.device);
      mark_undelivered_.bind(2, int64_t(row.seq));
      const int rc = mark_undelivered_.step();
      mark_undelivered_.reset();
      if (rc != SQLITE_DONE) return false;
      events.push_back({hub::InboxEventType::undelivered, std::move(row.user), std::move(row.device),
                        std::move(row.id), row.seq});
    }
  }
  drop_receipts_.bind(1, now_ms - int64_t(settings_.receipt_retention_s) * 1000);
  int rc = drop_receipts_.step();
  drop_receipts_.reset();
  if (rc != SQLITE_DONE) return false;
  drop_idempotent_.bind(1, now_ms);
  rc = drop_idempotent_.step();
  drop_idempotent_.reset();
  return rc == SQLITE_DONE;
}

bool InboxWriter::claim_key(const std::string& scope, const std::string& key, int64_t now_ms,
                            hub::IdempotencyClaim& claim) {
  using Status = hub::IdempotencyClaim::Status;
  const int64_t ttl_ms = int64_t(settings_.idempotency_ttl_s) * 1000;
  read_claim_.bind_text(1, scope);
  read_claim_.bind_text(2, key);
  int rc = read_claim_.step();
  std::string answer;
  int64_t expires = 0;
  if (rc == SQLITE_ROW) {
    answer = std::string(read_claim_.column_text(0));
    expires = read_claim_.column_int(1);
  }
  read_claim_.reset();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return false;
  if (rc == SQLITE_ROW && expires > now_ms) {
    if (!answer.empty()) {
      claim.status = Status::answered;
      claim.answer = std::move(answer);
      return true;
    }
    // Claimed and not answered: in progress, unless the claimant died (a minute is far beyond
    // any publish).
    if (expires - ttl_ms > now_ms - kClaimVoidMs) {
      claim.status = Status::busy;
      return true;
    }
  }
  insert_idempotent_.bind_text(1, scope);
  insert_idempotent_.bind_text(2, key);
  insert_idempotent_.bind_text(3, "");
  insert_idempotent_.bind(4, now_ms + ttl_ms);
  rc = insert_idempotent_.step();
  insert_idempotent_.reset();
  if (rc != SQLITE_DONE) return false;
  claim.status = Status::fresh;
  return true;
}

bool InboxWriter::settle_key(const std::string& scope, const std::string& key, const std::string& answer) {
  SqliteStatement& statement = answer.empty() ? delete_claim_ : answer_claim_;
  statement.bind_text(1, scope);
  statement.bind_text(2, key);
  if (!answer.empty()) statement.bind_text(3, answer);
  const int rc = statement.step();
  statement.reset();
  return rc == SQLITE_DONE;
}

}  // namespace wshub::store
