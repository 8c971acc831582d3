// LocalBroker with a store that keeps history, driven by a fake store whose appends the test
// reports stored or failed: commit-then-deliver (no answer and no delivery before the store
// reports), offsets taken back after a failure (no gap), and subscribe positions that never
// run ahead of what is stored.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hub/local_broker.h"
#include "hub_fakes.h"

namespace wshub::hub {
namespace {

using testing::FakeReactor;

class QueueingStore final : public Store {
 public:
  bool keeps_history() const override { return true; }
  ChannelPosition load_position(std::string_view) override { return {"stored", 7}; }
  void append(std::unique_ptr<StoreAppend> append) override { queued.push_back(std::move(append)); }
  void read_history(std::string_view, uint64_t, uint32_t, uint64_t, std::unique_ptr<HistoryRead>) override {}

  // Reports the oldest queued append.
  void report(std::string_view error = {}) {
    ASSERT_FALSE(queued.empty());
    std::unique_ptr<StoreAppend> item = std::move(queued.front());
    queued.erase(queued.begin());
    item->on_stored(error);
  }
  std::vector<std::unique_ptr<StoreAppend>> queued;
};

class CountingSink final : public PublicationSink {
 public:
  void deliver(std::string_view, uint64_t offset, const std::shared_ptr<const proto::FrameVariants>&) override {
    offsets.push_back(offset);
  }
  void deliver_push(std::string_view, std::string_view, const std::shared_ptr<const proto::FrameVariants>&) override {}
  std::vector<uint64_t> offsets;
};

class DurableBrokerTest : public ::testing::Test {
 protected:
  DurableBrokerTest() {
    LocalBrokerOptions options;
    options.retention = [](std::string_view channel) {
      return channel.substr(0, 2) == "h:" ? HistoryRetention{100, 0, 0} : HistoryRetention{};
    };
    broker_ = make_local_broker(store_, options);
    for (int i = 0; i < 2; ++i) broker_->attach_worker(uint32_t(i), reactors_[i], sinks_[i]);
  }

  // Publishes from worker 0; the result lands in `results_[index]` once worker 0 drains.
  size_t publish(std::string_view channel) {
    struct Capture final : PublishCompletion {
      Capture(std::vector<std::optional<PublishResult>>& all, size_t index) : all_(all), index_(index) {}
      void on_published(const PublishResult& result) override { all_[index_] = result; }
      std::vector<std::optional<PublishResult>>& all_;
      size_t index_;
    };
    results_.emplace_back();
    broker_->publish(0, Publication{channel, "{}", 1}, std::make_unique<Capture>(results_, results_.size() - 1));
    return results_.size() - 1;
  }
  void drain() {
    for (FakeReactor& reactor : reactors_) reactor.drain();
  }

  QueueingStore store_;
  std::unique_ptr<Broker> broker_;
  FakeReactor reactors_[2];
  CountingSink sinks_[2];
  std::vector<std::optional<PublishResult>> results_;
};

TEST_F(DurableBrokerTest, NothingIsAnsweredOrDeliveredBeforeTheStoreReports) {
  EXPECT_EQ(broker_->subscribe(1, "h:c").offset, 7u) << "the stored position";
  const size_t first = publish("h:c");
  drain();
  EXPECT_FALSE(results_[first]);
  EXPECT_TRUE(sinks_[1].offsets.empty());
  ASSERT_EQ(store_.queued.size(), 1u);
  EXPECT_EQ(store_.queued[0]->offset, 8u);
  EXPECT_EQ(store_.queued[0]->epoch, "stored");
  EXPECT_EQ(store_.queued[0]->retention.max_count, 100u);
  store_.report();
  drain();
  ASSERT_TRUE(results_[first]);
  EXPECT_TRUE(results_[first]->ok);
  EXPECT_EQ(results_[first]->position.offset, 8u);
  EXPECT_EQ(sinks_[1].offsets, (std::vector<uint64_t>{8}));
}

TEST_F(DurableBrokerTest, AFailedAppendIsAnsweredWithAnErrorDeliveredToNobodyAndItsOffsetReused) {
  broker_->subscribe(1, "h:c");
  const size_t a = publish("h:c"), b = publish("h:c"), c = publish("h:c");
  store_.report();                           // 8 stored
  store_.report("disk full");                // 9 failed
  store_.report("offset does not follow");   // 10, queued before the failure was known
  drain();
  EXPECT_TRUE(results_[a]->ok);
  ASSERT_TRUE(results_[b]);
  EXPECT_FALSE(results_[b]->ok);
  EXPECT_EQ(results_[b]->error, ErrorCode::internal);
  EXPECT_EQ(results_[b]->message, "disk full");
  EXPECT_FALSE(results_[c]->ok);
  EXPECT_EQ(sinks_[1].offsets, (std::vector<uint64_t>{8}));
  // The channel goes on from its last stored offset: no gap.
  EXPECT_EQ(broker_->position("h:c").offset, 8u);
  const size_t d = publish("h:c");
  ASSERT_EQ(store_.queued.size(), 1u);
  EXPECT_EQ(store_.queued[0]->offset, 9u);
  store_.report();
  drain();
  EXPECT_EQ(results_[d]->position.offset, 9u);
  EXPECT_EQ(sinks_[1].offsets, (std::vector<uint64_t>{8, 9}));
}

TEST_F(DurableBrokerTest, ASubscriberJoiningWhileAnAppendRunsIsToldTheStoredPositionAndGetsIt) {
  publish("h:c");
  // Offset 8 is given out but not stored: a history read now could not find it, so the position
  // stays 7 and 8 reaches the new subscriber live.
  EXPECT_EQ(broker_->subscribe(1, "h:c").offset, 7u);
  store_.report();
  drain();
  EXPECT_EQ(sinks_[1].offsets, (std::vector<uint64_t>{8}));
  EXPECT_EQ(broker_->subscribe(0, "h:c").offset, 8u);
}

TEST_F(DurableBrokerTest, ChannelsWithoutHistoryArePlacedAtOnceInAnEpochOfTheirOwn) {
  EXPECT_FALSE(broker_->keeps_history("plain"));
  EXPECT_TRUE(broker_->keeps_history("h:c"));
  const size_t index = publish("plain");
  EXPECT_TRUE(store_.queued.empty());
  ASSERT_TRUE(results_[index]);
  EXPECT_EQ(results_[index]->position.offset, 1u);
  EXPECT_NE(results_[index]->position.epoch, "stored");
}

// A publication's mid reaches the store with it (one append, so one commit), with the
// publication's epoch and offset; one without a mid carries none.
TEST_F(DurableBrokerTest, AMidTravelsToTheStoreInThePublicationsOwnAppend) {
  std::string key = "pu5:alicem-1";
  broker_->publish(0, Publication{"h:a", "{}", 1, key, 86'400'123}, nullptr);
  key.assign(key.size(), 'x');  // the append keeps its own copy
  publish("h:a");
  ASSERT_EQ(store_.queued.size(), 2u);
  EXPECT_EQ(store_.queued[0]->mid_key, "pu5:alicem-1");
  EXPECT_EQ(store_.queued[0]->mid_expires_ms, 86'400'123);
  EXPECT_EQ(store_.queued[0]->epoch, "stored");
  EXPECT_EQ(store_.queued[0]->offset, 8u);
  EXPECT_EQ(store_.queued[0]->data, "{}");
  EXPECT_TRUE(store_.queued[1]->mid_key.empty());
}

}  // namespace
}  // namespace wshub::hub
