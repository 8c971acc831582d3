// LocalBroker with the memory store: offsets, delivery to subscribed workers in offset order (also
// while several threads publish to one channel and workers subscribe midway), pushes in order
// with publications, subscriber counts, presence, the channel listing and the bound on idle
// channel state. Each worker is a reactor whose mailbox its own thread drains.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "hub/local_broker.h"
#include "hub_fakes.h"

namespace wshub::hub {
namespace {

using testing::FakeReactor;

// What one worker was given, in order.
class RecordingSink final : public PublicationSink {
 public:
  struct Delivery {
    std::string channel;
    uint64_t offset;  // 0 for a push
    std::string text;
    std::string except_cid;  // a push's
  };
  void deliver(std::string_view channel, uint64_t offset,
               const std::shared_ptr<const proto::FrameVariants>& frame) override {
    EXPECT_EQ(frame->opcode(), proto::Opcode::text);
    seen.push_back({std::string(channel), offset, std::string(as_text(frame->payload())), {}});
  }
  void deliver_push(std::string_view channel, std::string_view except_cid,
                    const std::shared_ptr<const proto::FrameVariants>& frame) override {
    seen.push_back({std::string(channel), 0, std::string(as_text(frame->payload())), std::string(except_cid)});
  }
  std::vector<Delivery> seen;
};

struct Worker {
  FakeReactor reactor;
  RecordingSink sink;
};

class BrokerTest : public ::testing::Test {
 protected:
  explicit BrokerTest(size_t workers = 3, LocalBrokerOptions options = {})
      : store_(make_memory_store()), broker_(make_local_broker(*store_, options)) {
    for (size_t i = 0; i < workers; ++i) {
      workers_.push_back(std::make_unique<Worker>());
      broker_->attach_worker(uint32_t(i), workers_.back()->reactor, workers_.back()->sink);
    }
  }

  PublishResult publish(std::string_view channel, std::string_view data, uint32_t from = 0) {
    struct Capture final : PublishCompletion {
      explicit Capture(PublishResult& out) : out_(out) {}
      void on_published(const PublishResult& result) override { out_ = result; }
      PublishResult& out_;
    };
    PublishResult result;
    broker_->publish(from, Publication{channel, data, 1234}, std::make_unique<Capture>(result));
    return result;
  }
  std::vector<RecordingSink::Delivery> drained(size_t worker) {
    workers_[worker]->reactor.drain();
    auto seen = std::move(workers_[worker]->sink.seen);
    workers_[worker]->sink.seen.clear();
    return seen;
  }

  std::unique_ptr<Store> store_;
  std::unique_ptr<Broker> broker_;
  std::vector<std::unique_ptr<Worker>> workers_;
};

TEST_F(BrokerTest, OffsetsGrowByOnePerPublish) {
  ChannelPosition first = broker_->position("news");
  EXPECT_EQ(first.offset, 0u);
  EXPECT_EQ(first.epoch.size(), 8u);
  for (uint64_t i = 1; i <= 5; ++i) {
    PublishResult result = publish("news", R"({"n":1})");
    ASSERT_TRUE(result.ok);
    EXPECT_EQ(result.position.offset, i);
    EXPECT_EQ(result.position.epoch, first.epoch);
  }
  EXPECT_EQ(broker_->position("news").offset, 5u);
  // Channels count separately and get their own epochs.
  EXPECT_EQ(publish("other", "1").position.offset, 1u);
  EXPECT_NE(broker_->position("other").epoch, first.epoch);
}

TEST_F(BrokerTest, DeliversThePubPushToSubscribedWorkersOnly) {
  EXPECT_EQ(broker_->subscribe(1, "news").offset, 0u);
  EXPECT_EQ(broker_->subscribe(2, "news").offset, 0u);
  publish("news", R"({"title":"hi"})");
  EXPECT_TRUE(drained(0).empty());
  for (size_t w : {1, 2}) {
    auto seen = drained(w);
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].channel, "news");
    EXPECT_EQ(seen[0].offset, 1u);
    EXPECT_EQ(seen[0].text, R"({"t":"pub","ch":"news","off":1,"data":{"title":"hi"},"ts":1234})");
  }
  broker_->unsubscribe(1, "news");
  publish("news", "2");
  EXPECT_TRUE(drained(1).empty());
  ASSERT_EQ(drained(2).size(), 1u);
}

