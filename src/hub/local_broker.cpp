#include "hub/local_broker.h"

#include <array>
#include <cstring>
#include <mutex>
#include <new>
#include <string>
#include <unordered_map>

#include "hub/json_writer.h"
#include "hub/name_hash.h"
#include "net/mailbox.h"
#include "net/reactor.h"

namespace wshub::hub {

namespace {

// One delivery to one worker: the channel's name (and, for a push, the cid it leaves out) is
// stored after the object, so the item is one allocation whatever their lengths.
class DeliverItem final : public net::MailItem {
 public:
  static DeliverItem* make(PublicationSink& sink, std::string_view channel, uint64_t offset,
                           std::shared_ptr<const proto::FrameVariants> frame, bool push = false,
                           std::string_view except_cid = {}) {
    void* memory = ::operator new(sizeof(DeliverItem) + channel.size() + except_cid.size());
    return new (memory) DeliverItem(sink, channel, offset, std::move(frame), push, except_cid);
  }
  void run() override {
    const std::string_view name(text(), name_size_);
    if (push_) sink_.deliver_push(name, {text() + name_size_, cid_size_}, frame_);
    else sink_.deliver(name, offset_, frame_);
  }
  void dispose() override {
    this->~DeliverItem();
    ::operator delete(this);
  }

 private:
  DeliverItem(PublicationSink& sink, std::string_view channel, uint64_t offset,
              std::shared_ptr<const proto::FrameVariants> frame, bool push, std::string_view except_cid)
      : sink_(sink), offset_(offset), frame_(std::move(frame)), name_size_(uint32_t(channel.size())),
        cid_size_(uint32_t(except_cid.size())), push_(push) {
    std::memcpy(text(), channel.data(), channel.size());
    if (!except_cid.empty()) std::memcpy(text() + channel.size(), except_cid.data(), except_cid.size());
  }
  char* text() { return reinterpret_cast<char*>(this + 1); }

  PublicationSink& sink_;
  uint64_t offset_;
  std::shared_ptr<const proto::FrameVariants> frame_;
  uint32_t name_size_;
  uint32_t cid_size_;
  bool push_;
};

class LocalBroker;

// A publication on its way through the store: the copy of its text the store writes from, and
// what the broker needs to deliver and answer it once stored.
class DurablePublish final : public StoreAppend {
 public:
  DurablePublish(LocalBroker& broker, uint32_t from, uint32_t generation, const Publication& publication,
                 std::string_view epoch, uint64_t offset_, HistoryRetention retention_,
                 std::unique_ptr<PublishCompletion> done)
      : broker_(broker), from_(from), generation_(generation), done_(std::move(done)) {
    text_.reserve(publication.channel.size() + epoch.size() + publication.data.size() + publication.mid_key.size() +
                  publication.idempotency_key.size());
    text_.append(publication.channel)
        .append(epoch)
        .append(publication.data)
        .append(publication.mid_key)
        .append(publication.idempotency_key);
    const std::string_view text(text_);
    channel = text.substr(0, publication.channel.size());
    this->epoch = text.substr(publication.channel.size(), epoch.size());
    data = text.substr(publication.channel.size() + epoch.size(), publication.data.size());
    mid_key = text.substr(publication.channel.size() + epoch.size() + publication.data.size(), publication.mid_key.size());
    mid_expires_ms = publication.mid_expires_ms;
    idempotency_key = text.substr(text.size() - publication.idempotency_key.size());
    offset = offset_;
    ts_ms = publication.ts_ms;
    retention = retention_;
  }
  void on_stored(std::string_view error) override;

  uint32_t from() const { return from_; }
  uint32_t generation() const { return generation_; }
  std::unique_ptr<PublishCompletion> take_done() { return std::move(done_); }

 private:
  LocalBroker& broker_;
  uint32_t from_;
  uint32_t generation_;
  std::unique_ptr<PublishCompletion> done_;
  std::string text_;
};

// A publish's answer, carried to the worker it came from.
class PublishAnswer final : public net::MailItem {
 public:
  PublishAnswer(std::unique_ptr<PublishCompletion> done, PublishResult result)
      : done_(std::move(done)), result_(std::move(result)) {}
  void run() override { done_->on_published(result_); }

