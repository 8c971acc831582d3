// The message ids (`mid`) clients sent with publish and rpc in the last mid_ttl_s, and what the
// first request of each got: a repeat is answered from here with `dup: true` and reaches neither
// the broker nor the backend (docs/hub-protocol.md, Deduplication). One table for every worker
// (a user's connections may be on several), bounded, expiring in the order entries were made.
// A durable store keeps the records too (Store::load_mids fills the table at start).
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "hub/broker.h"
#include "hub/name_hash.h"

namespace wshub::hub {

class MidTable {
 public:
  // `ttl_s` 0: nothing is remembered. Past `max_entries` entries or about `max_bytes` of
  // memory (rpc answers can be large) the oldest entries are forgotten.
  MidTable(uint32_t ttl_s, size_t max_entries, size_t max_bytes)
      : ttl_ms_(int64_t(ttl_s) * 1000), max_entries_(max_entries), max_bytes_(max_bytes) {}

  enum class Claim : uint8_t {
    first,      // not seen: marked in flight; complete() or release() must follow
    in_flight,  // the first request with this key has no answer yet
    answered,   // seen: `record` holds the first answer
  };
  bool enabled() const { return ttl_ms_ > 0 && max_entries_ > 0; }
  int64_t expiry_for(int64_t now_ms) const { return now_ms + ttl_ms_; }
  // Looks `key` up at wall time `now_ms`. Any thread.
  Claim claim(std::string_view key, int64_t now_ms, MidRecord& record);
  // The first request's answer: later claims of `record.key` get it until record.expires_ms.
  void complete(MidRecord record);
  // The first request failed: the key is forgotten, so a retry runs again.
  void release(std::string_view key);
  // Records kept by a durable store, oldest first (at start, before any claim).
  void load(std::vector<MidRecord> records);
  size_t size() const;
  size_t bytes() const;  // what the entries cost, as the max_bytes bound counts it

 private:
  struct Entry {
    bool answered = false;
    MidRecord record;
  };
  using Map = std::unordered_map<std::string, Entry, NameHash, NameEqual>;
  // Under mutex_.
  void prune_locked(int64_t now_ms);  // drops the expired entries at the front
  // Drops the oldest entries until one of `incoming_bytes` fits both bounds (0: until the
  // entries present fit them).
  void evict_locked(size_t incoming_bytes);
  void pop_front_locked();
  void erase_locked(Map::iterator it);
  void insert_locked(MidRecord record, bool answered);

  const int64_t ttl_ms_;
  const size_t max_entries_;
  const size_t max_bytes_;
  mutable std::mutex mutex_;
  Map entries_;
  size_t bytes_ = 0;
  // Keys in the order they were made, with the expiry they were made with (an entry whose
  // expiry differs was replaced since, and stays).
  std::deque<std::pair<int64_t, std::string>> order_;
};

}  // namespace wshub::hub