TEST_F(BrokerTest, SubscribeReturnsThePositionItWasToldNothingAfter) {
  publish("c", "1");
  publish("c", "2");
  ChannelPosition position = broker_->subscribe(0, "c");
  EXPECT_EQ(position.offset, 2u);
  publish("c", "3");
  auto seen = drained(0);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].offset, 3u);
}

TEST_F(BrokerTest, SubscriberCountsPerWorker) {
  broker_->subscribe(0, "c");
  broker_->subscribe(0, "c");
  broker_->subscribe(1, "c");
  auto listed = broker_->channels(10);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].name, "c");
  EXPECT_EQ(listed[0].subscribers, 3u);
  broker_->unsubscribe(0, "c");
  publish("c", "1");
  EXPECT_EQ(drained(0).size(), 1u);  // one local subscriber is left
  broker_->unsubscribe(0, "c");
  // More unsubscribes than subscribes are ignored, not counted below zero.
  broker_->unsubscribe(0, "c");
  broker_->unsubscribe(2, "c");
  broker_->unsubscribe(7, "never");
  listed = broker_->channels(10);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].subscribers, 1u);
  EXPECT_EQ(listed[0].offset, 1u);
  publish("c", "2");
  EXPECT_TRUE(drained(0).empty());
  EXPECT_EQ(drained(1).size(), 2u);  // both publications
  broker_->unsubscribe(1, "c");
  EXPECT_TRUE(broker_->channels(10).empty());
}

TEST_F(BrokerTest, PushesKeepTheirPlaceAmongPublications) {
  broker_->subscribe(0, "room");
  publish("room", "1");
  broker_->push("room", R"({"t":"join","ch":"room"})", "0-7");
  publish("room", "2");
  broker_->push("nobody-here", R"({"t":"join"})", "0-8");
  auto seen = drained(0);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].offset, 1u);
  EXPECT_EQ(seen[1].offset, 0u);
  EXPECT_EQ(seen[1].text, R"({"t":"join","ch":"room"})");
  EXPECT_EQ(seen[1].except_cid, "0-7");
  EXPECT_EQ(seen[2].offset, 2u);
}

TEST_F(BrokerTest, Presence) {
  for (int i = 0; i < 5; ++i)
    broker_->presence_add("room", {"c" + std::to_string(i), "u" + std::to_string(i), "", i == 2 ? R"({"a":1})" : ""});
  // Adding the same cid again replaces it.
  broker_->presence_add("room", {"c1", "renamed", "d", ""});
  size_t total = 0;
  auto all = broker_->presence("room", 100, total);
  EXPECT_EQ(total, 5u);
  ASSERT_EQ(all.size(), 5u);
  bool saw_renamed = false, saw_info = false;
  for (const PresenceEntry& entry : all) {
    if (entry.cid == "c1") saw_renamed = entry.user == "renamed" && entry.device == "d";
    if (entry.cid == "c2") saw_info = entry.info_json == R"({"a":1})";
  }
  EXPECT_TRUE(saw_renamed);
  EXPECT_TRUE(saw_info);
  auto some = broker_->presence("room", 2, total);
  EXPECT_EQ(some.size(), 2u);
  EXPECT_EQ(total, 5u);
  EXPECT_TRUE(broker_->presence("room", 0, total).empty());
  broker_->presence_remove("room", "c3");
  broker_->presence_remove("room", "absent");
  broker_->presence_remove("no-such-room", "c1");
  broker_->presence("room", 100, total);
  EXPECT_EQ(total, 4u);
  EXPECT_TRUE(broker_->presence("no-such-room", 100, total).empty());
  EXPECT_EQ(total, 0u);
}

