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
      const uint64_t offset = ++channel.position.offset;
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
    ChannelPosition position;
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
    channel.position = store_.load_position(name);
    return channel;
  }

  void drop_if_idle_locked(Shard& shard, std::string_view name, const Channel& channel) {
    if (channel.subscribers || !channel.presence.empty()) return;
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

  static std::string& scratch() {
    thread_local std::string buffer;
    return buffer;
  }

  Store& store_;
  LocalBrokerOptions options_;
  std::vector<WorkerEnd> workers_;
  std::array<Shard, kShards> shards_;
};

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
