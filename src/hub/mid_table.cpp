#include "hub/mid_table.h"

namespace wshub::hub {

MidTable::Claim MidTable::claim(std::string_view key, int64_t now_ms, MidRecord& record) {
  std::lock_guard lock(mutex_);
  prune_locked(now_ms);
  auto it = entries_.find(key);
  if (it != entries_.end() && it->second.record.expires_ms > now_ms) {
    if (!it->second.answered) return Claim::in_flight;
    record = it->second.record;
    return Claim::answered;
  }
  MidRecord pending;
  pending.key = std::string(key);
  pending.expires_ms = now_ms + ttl_ms_;
  insert_locked(std::move(pending), false);
  return Claim::first;
}

void MidTable::complete(MidRecord record) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(record.key);
  if (it != entries_.end() && it->second.record.expires_ms == record.expires_ms) {
    // The entry claim() made: same place in order_.
    it->second.answered = true;
    it->second.record = std::move(record);
    return;
  }
  // Pushed out while in flight (the table was full): kept again as the newest.
  insert_locked(std::move(record), true);
}

void MidTable::release(std::string_view key) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  if (it != entries_.end() && !it->second.answered) entries_.erase(it);
}

void MidTable::load(std::vector<MidRecord> records) {
  std::lock_guard lock(mutex_);
  for (MidRecord& record : records) insert_locked(std::move(record), true);
}

size_t MidTable::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

void MidTable::prune_locked(int64_t now_ms) {
  // Expiry follows the order entries were made (one ttl for all), so expired ones are at the
  // front; one that is not (a record completed after it was pushed out) is still refused by
  // claim() once expired, and goes when the bound reaches it.
  while (!order_.empty() && order_.front().first <= now_ms) {
    auto it = entries_.find(order_.front().second);
    if (it != entries_.end() && it->second.record.expires_ms == order_.front().first) entries_.erase(it);
    order_.pop_front();
  }
}

void MidTable::insert_locked(MidRecord record, bool answered) {
  if (!enabled()) return;
  // order_ is what is bounded: it also holds the places of released keys until they come to
  // the front, so a live entry may go a little before max_entries_ others were made after it.
  while (order_.size() >= max_entries_) {
    auto it = entries_.find(order_.front().second);
    if (it != entries_.end() && it->second.record.expires_ms == order_.front().first) entries_.erase(it);
    order_.pop_front();
  }
  order_.emplace_back(record.expires_ms, record.key);
  Entry& entry = entries_[record.key];
  entry.answered = answered;
  entry.record = std::move(record);
}

}  // namespace wshub::hub
