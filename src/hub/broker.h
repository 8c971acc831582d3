// Where publications get their place and reach the workers. The Broker assigns each channel's
// epoch and offsets in one place, and delivers every publication, in offset order, to each
// worker that has subscribers of its channel. The in-memory LocalBroker serves one process;
// a Redis broker fills the same interface for several. The Store keeps channel state (its
// position and history) behind its own interface, which the store layer implements.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hub/codes.h"
#include "hub/inbox.h"
#include "proto/frame_variants.h"

namespace wshub::net {
class Reactor;
}

namespace wshub::hub {

// A channel's stream position: its epoch (changes when history is lost) and the offset of its
// last publication (0 before the first).
struct ChannelPosition {
  std::string epoch;
  uint64_t offset = 0;
};

// A worker's end of the fan-out. Implemented by the hub's per-worker handler.
class PublicationSink {
 public:
  // On the worker's thread: `frame` for the local subscribers of `channel`. `offset` is the
  // publication's (a subscriber that joined at or after it skips it).
  virtual void deliver(std::string_view channel, uint64_t offset,
                       const std::shared_ptr<const proto::FrameVariants>& frame) = 0;
  // A push without an offset (join, leave) for every local subscriber but the connection
  // `except_cid`, whose own presence change it reports.
  virtual void deliver_push(std::string_view channel, std::string_view except_cid,
                            const std::shared_ptr<const proto::FrameVariants>& frame) = 0;

 protected:
  ~PublicationSink() = default;
};

struct PublishResult {
  ErrorCode error = ErrorCode::internal;
  bool ok = false;
  std::string message;  // for an error: what went wrong, for the client or the API caller
  ChannelPosition position;
};

// Runs on the publishing worker's thread once the publication is placed (and, with a durable
// store, stored), or failed.
class PublishCompletion {
 public:
  virtual ~PublishCompletion() = default;
  virtual void on_published(const PublishResult& result) = 0;
};

struct Publication {
  std::string_view channel;
  std::string_view data;  // valid JSON
  int64_t ts_ms = 0;      // when the hub took it (ms since the epoch)
  // Non-empty: the client's message id as MidTable keys it. A channel with history stores it
  // with the publication, in the same commit (so a stored publication's mid is never lost);
  // it is forgotten at `mid_expires_ms` (wall clock).
  std::string_view mid_key = {};
  int64_t mid_expires_ms = 0;
  // The API's idempotency_key, claimed beforehand (InboxStore::claim_key): a store that keeps the
  // publication records its answer in the publication's own transaction. "" when none.
  std::string_view idempotency_key = {};
};

// A client's message id remembered for deduplication (hub/mid_table.h): `key` names the sender,
// the kind of request and the mid. A publish keeps where its publication was placed, an rpc the
// `data` the backend answered.
struct MidRecord {
  std::string key;
  int64_t expires_ms = 0;  // wall clock
  std::string epoch;       // publish
  uint64_t offset = 0;     // publish
  std::string data;        // rpc: raw JSON
};

// One entry of a channel's presence: the connection and what it shows of itself.
struct PresenceEntry {
  std::string cid;
  std::string user;
  std::string device;
  std::string info_json;  // "" when none
};

// How much of a namespace's history the store keeps: the last `max_count` publications of each
// channel, at most `max_bytes` of their data, none older than `ttl_s` (0: no age limit).
struct HistoryRetention {
  uint32_t max_count = 0;
  uint64_t max_bytes = 0;
  uint32_t ttl_s = 0;
};

// One publication as history keeps it.
struct StoredPublication {
  uint64_t offset = 0;
  int64_t ts_ms = 0;
  std::string data;  // valid JSON
};

// A publication to store, made by the broker (which owns the text the views point into). The
// store calls `on_stored` once, on its writer thread, in the order of `Store::append` calls:
// with an empty `error` once the publication is committed as the mode promises (on disk with
// durability "sync", in the OS with "fast"), or with the reason it could not be.
class StoreAppend {
 public:
  virtual ~StoreAppend() = default;
  virtual void on_stored(std::string_view error) = 0;

