#include "hub/mid_table.h"

namespace wshub::hub {

namespace {

// What an entry holds in memory, roughly: its key three times (the map's, the record's and
// order_'s), its answer, and the nodes around them.
size_t cost_of(const MidRecord& record) {
  return 3 * record.key.size() + record.epoch.size() + record.data.size() + 160;
}

}  // namespace

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
    // The entry claim() made, in its place in order_: only its size changes.
    bytes_ += cost_of(record);
    bytes_ -= cost_of(it->second.record);
    it->second.answered = true;
    it->second.record = std::move(record);
    evict_locked(0);
    return;
  }
  // Pushed out while in flight (the table was full): kept again as the newest.
  insert_locked(std::move(record), true);
}

void MidTable::release(std::string_view key) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  if (it != entries_.end() && !it->second.answered) erase_locked(it);
}

void MidTable::load(std::vector<MidRecord> records) {
  std::lock_guard lock(mutex_);
  for (MidRecord& record : records) insert_locked(std::move(record), true);
}

size_t MidTable::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

size_t MidTable::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

void MidTable::erase_locked(Map::iterator it) {
  bytes_ -= cost_of(it->second.record);
  entries_.erase(it);
}

void MidTable::pop_front_locked() {
  auto it = entries_.find(order_.front().second);
  if (it != entries_.end() && it->second.record.expires_ms == order_.front().first) erase_locked(it);
  order_.pop_front();
}

void MidTable::prune_locked(int64_t now_ms) {
  // Expiry follows the order entries were made (one ttl for all), so expired ones are at the
  // front; one that is not (a record completed after it was pushed out) is still refused by
  // claim() once expired, and goes when the bound reaches it.
  while (!order_.empty() && order_.front().first <= now_ms) pop_front_locked();
}

void MidTable::evict_locked(size_t incoming_bytes) {
  // order_ is what the count bounds: it also holds the places of released keys until they come
  // to the front, so a live entry may go a little before max_entries_ others were made after it.
  while (!order_.empty() && (order_.size() >= max_entries_ + (incoming_bytes ? 0 : 1) ||
                             bytes_ + incoming_bytes > max_bytes_))
    pop_front_locked();
}

void MidTable::insert_locked(MidRecord record, bool answered) {
  if (!enabled()) return;
  const size_t cost = cost_of(record);
  evict_locked(cost);
  order_.emplace_back(record.expires_ms, record.key);
  auto [it, inserted] = entries_.try_emplace(record.key);
  if (!inserted) bytes_ -= cost_of(it->second.record);
  bytes_ += cost;
  it->second.answered = answered;
  it->second.record = std::move(record);
}

}  // namespace wshub::hub