 private:
  std::unique_ptr<PublishCompletion> done_;
  PublishResult result_;
};

// A history page, carried from the store's reader thread to the worker that asked.
class HistoryToWorker final : public HistoryRead {
 public:
  HistoryToWorker(net::Reactor* reactor, std::function<void(HistoryPage&)> done)
      : reactor_(reactor), done_(std::move(done)) {}
  void on_history(HistoryPage page) override {
    class Item final : public net::MailItem {
     public:
      Item(std::function<void(HistoryPage&)> done, HistoryPage page) : done_(std::move(done)), page_(std::move(page)) {}
      void run() override { done_(page_); }

     private:
      std::function<void(HistoryPage&)> done_;
      HistoryPage page_;
    };
    if (reactor_) reactor_->post(new Item(std::move(done_), std::move(page)));
    else done_(page);  // no worker attached (tests of the broker alone)
  }

 private:
  net::Reactor* reactor_;
  std::function<void(HistoryPage&)> done_;
};

class LocalBroker final : public Broker {
 public:
  LocalBroker(Store& store, LocalBrokerOptions options) : store_(store), options_(options) {}

  void attach_worker(uint32_t index, net::Reactor& reactor, PublicationSink& sink) override {
    if (workers_.size() <= index) workers_.resize(index + 1);
    workers_[index] = {&reactor, &sink};
  }

  void publish(uint32_t from, const Publication& publication,
               std::unique_ptr<PublishCompletion> done) override {
    PublishResult result;
    Shard& shard = shard_of(publication.channel);
    {
      std::lock_guard lock(shard.mutex);
      Channel& channel = find_or_create(shard, publication.channel);
      if (channel.retention.max_count) {
        // Commit, then answer and deliver (stored() on the writer thread). Queued under the
        // lock, so the store receives a channel's appends in offset order.
        ++channel.in_flight;
        store_.append(std::make_unique<DurablePublish>(*this, from, channel.generation, publication,
                                                       channel.position.epoch, ++channel.assigned,
                                                       channel.retention, std::move(done)));
        return;
      }
      const uint64_t offset = ++channel.position.offset;
      channel.assigned = offset;
      result.position = channel.position;
      result.ok = true;
      if (channel.subscribers) {
        std::string& json = scratch();
        json.clear();
        append_pub_push(json, publication, offset);
        post_locked(channel, publication.channel, offset,
                    proto::FrameVariants::make(proto::Opcode::text, as_bytes(json)));
      } else {
        drop_if_idle_locked(shard, publication.channel, channel);
      }
    }
    if (done) done->on_published(result);
  }

  bool keeps_history(std::string_view channel) override {
    return options_.retention && options_.retention(channel).max_count > 0;
  }

  void read_history(uint32_t worker, std::string_view channel, uint64_t after, uint32_t limit, uint64_t max_bytes,
                    std::function<void(HistoryPage&)> done) override {
    net::Reactor* reactor = worker < workers_.size() ? workers_[worker].reactor : nullptr;
    store_.read_history(channel, after, limit, max_bytes, std::make_unique<HistoryToWorker>(reactor, std::move(done)));
  }

  ChannelPosition subscribe(uint32_t worker, std::string_view name) override {
    Shard& shard = shard_of(name);
    std::lock_guard lock(shard.mutex);
    Channel& channel = find_or_create(shard, name);
    if (channel.by_worker.size() <= worker) channel.by_worker.resize(workers_.size() > worker ? workers_.size() : worker + 1);
    ++channel.by_worker[worker];
    ++channel.subscribers;
    return channel.position;
  }

  void unsubscribe(uint32_t worker, std::string_view name) override {
    Shard& shard = shard_of(name);
    std::lock_guard lock(shard.mutex);
    auto it = shard.channels.find(name);
    if (it == shard.channels.end()) return;
    Channel& channel = it->second;
    if (worker < channel.by_worker.size() && channel.by_worker[worker]) {
      --channel.by_worker[worker];
      --channel.subscribers;
    }
    drop_if_idle_locked(shard, name, channel);
  }