  std::string_view channel;
  std::string_view epoch;  // the channel's epoch the offset belongs to
  uint64_t offset = 0;     // exactly one more than the channel's last stored offset
  int64_t ts_ms = 0;
  std::string_view data;
  HistoryRetention retention;
  // Non-empty: stored with the publication in its commit, as MidRecord{mid_key,
  // mid_expires_ms, epoch, offset}.
  std::string_view mid_key = {};
  int64_t mid_expires_ms = 0;
  // Non-empty: the claimed key of scope "publish" whose answer ({"epoch","offset"}) is written
  // in the same transaction as the publication.
  std::string_view idempotency_key = {};
};

// What a history read found. `stored` is the channel's stored position ("" epoch when the store
// has never seen the channel); `pubs` the publications after the asked offset, oldest first.
struct HistoryPage {
  std::string error;  // non-empty: the read failed (what went wrong)
  ChannelPosition stored;
  uint64_t first_kept = 0;  // the oldest publication still kept; 0: none is kept
  std::vector<StoredPublication> pubs;
};

class HistoryRead {
 public:
  virtual ~HistoryRead() = default;
  // On one of the store's reader threads, never the writer's.
  virtual void on_history(HistoryPage page) = 0;
};

// What a store has done, for /metrics. Any thread.
struct StoreCounters {
  uint64_t appends = 0;       // publications committed
  uint64_t append_errors = 0; // publications refused (storage errors)
  uint64_t commits = 0;       // transactions (group commit: many appends each)
  uint64_t syncs = 0;         // fsyncs asked of the OS by commits and checkpoints
  uint64_t trimmed = 0;       // publications removed by retention
  uint64_t reads = 0;         // history reads
  uint64_t file_bytes = 0;    // the database's size (main file and WAL) at the last look
};

// Channel state that outlives a process: positions and history, kept by SQLite (embedded) or,
// later, Redis. Any thread may call it; calls for one channel come from its broker in order.
class Store {
 public:
  virtual ~Store() = default;
  // False for a store that keeps nothing: the broker then places every publication at once.
  virtual bool keeps_history() const = 0;
  // The stored position of a channel seen for the first time in this process: its epoch and
  // last offset, or the epoch a first publication will be stored under and 0.
  virtual ChannelPosition load_position(std::string_view channel) = 0;
  // Queues `append`; its on_stored says when it is committed. Appends share commits.
  virtual void append(std::unique_ptr<StoreAppend> append) = 0;
  // The publications of `channel` after `after`, at most `limit` of them and, past the first,
  // at most `max_bytes` of data; `done` runs on a reader thread.
  virtual void read_history(std::string_view channel, uint64_t after, uint32_t limit, uint64_t max_bytes,
                            std::unique_ptr<HistoryRead> done) = 0;
  virtual StoreCounters counters() const { return {}; }
  // Message ids for deduplication. `remember_mid` keeps one that came with no publication (an
  // rpc's answer), committed with the next appends or on its own; `load_mids` gives the records
  // not expired at `now_ms`, the newest `limit` of them, oldest first. A store that keeps
  // nothing keeps no mids either.
  virtual void remember_mid(MidRecord record) { (void)record; }
  virtual std::vector<MidRecord> load_mids(int64_t now_ms, size_t limit) {
    (void)now_ms;
    (void)limit;
    return {};
  }
  // The device inbox this store keeps, or null (the memory store keeps none: sends get 501).
  virtual InboxStore* inbox() { return nullptr; }
  // Commits what is queued and stops the writer: appends after this fail. Idempotent.
  virtual void close() {}
};

class Broker {
 public:
  virtual ~Broker() = default;

  // Before any worker runs, once per worker.
  virtual void attach_worker(uint32_t index, net::Reactor& reactor, PublicationSink& sink) = 0;

  // Any worker thread. Places the publication, delivers it to every subscribed worker (the
  // publisher's own included, through its mailbox like the others, so every worker sees one
  // order) and then calls `done` on worker `from`.
  virtual void publish(uint32_t from, const Publication& publication,
                       std::unique_ptr<PublishCompletion> done) = 0;

  // Whether `channel` keeps history (its namespace has history and the store keeps it).
  virtual bool keeps_history(std::string_view channel) = 0;
  // The channel's history after `after` (see Store::read_history); `done` runs on worker
  // `worker`'s thread.
  virtual void read_history(uint32_t worker, std::string_view channel, uint64_t after, uint32_t limit,
                            uint64_t max_bytes, std::function<void(HistoryPage&)> done) = 0;

  // Worker `worker` receives the channel's publications from now on, and knows it was told
  // of none after the returned position (a later one is delivered to it). With history, every
  // publication up to the returned offset is committed, so a history read started after this
  // call finds them all.
  virtual ChannelPosition subscribe(uint32_t worker, std::string_view channel) = 0;
  // The worker's last local subscriber of the channel left.
  virtual void unsubscribe(uint32_t worker, std::string_view channel) = 0;
  // The channel's current position, creating its state if need be.
  virtual ChannelPosition position(std::string_view channel) = 0;

  // A push without an offset (join, leave) to every subscribed worker, in order with the
  // channel's publications, for every subscriber but the connection `except_cid` (the one
  // whose presence it reports). `json` is the whole push.
  virtual void push(std::string_view channel, std::string_view json, std::string_view except_cid) = 0;

  // Presence: who is subscribed, on every worker.
  virtual void presence_add(std::string_view channel, const PresenceEntry& entry) = 0;
  virtual void presence_remove(std::string_view channel, std::string_view cid) = 0;
  // At most `limit` entries; `total` says how many there are.
  virtual std::vector<PresenceEntry> presence(std::string_view channel, size_t limit,
                                              size_t& total) = 0;

  // Channels with at least one subscriber, up to `limit`, with their subscriber counts.
  struct ChannelSummary {
    std::string name;
    uint64_t subscribers = 0;
    uint64_t offset = 0;
  };
  virtual std::vector<ChannelSummary> channels(size_t limit) = 0;
  // How many subscribe to `channel` now, on every worker (0 for a channel never seen): the
  // admin statistics are published only while someone watches. The default walks `channels`;
  // a broker that can look one channel up overrides it.
  virtual uint64_t subscribers(std::string_view channel) {
    for (const ChannelSummary& summary : channels(SIZE_MAX))
      if (summary.name == channel) return summary.subscribers;
    return 0;
  }
};

// Keeps nothing: every channel starts a new epoch at 0 when the process first sees it.
std::unique_ptr<Store> make_memory_store();

}  // namespace wshub::hub
