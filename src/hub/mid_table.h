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
  // `ttl_s` 0: nothing is remembered. `max_entries`: past it the oldest entry is forgotten.
  MidTable(uint32_t ttl_s, size_t max_entries) : ttl_ms_(int64_t(ttl_s) * 1000), max_entries_(max_entries) {}

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

 private:
  struct Entry {
    bool answered = false;
    MidRecord record;
  };
  // Under mutex_: drops expired entries and, past the bound, the oldest.
  void prune_locked(int64_t now_ms);
  void insert_locked(MidRecord record, bool answered);

  const int64_t ttl_ms_;
  const size_t max_entries_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry, NameHash, NameEqual> entries_;
  // Keys in the order they were made, with the expiry they were made with (an entry whose
  // expiry differs was replaced since, and stays).
  std::deque<std::pair<int64_t, std::string>> order_;
};

}  // namespace wshub::hub
