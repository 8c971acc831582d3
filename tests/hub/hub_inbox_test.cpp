// A device connection's inbox cursor on the worker, against an in-memory InboxStore that answers
// at once: connect's `inbox` answer, msg pushes after it, the window, cumulative acks (and 107
// for one past what was pushed), the push again after ack_timeout, and a new message announced
// by inbox_arrived.
#include <gtest/gtest.h>

#include <map>

#include "hub/hub.h"
#include "hub/hub_worker.h"
#include "hub_fakes.h"

namespace wshub::hub {
namespace {

using testing::FakeSession;
using testing::HubHarness;
using testing::identity_of;
using testing::json_str;
using testing::json_u64;
using Frames = std::vector<std::string>;

// Every device's messages in memory; completions run at once on the caller's thread.
class FakeInbox final : public InboxStore {
 public:
  void add(const std::string& device, std::string data) {
    const uint64_t seq = ++head_[device];
    boxes_[device].push_back({seq, 1, 0, "m" + std::to_string(seq), std::move(data)});
  }
  size_t marks = 0;
  uint64_t acked(const std::string& device) { return acked_[device]; }

  void configure(const InboxSettings&, InboxEvents*) override {}
  void send(InboxSendRequest, std::function<void(InboxSendResult&)>) override {}
  void open(std::string_view device, std::string_view, std::string_view epoch, uint64_t acked,
            std::function<void(InboxOpened&)> done) override {
    const std::string name(device);
    if (epoch == "ep1") ack(device, acked);
    InboxOpened opened;
    opened.epoch = "ep1";
    opened.head = head_[name];
    opened.acked = acked_[name];
    opened.pending = boxes_[name].size();
    done(opened);
  }
  void seen(std::string_view, std::string_view) override {}
  void read(std::string_view device, uint64_t after, uint32_t limit, std::function<void(InboxPage&)> done) override {
    InboxPage page;
    for (const InboxMessage& message : boxes_[std::string(device)])
      if (message.seq > after && page.messages.size() < limit) page.messages.push_back(message);
    done(page);
  }
  void mark_sent(std::string_view, uint64_t, uint64_t) override { ++marks; }
  void ack(std::string_view device, uint64_t upto) override {
    auto& box = boxes_[std::string(device)];
    while (!box.empty() && box.front().seq <= upto) box.erase(box.begin());
    if (upto > acked_[std::string(device)]) acked_[std::string(device)] = upto;
  }
  void receipts(std::string_view, std::function<void(MessageReceipts&)>) override {}
  void claim_key(std::string_view, std::string_view, std::function<void(IdempotencyClaim&)>) override {}
  void record_key(std::string_view, std::string_view, std::string_view) override {}
  void release_key(std::string_view, std::string_view) override {}
  InboxDeviceSummary device_summary(std::string_view) override { return {}; }
  uint64_t devices_with_pending() override { return 0; }
  InboxTotals totals() const override { return {}; }

 private:
  std::map<std::string, std::vector<InboxMessage>> boxes_;
  std::map<std::string, uint64_t> head_, acked_;
};

// The memory store with the fake inbox.
class InboxOnlyStore final : public Store {
 public:
  explicit InboxOnlyStore(FakeInbox& inbox) : inbox_(inbox), memory_(make_memory_store()) {}
  bool keeps_history() const override { return false; }
  ChannelPosition load_position(std::string_view channel) override { return memory_->load_position(channel); }
  void append(std::unique_ptr<StoreAppend> append) override { memory_->append(std::move(append)); }
  void read_history(std::string_view channel, uint64_t after, uint32_t limit, uint64_t max_bytes,
                    std::unique_ptr<HistoryRead> done) override {
    memory_->read_history(channel, after, limit, max_bytes, std::move(done));
  }
  InboxStore* inbox() override { return &inbox_; }