TEST_F(BrokerTest, ChannelsListsSubscribedOnesUpToTheLimit) {
  for (int i = 0; i < 10; ++i) broker_->subscribe(uint32_t(i % 3), "ch" + std::to_string(i));
  publish("idle", "1");
  EXPECT_EQ(broker_->channels(100).size(), 10u);
  EXPECT_EQ(broker_->channels(4).size(), 4u);
  EXPECT_TRUE(broker_->channels(0).empty());
  for (const auto& summary : broker_->channels(100)) EXPECT_NE(summary.name, "idle");
}

TEST_F(BrokerTest, APublishWithoutCompletionIsPlacedAllTheSame) {
  broker_->subscribe(0, "c");
  broker_->publish(1, Publication{"c", "true", 5}, nullptr);
  auto seen = drained(0);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].text, R"({"t":"pub","ch":"c","off":1,"data":true,"ts":5})");
}

TEST(PubPush, EscapesTheChannelAndKeepsDataRaw) {
  std::string out;
  append_pub_push(out, Publication{"a\"b", R"( {"x" : 1} )", -1}, 18446744073709551615u);
  EXPECT_EQ(out, R"({"t":"pub","ch":"a\"b","off":18446744073709551615,"data": {"x" : 1} ,"ts":-1})");
}

