// The durable per-device inbox as the hub sees it (docs/hub-protocol.md, Inbox): messages sent
// by the backend to a device (or to each device of a user), numbered by a gapless `seq` per
// device, kept until the device acknowledges them or they expire. The store layer implements
// InboxStore (the SQLite store does; the memory store has none); the hub drives delivery.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace wshub::hub {

// [inbox] in the config (docs/config.md).
struct InboxSettings {
  uint32_t window = 32;                        // msg pushes in flight unacked per connection
  uint32_t ack_timeout_s = 30;                 // an unacked msg is pushed again after this
  uint32_t default_ttl_s = 7 * 86400;          // a send without ttl expires after this
  uint32_t max_ttl_s = 30 * 86400;             // the largest ttl a send may ask
  uint32_t fallback_after_s = 300;             // inbox.undelivered this long after queueing; 0: never
  uint32_t device_ttl_s = 30 * 86400;          // a user's send reaches devices seen within this
  uint32_t max_pending = 10000;                // unacked messages per device; past it: 115
  uint32_t receipt_retention_s = 7 * 86400;    // receipts of acked or expired messages are kept this long
  uint32_t idempotency_ttl_s = 86400;          // a repeated idempotency_key is recognised this long
  uint32_t max_devices_per_send = 100;         // copies of one send to a user at most
};

// One message of a device's inbox.
struct InboxMessage {
  uint64_t seq = 0;
  int64_t ts_ms = 0;
  int64_t expires_ms = 0;  // 0: never
  std::string id;
  std::string data;        // valid JSON
};

struct InboxSendRequest {
  std::string device;  // one device; or, when empty,
  std::string user;    // every device of the user seen within device_ttl_s
  std::string id;      // made by the hub, unique
  std::string data;    // valid JSON
  int64_t ts_ms = 0;
  int64_t expires_ms = 0;
  std::string idempotency_key;  // "" when none
  std::string collapse_key;     // "" when none
};

struct InboxCopy {
  std::string device;
  uint64_t seq = 0;
};

struct InboxSendResult {
  enum class Status : uint8_t { stored, duplicate, no_device, full, failed };
  Status status = Status::failed;
  std::string answer;             // stored, duplicate: the API's answer body (JSON object)
  std::string message;            // otherwise: the sentence for the caller
  std::vector<InboxCopy> copies;  // stored: where it went (to wake those devices)
};

// What `open` found of a device's inbox once its connection counted its `acked`.
struct InboxOpened {
  std::string error;  // non-empty: the store could not open it
  std::string epoch;
  uint64_t head = 0;     // the last seq given
  uint64_t acked = 0;    // acknowledged up to
  uint64_t pending = 0;  // messages kept unacked
};

struct InboxPage {
  std::string error;
  std::vector<InboxMessage> messages;  // oldest first
};

// GET /api/messages/{id}: one state per device the message went to.
struct MessageReceipts {
  std::string error;
  bool found = false;
  int64_t created_ms = 0;
  std::vector<std::pair<std::string, std::string>> states;  // device, queued|delivered|acked|expired|replaced
};

struct InboxDeviceSummary {
  bool found = false;
  std::string user, epoch;
  uint64_t head = 0, acked = 0, pending = 0;
  int64_t last_seen_ms = 0;
};

enum class InboxEventType : uint8_t { delivered, acked, expired, undelivered };
const char* inbox_event_name(InboxEventType type);  // "inbox.delivered", ...

struct InboxEvent {
  InboxEventType type = InboxEventType::delivered;
  std::string user, device, id;
  uint64_t seq = 0;
};

// Told of receipts once they are committed, on the store's writer thread.
class InboxEvents {
 public:
  virtual ~InboxEvents() = default;
  virtual void on_inbox_events(std::vector<InboxEvent>& events) = 0;
};

// For /metrics and /api/info. Any thread.
struct InboxTotals {
  uint64_t pending = 0;    // messages kept unacked, every device (gauge)
  uint64_t sends = 0;      // messages queued (a copy per device)
  uint64_t delivered = 0;  // first pushes
  uint64_t acked = 0;
  uint64_t expired = 0;
  uint64_t duplicates = 0;  // sends answered from their idempotency key
};

// What claiming an idempotency key found (InboxStore::claim_key).
struct IdempotencyClaim {
  enum class Status : uint8_t { fresh, answered, busy, failed };
  Status status = Status::failed;
  std::string answer;  // answered: the first answer
  std::string error;   // failed: why
};

// Every call may come from any thread; completions run on one of the store's threads (the hub
// posts them to its workers). Writes share the store's group commits and are answered once
// committed as [store] durability says.
class InboxStore {
 public:
  virtual ~InboxStore() = default;
  // Before the first use.
  virtual void configure(const InboxSettings& settings, InboxEvents* events) = 0;
  virtual void send(InboxSendRequest request, std::function<void(InboxSendResult&)> done) = 0;
  // A connection of `device` (of `user`) connected: the device is seen now (made if new), and
  // when `epoch` is the inbox's, `acked` counts as an ack.
  virtual void open(std::string_view device, std::string_view user, std::string_view epoch, uint64_t acked,
                    std::function<void(InboxOpened&)> done) = 0;
  // A connection of `device` closed: it was seen until now (a user's sends reach devices seen
  // within device_ttl_s, so a device connected for longer than that still counts).
  virtual void seen(std::string_view device, std::string_view user) = 0;
  // Unexpired messages after `after`, at most `limit`.
  virtual void read(std::string_view device, uint64_t after, uint32_t limit, std::function<void(InboxPage&)> done) = 0;
  // Messages `first`..`last` were pushed (the first push of each is its delivery receipt).
  virtual void mark_sent(std::string_view device, uint64_t first, uint64_t last) = 0;
  // Everything up to `upto` is acknowledged: removed, receipts acked.
  virtual void ack(std::string_view device, uint64_t upto) = 0;
  virtual void receipts(std::string_view id, std::function<void(MessageReceipts&)> done) = 0;
  // Idempotency keys of other requests (scope "publish"): `claim_key` finds the first answer, or
  // a claim still in progress (busy; a claim left unanswered for a minute is void), or claims
  // the key for idempotency_ttl_s (fresh). The claimant then records its answer (or the store
  // does, in the request's own write) or releases the key when the request failed.
  virtual void claim_key(std::string_view scope, std::string_view key, std::function<void(IdempotencyClaim&)> done) = 0;
  virtual void record_key(std::string_view scope, std::string_view key, std::string_view answer) = 0;
  virtual void release_key(std::string_view scope, std::string_view key) = 0;
  // Synchronous reads for /api/info (a connection of their own; short).
  virtual InboxDeviceSummary device_summary(std::string_view device) = 0;
  virtual uint64_t devices_with_pending() = 0;
  virtual InboxTotals totals() const = 0;
};

}  // namespace wshub::hub