 private:
  FakeInbox& inbox_;
  std::unique_ptr<Store> memory_;
};

HubConfig inbox_config() {
  HubConfig config = default_hub_config();
  config.inbox.window = 2;
  config.inbox.ack_timeout_s = 1;
  return config;
}

class HubInbox : public ::testing::Test {
 protected:
  HubInbox() : h(inbox_config(), {}, {}, true, std::make_unique<InboxOnlyStore>(inbox)) {
    h.verifier().allow("tok", identity_of("alice", "phone"));
  }
  // Connects with `inbox` and runs the mailbox: the answer and the first pushes.
  Frames connect(FakeSession& s, std::string_view inbox_json) {
    h.send(s, std::string(R"({"t":"connect","id":1,"token":"tok","inbox":)") + std::string(inbox_json) + "}");
    h.drain();
    return s.take();
  }
  void drain_all() {
    for (int i = 0; i < 5; ++i) h.drain();
  }
  FakeInbox inbox;  // before the harness: the hub's store refers to it
  HubHarness h;
};

TEST_F(HubInbox, ConnectAnswersTheInboxThenPushesAtMostTheWindow) {
  for (int i = 0; i < 3; ++i) inbox.add("phone", std::to_string(i));
  FakeSession& s = h.open();
  Frames frames = connect(s, "{}");
  drain_all();
  for (const std::string& frame : s.take()) frames.push_back(frame);
  ASSERT_EQ(frames.size(), 3u) << ::testing::PrintToString(frames);
  EXPECT_EQ(json_str(frames[0], "/t"), "ok");
  EXPECT_EQ(testing::json_at(frames[0], "/inbox"), R"({"ep":"ep1","head":3,"pending":3})");
  EXPECT_EQ(frames[1], R"({"t":"msg","seq":1,"id":"m1","data":0,"ts":1})");
  EXPECT_EQ(json_u64(frames[2], "/seq"), 2u);
  EXPECT_EQ(inbox.marks, 1u) << "one delivery mark for the page";

  h.send(s, R"({"t":"ack","id":7,"upto":3})");
  Frames refused = s.take();
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(json_u64(refused[0], "/code"), 107u);
  EXPECT_EQ(inbox.acked("phone"), 0u);

  h.send(s, R"({"t":"ack","upto":1})");
  drain_all();
  Frames next = s.take();
  ASSERT_EQ(next.size(), 1u) << ::testing::PrintToString(next);
  EXPECT_EQ(json_u64(next[0], "/seq"), 3u);
  EXPECT_EQ(inbox.acked("phone"), 1u);
}

TEST_F(HubInbox, AnUnackedMsgIsPushedAgainAfterAckTimeout) {
  inbox.add("phone", "1");
  FakeSession& s = h.open();
  connect(s, "{}");
  drain_all();
  s.take();
  h.advance(999);
  EXPECT_TRUE(s.take().empty());
  h.advance(1);
  Frames again = s.take();
  ASSERT_EQ(again.size(), 1u) << ::testing::PrintToString(again);
  EXPECT_EQ(json_u64(again[0], "/seq"), 1u);
  h.send(s, R"({"t":"ack","upto":1})");
  h.advance(5000);
  for (const std::string& frame : s.take()) EXPECT_NE(json_str(frame, "/t"), "msg") << frame;
}

TEST_F(HubInbox, ConnectsAckCountsInItsEpochAndANewMessageIsPushedWhenAnnounced) {
  inbox.add("phone", "1");
  inbox.add("phone", "2");
  FakeSession& s = h.open();
  Frames frames = connect(s, R"({"ep":"ep1","acked":1})");
  drain_all();
  for (const std::string& frame : s.take()) frames.push_back(frame);
  ASSERT_EQ(frames.size(), 2u) << ::testing::PrintToString(frames);
  EXPECT_EQ(testing::json_at(frames[0], "/inbox"), R"({"ep":"ep1","head":2,"pending":1})");
  EXPECT_EQ(json_u64(frames[1], "/seq"), 2u);
  inbox.add("phone", "3");
  EXPECT_EQ(h.worker().inbox_arrived({"phone"}), 1u);
  drain_all();
  Frames live = s.take();
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(json_u64(live[0], "/seq"), 3u);
}

}  // namespace
}  // namespace wshub::hub