// Several threads publish to one channel while workers, each on its own thread, subscribe at some
// point and drain their mailboxes: each sees every offset after its subscribe position, once, in
// order, each in a pub push that carries the same offset.
TEST(BrokerThreads, EveryWorkerSeesAGaplessIncreasingStream) {
  constexpr int kPublishers = 3;
  constexpr int kEach = 4000;
  constexpr uint64_t kTotal = uint64_t(kPublishers) * kEach;
  constexpr int kWorkers = 4;
  auto store = make_memory_store();
  auto broker = make_local_broker(*store);

  struct CheckingSink final : PublicationSink {
    void deliver_push(std::string_view, std::string_view, const std::shared_ptr<const proto::FrameVariants>&) override {
      ++wrong;  // nobody pushes here
    }
    void deliver(std::string_view channel, uint64_t offset,
                 const std::shared_ptr<const proto::FrameVariants>& frame) override {
      if (channel != "busy" || offset == 0) {
        ++wrong;
        return;
      }
      if (offset != last + 1) ++wrong;
      last = offset;
      ++count;
      simdjson::dom::parser parser;
      uint64_t off = 0;
      if (parser.parse(as_text(frame->payload())).at_key("off").get(off) || off != offset) ++wrong;
    }
    uint64_t last = 0;
    uint64_t count = 0;
    uint64_t wrong = 0;
  };
  struct ThreadWorker {
    FakeReactor reactor;
    CheckingSink sink;
    uint64_t subscribed_at = 0;
  };
  std::vector<std::unique_ptr<ThreadWorker>> workers;
  for (int i = 0; i < kWorkers; ++i) {
    workers.push_back(std::make_unique<ThreadWorker>());
    broker->attach_worker(uint32_t(i), workers.back()->reactor, workers.back()->sink);
  }

  EXPECT_EQ(broker->subscribe(0, "busy").offset, 0u);
  std::atomic<uint64_t> published{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWorkers; ++w) {
    threads.emplace_back([&, w] {
      ThreadWorker& self = *workers[size_t(w)];
      // Worker w subscribes once about w/kWorkers of the way through (worker 0 before any).
      if (w > 0) {
        while (published.load() < kTotal * uint64_t(w) / kWorkers) std::this_thread::yield();
        self.subscribed_at = broker->subscribe(uint32_t(w), "busy").offset;
        self.sink.last = self.subscribed_at;
      }
      while (self.sink.last < kTotal && self.sink.wrong == 0) {
        if (!self.reactor.drain()) std::this_thread::yield();
      }
    });
  }
  for (int p = 0; p < kPublishers; ++p) {
    threads.emplace_back([&, p] {
      std::string data;
      for (int i = 0; i < kEach; ++i) {
        data = "[" + std::to_string(p) + "," + std::to_string(i) + "]";
        broker->publish(uint32_t(p % kWorkers), Publication{"busy", data, 0}, nullptr);
        published.fetch_add(1);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(broker->position("busy").offset, kTotal);
  for (int w = 0; w < kWorkers; ++w) {
    const ThreadWorker& self = *workers[size_t(w)];
    EXPECT_EQ(self.sink.wrong, 0u) << "worker " << w;
    EXPECT_EQ(self.sink.last, kTotal) << "worker " << w;
    EXPECT_EQ(self.sink.count, kTotal - self.subscribed_at) << "worker " << w;
  }
}

// Idle channels keep their offsets up to max_idle_channels (spread over 64 shards); past that an
// idle channel's state is dropped and it starts a new epoch at 0. A subscribed channel is never
// dropped, however many idle ones come and go.
TEST(BrokerIdle, StateOfIdleChannelsIsBounded) {
  auto store = make_memory_store();
  LocalBrokerOptions options;
  options.max_idle_channels = 64 * 3;
  auto broker = make_local_broker(*store, options);
  FakeReactor reactor;
  RecordingSink sink;
  broker->attach_worker(0, reactor, sink);

  broker->subscribe(0, "kept");
  const ChannelPosition kept = broker->position("kept");
  struct Capture final : PublishCompletion {
    explicit Capture(std::string& epoch) : epoch_(epoch) {}
    void on_published(const PublishResult& result) override { epoch_ = result.position.epoch; }
    std::string& epoch_;
  };
  constexpr int kChannels = 5000;
  std::vector<std::string> epochs(kChannels);
  for (int i = 0; i < kChannels; ++i)
    broker->publish(0, Publication{"idle-" + std::to_string(i), "1", 0}, std::make_unique<Capture>(epochs[size_t(i)]));
  broker->publish(0, Publication{"kept", "1", 0}, nullptr);

  size_t retained = 0;
  for (int i = 0; i < kChannels; ++i) {
    const ChannelPosition now = broker->position("idle-" + std::to_string(i));
    if (now.offset == 1) {
      EXPECT_EQ(now.epoch, epochs[size_t(i)]);
      ++retained;
    } else {
      EXPECT_EQ(now.offset, 0u);
      EXPECT_NE(now.epoch, epochs[size_t(i)]);
    }
  }
  EXPECT_GT(retained, 0u);
  EXPECT_LE(retained, size_t(64 * (3 + 1)));
  const ChannelPosition after = broker->position("kept");
  EXPECT_EQ(after.epoch, kept.epoch);
  EXPECT_EQ(after.offset, 1u);
}

TEST(BrokerIdle, UnderTheBoundIdleChannelsKeepTheirOffsets) {
  auto store = make_memory_store();
  auto broker = make_local_broker(*store);
  for (int i = 0; i < 200; ++i) broker->publish(0, Publication{"c" + std::to_string(i), "1", 0}, nullptr);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(broker->position("c" + std::to_string(i)).offset, 1u);
  // And a channel whose last subscriber left keeps counting from where it was.
  FakeReactor reactor;
  RecordingSink sink;
  broker->attach_worker(0, reactor, sink);
  broker->subscribe(0, "c7");
  broker->unsubscribe(0, "c7");
  broker->publish(0, Publication{"c7", "2", 0}, nullptr);
  EXPECT_EQ(broker->position("c7").offset, 2u);
}

TEST(MemoryStore, EveryChannelStartsANewRandomEpochAtZero) {
  auto a = make_memory_store();
  auto b = make_memory_store();
  ChannelPosition first = a->load_position("x");
  ChannelPosition second = a->load_position("x");
  ChannelPosition other = b->load_position("x");
  EXPECT_EQ(first.offset, 0u);
  EXPECT_EQ(first.epoch.size(), 8u);
  EXPECT_EQ(first.epoch.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(first.epoch, second.epoch);
  EXPECT_NE(first.epoch, other.epoch);
}

}  // namespace
}  // namespace wshub::hub