  ChannelPosition position(std::string_view name) override {
    Shard& shard = shard_of(name);
    std::lock_guard lock(shard.mutex);
    ChannelPosition position = find_or_create(shard, name).position;
    return position;
  }

  void push(std::string_view name, std::string_view json, std::string_view except_cid) override {
    Shard& shard = shard_of(name);
    std::lock_guard lock(shard.mutex);
    auto it = shard.channels.find(name);
    if (it == shard.channels.end() || !it->second.subscribers) return;
    post_locked(it->second, name, 0, proto::FrameVariants::make(proto::Opcode::text, as_bytes(json)),
                /*push=*/true, except_cid);
  }

  void presence_add(std::string_view name, const PresenceEntry& entry) override {
    Shard& shard = shard_of(name);
    std::lock_guard lock(shard.mutex);
    find_or_create(shard, name).presence[entry.cid] = entry;
  }

  void presence_remove(std::string_view name, std::string_view cid) override {
    Shard& shard = shard_of(name);
    std::lock_guard lock(shard.mutex);
    auto it = shard.channels.find(name);
    if (it == shard.channels.end()) return;
    it->second.presence.erase(std::string(cid));
    drop_if_idle_locked(shard, name, it->second);
  }

  std::vector<PresenceEntry> presence(std::string_view name, size_t limit, size_t& total) override {
    std::vector<PresenceEntry> out;
    Shard& shard = shard_of(name);
    std::lock_guard lock(shard.mutex);
    total = 0;
    auto it = shard.channels.find(name);
    if (it == shard.channels.end()) return out;
    total = it->second.presence.size();
    out.reserve(std::min(limit, total));
    for (const auto& [cid, entry] : it->second.presence) {
      if (out.size() >= limit) break;
      out.push_back(entry);
    }
    return out;
  }

  uint64_t subscribers(std::string_view name) override {
    Shard& shard = shard_of(name);
    std::lock_guard lock(shard.mutex);
    auto it = shard.channels.find(name);
    return it == shard.channels.end() ? 0 : it->second.subscribers;
  }

  std::vector<ChannelSummary> channels(size_t limit) override {
    std::vector<ChannelSummary> out;
    for (Shard& shard : shards_) {
      std::lock_guard lock(shard.mutex);
      for (const auto& [name, channel] : shard.channels) {
        if (!channel.subscribers) continue;
        if (out.size() >= limit) return out;
        out.push_back({name, channel.subscribers, channel.position.offset});
      }
    }
    return out;
  }

 private:
  struct Channel {
    ChannelPosition position;            // with history: the last offset committed and delivered
    uint64_t assigned = 0;               // the last offset given out (ahead while appends run)
    uint32_t generation = 0;             // changes when a failed append takes offsets back
    uint32_t in_flight = 0;              // appends not yet reported by the store
    HistoryRetention retention;          // max_count 0: no history
    uint64_t subscribers = 0;            // on every worker
    std::vector<uint32_t> by_worker;     // subscribers per worker
    std::unordered_map<std::string, PresenceEntry> presence;
  };
  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::string, Channel, NameHash, NameEqual> channels;
  };
  struct WorkerEnd {
    net::Reactor* reactor = nullptr;
    PublicationSink* sink = nullptr;
  };
  static constexpr size_t kShards = 64;

  Shard& shard_of(std::string_view name) { return shards_[NameHash{}(name) % kShards]; }

  Channel& find_or_create(Shard& shard, std::string_view name) {
    auto it = shard.channels.find(name);
    if (it != shard.channels.end()) return it->second;
    Channel& channel = shard.channels[std::string(name)];
    if (options_.retention) channel.retention = options_.retention(name);
    // Without history a channel's offsets live in this process only: a new epoch says so.
    channel.position = channel.retention.max_count ? store_.load_position(name) : volatile_->load_position(name);
    channel.assigned = channel.position.offset;
    return channel;
  }

  void drop_if_idle_locked(Shard& shard, std::string_view name, const Channel& channel) {
    if (channel.subscribers || !channel.presence.empty() || channel.in_flight) return;
    if (shard.channels.size() <= options_.max_idle_channels / kShards + 1) return;
    shard.channels.erase(shard.channels.find(name));
  }

  // Under the shard lock: the posting order is the order workers will deliver in.
  void post_locked(const Channel& channel, std::string_view name, uint64_t offset,
                   const std::shared_ptr<const proto::FrameVariants>& frame, bool push = false,
                   std::string_view except_cid = {}) {
    if (!frame) return;  // no memory for the frame: nobody gets it (counted by the caller's absence)
    for (size_t w = 0; w < channel.by_worker.size() && w < workers_.size(); ++w) {
      if (!channel.by_worker[w] || !workers_[w].reactor) continue;
      workers_[w].reactor->post(DeliverItem::make(*workers_[w].sink, name, offset, frame, push, except_cid));
    }
  }

  friend class DurablePublish;
  // The writer thread: `publish` was committed (empty `error`) or not. Deliveries are posted in
  // the order the store reports, which is offset order per channel.
  void stored(DurablePublish& publish, std::string_view error);

  static std::string& scratch() {
    thread_local std::string buffer;
    return buffer;
  }

  Store& store_;
  const std::unique_ptr<Store> volatile_ = make_memory_store();  // epochs of channels without history
  LocalBrokerOptions options_;
  std::vector<WorkerEnd> workers_;
  std::array<Shard, kShards> shards_;
};

void LocalBroker::stored(DurablePublish& publish, std::string_view error) {
  PublishResult result;
  Shard& shard = shard_of(publish.channel);
  {
    std::lock_guard lock(shard.mutex);
    auto it = shard.channels.find(publish.channel);
    if (it != shard.channels.end()) {  // always: in_flight keeps it
      Channel& channel = it->second;
      --channel.in_flight;
      if (error.empty()) {
        if (publish.offset > channel.position.offset) channel.position.offset = publish.offset;
        result.ok = true;
        result.position = {channel.position.epoch, publish.offset};
        if (channel.subscribers) {
          std::string& json = scratch();
          json.clear();
          append_pub_push(json, Publication{publish.channel, publish.data, publish.ts_ms}, publish.offset);
          post_locked(channel, publish.channel, publish.offset,
                      proto::FrameVariants::make(proto::Opcode::text, as_bytes(json)));
        }
      } else {
        // Nothing after the last stored offset was stored: the offsets given out since are taken
        // back, so the channel goes on from its last stored one without a gap. The writer refuses
        // the other appends of this generation already queued (their offsets no longer follow).
        if (publish.generation() == channel.generation) {
          channel.assigned = channel.position.offset;
          ++channel.generation;
        }
        result.error = ErrorCode::internal;  // retryable: the store may take it again
        result.message = std::string(error);
      }
      drop_if_idle_locked(shard, publish.channel, channel);
    }
  }
  std::unique_ptr<PublishCompletion> done = publish.take_done();
  if (!done) return;
  const uint32_t from = publish.from();
  net::Reactor* reactor = from < workers_.size() ? workers_[from].reactor : nullptr;
  if (reactor) reactor->post(new PublishAnswer(std::move(done), std::move(result)));
  else done->on_published(result);  // no worker attached (tests of the broker alone)
}

void DurablePublish::on_stored(std::string_view error) { broker_.stored(*this, error); }

}  // namespace

void append_pub_push(std::string& out, const Publication& publication, uint64_t offset) {
  JsonWriter json(out);
  json.begin_object()
      .member("t", "pub")
      .member("ch", publication.channel)
      .member("off", offset)
      .raw_member("data", publication.data)
      .member("ts", publication.ts_ms)
      .end_object();
}

std::unique_ptr<Broker> make_local_broker(Store& store, LocalBrokerOptions options) {
  return std::make_unique<LocalBroker>(store, options);
}

}  // namespace wshub::hub
