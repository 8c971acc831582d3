// Publish and rpc from clients, and the order of answers: each namespace's publish rule, the
// publish webhook's veto and rewrite, the size limit, rpc answered by the backend (data, its own
// error codes, no answer, garbage), pending limits, duplicate ids, and answers in request order
// while a webhook decides.
#include <gtest/gtest.h>

#include "hub_fakes.h"

namespace wshub::hub {
namespace {

using testing::FakeSession;
using testing::HubHarness;
using testing::identity_of;
using testing::json_str;
using testing::json_u64;
using testing::namespace_of;
using Frames = std::vector<std::string>;

HubConfig config() {
  HubConfig c;
  c.namespaces = {
      namespace_of("", SubscribePolicy::authenticated, PublishPolicy::backend),
      namespace_of("chat", SubscribePolicy::authenticated, PublishPolicy::subscribers),
      namespace_of("mod", SubscribePolicy::authenticated, PublishPolicy::webhook),
      namespace_of("hook", SubscribePolicy::webhook, PublishPolicy::backend),
  };
  c.limits.max_data_bytes = 32;
  c.limits.max_pending_requests = 3;
  return c;
}

const std::string kUnavailable = R"(,"code":116,"msg":"backend unavailable","retry":true})";

std::string err(uint64_t id, int code, std::string_view msg) {
  return R"({"t":"err","id":)" + std::to_string(id) + R"(,"code":)" + std::to_string(code) + R"(,"msg":")" +
         std::string(msg) + R"(","retry":false})";
}

class Requests : public ::testing::Test {
 protected:
  explicit Requests(std::set<BackendEvent> webhooks = {BackendEvent::rpc, BackendEvent::publish, BackendEvent::subscribe})
      : h(config(), std::move(webhooks)) {
    h.verifier().allow("alice", identity_of("alice"));
    h.verifier().allow("bob", identity_of("bob"));
  }
  std::string published(uint64_t id, std::string_view channel) {
    const ChannelPosition p = h.hub().broker().position(channel);
    return R"({"t":"ok","id":)" + std::to_string(id) + R"(,"off":)" + std::to_string(p.offset) + R"(,"ep":")" +
           p.epoch + R"(","dup":false})";
  }
  HubHarness h;
};

class NoWebhooks : public Requests {
 protected:
  NoWebhooks() : Requests({}) {}
};

TEST_F(Requests, PublishRefusals) {
  FakeSession& s = h.connected("alice");
  h.send(s, R"({"t":"publish","id":2,"ch":"news","data":1})");
  h.send(s, R"({"t":"publish","id":3,"ch":"$user:alice","data":1})");
  h.send(s, R"({"t":"publish","id":4,"ch":"bad name","data":1})");
  h.send(s, R"({"t":"publish","id":5,"ch":"zzz:1","data":1})");
  h.send(s, R"({"t":"publish","id":6,"ch":"chat:x#bob,carol","data":1})");
  h.send(s, R"({"t":"publish","id":7,"ch":"chat:1","data":1})");
  h.send(s, R"({"t":"publish","id":8,"ch":"chat:1","data":"012345678901234567890123456789"})");
  h.send(s, R"({"t":"publish","id":9,"ch":"news","data":"01234567890123456789012345678901"})");
  EXPECT_EQ(s.take(), (Frames{
                          err(2, 103, R"(clients may not publish to this namespace (publish = \"backend\"))"),
                          err(3, 103, "personal channels are published to by the backend only"),
                          err(4, 107, "the channel name has a character outside A-Z a-z 0-9 - _ . : @ = / # , $"),
                          err(5, 102, "no namespace 'zzz' is configured"),
                          err(6, 103, "permission denied"),
                          err(7, 103, "subscribe before publishing here"),
                          err(8, 103, "subscribe before publishing here"),  // 32 bytes: within the limit
                          err(9, 114, "data is larger than hub.max_data_bytes"),
                      }));
  EXPECT_EQ(h.hub().broker().position("chat:1").offset, 0u);
}

TEST_F(Requests, SubscribersPublish) {
  FakeSession& alice = h.connected("alice");
  FakeSession& bob = h.connected("bob");
  h.send(alice, R"({"t":"subscribe","id":2,"ch":"chat:1"})");
  h.send(bob, R"({"t":"subscribe","id":2,"ch":"chat:1"})");
  alice.take();
  bob.take();
  h.send(alice, R"({"t":"publish","id":3,"ch":"chat:1","data":{"text":"hi"},"mid":"m-1"})");
  EXPECT_EQ(alice.take(), Frames{published(3, "chat:1")});
  EXPECT_EQ(json_u64(published(3, "chat:1"), "/off"), 1u);
  h.drain();
  // The publisher gets its own publication like every subscriber.
  for (FakeSession* s : {&alice, &bob}) {
    Frames sent = s->take();
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(json_str(sent[0], "/t"), "pub");
    EXPECT_EQ(json_u64(sent[0], "/off"), 1u);
    EXPECT_EQ(testing::json_at(sent[0], "/data"), R"({"text":"hi"})");
  }
  // User-limited channels: members of the list only.
  h.send(alice, R"({"t":"subscribe","id":4,"ch":"chat:p#alice,bob"})");
  h.send(alice, R"({"t":"publish","id":5,"ch":"chat:p#alice,bob","data":2})");
  Frames sent = alice.take();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[1], published(5, "chat:p#alice,bob"));
}

TEST_F(Requests, PublishWebhookAllowsRewritesAndVetoes) {
  FakeSession& s = h.connected("alice");
  h.send(s, R"({"t":"subscribe","id":2,"ch":"mod:1"})");
  s.take();
  h.send(s, R"({"t":"publish","id":3,"ch":"mod:1","data":{"text":"hello"},"mid":"x1"})");
  h.send(s, R"({"t":"publish","id":4,"ch":"mod:1","data":{"text":"darn"}})");
  h.send(s, R"({"t":"publish","id":5,"ch":"mod:1","data":{"text":"spam"}})");
  EXPECT_TRUE(s.take().empty());
  ASSERT_EQ(h.backend().calls.size(), 3u);
  EXPECT_EQ(h.backend().calls[0].event, BackendEvent::publish);
  EXPECT_EQ(h.backend().calls[0].body,
            R"({"type":"publish","cid":"0-1","user":"alice","device":"","ch":"mod:1","data":{"text":"hello"},"mid":"x1"})");
  EXPECT_EQ(h.backend().calls[1].body,
            R"({"type":"publish","cid":"0-1","user":"alice","device":"","ch":"mod:1","data":{"text":"darn"}})");
  h.backend().answer(0, "{}");
  EXPECT_EQ(s.take(), Frames{published(3, "mod:1")});
  h.backend().answer(1, R"({"result":{"data":{"text":"d**n"}}})");
  EXPECT_EQ(s.take(), Frames{published(4, "mod:1")});
  h.backend().answer(2, R"({"error":{"code":4020,"message":"spam"}})");
  EXPECT_EQ(s.take(), Frames{err(5, 4020, "spam")});
  h.drain();
  Frames pubs = s.take();
  ASSERT_EQ(pubs.size(), 2u);
  EXPECT_EQ(testing::json_at(pubs[0], "/data"), R"({"text":"hello"})");
  EXPECT_EQ(testing::json_at(pubs[1], "/data"), R"({"text":"d**n"})");
  EXPECT_EQ(json_u64(pubs[1], "/off"), 2u);
}

TEST_F(Requests, PublishWebhookUnavailable) {
  FakeSession& s = h.connected("alice");
  h.send(s, R"({"t":"publish","id":2,"ch":"mod:1","data":1})");
  h.send(s, R"({"t":"publish","id":3,"ch":"mod:1","data":2})");
  h.backend().fail(0);
  h.backend().answer(1, "garbage");
  EXPECT_EQ(s.take(), (Frames{R"({"t":"err","id":2)" + kUnavailable, R"({"t":"err","id":3)" + kUnavailable}));
  EXPECT_EQ(h.hub().broker().position("mod:1").offset, 0u);
}

TEST_F(NoWebhooks, WebhookRulesWithoutWebhooks) {
  FakeSession& s = h.connected("alice");
  h.send(s, R"({"t":"publish","id":2,"ch":"mod:1","data":1})");
  h.send(s, R"({"t":"rpc","id":3,"m":"x"})");
  EXPECT_EQ(s.take(), (Frames{err(2, 108, "the namespace asks a publish webhook and none is configured"),
                              err(3, 108, "no rpc webhook is configured")}));
}

TEST_F(Requests, RpcAnswers) {
  FakeSession& s = h.connected("alice");
  h.send(s, R"({"t":"rpc","id":2,"m":"get_order","data":{"order":7},"mid":"r-1"})");
  h.send(s, R"({"t":"rpc","id":3,"m":"now"})");
  ASSERT_EQ(h.backend().calls.size(), 2u);
  EXPECT_EQ(h.backend().calls[0].event, BackendEvent::rpc);
  EXPECT_EQ(h.backend().calls[0].body,
            R"({"type":"rpc","cid":"0-1","user":"alice","device":"","m":"get_order","data":{"order":7},"mid":"r-1"})");
  EXPECT_EQ(h.backend().calls[1].body, R"({"type":"rpc","cid":"0-1","user":"alice","device":"","m":"now","data":null})");
  EXPECT_TRUE(s.take().empty());
  // rpc answers come when the backend answers, not in request order.
  h.backend().answer(1, R"({"data":1700000000})");
  h.backend().answer(0, R"({"data":{"order":7,"state":"paid"}})");
  EXPECT_EQ(s.take(), (Frames{R"({"t":"ok","id":3,"data":1700000000})",
                              R"({"t":"ok","id":2,"data":{"order":7,"state":"paid"}})"}));
}

TEST_F(Requests, RpcErrors) {
  FakeSession& s = h.connected("alice");
  for (uint64_t id = 2; id <= 6; ++id)
    h.send(s, R"({"t":"rpc","id":)" + std::to_string(id) + R"(,"m":"m"})");
  h.backend().answer(0, R"({"error":{"code":1042,"message":"no such order"}})");
  h.backend().answer(1, R"({"error":{"code":116,"message":"try later"}})");
  h.backend().fail(2);
  // Calls 3 and 4 were never made: 111 (three pending at most).
  EXPECT_EQ(h.backend().calls.size(), 3u);
  Frames sent = s.take();
  ASSERT_EQ(sent.size(), 5u);
  EXPECT_EQ(sent[0], R"({"t":"err","id":5,"code":111,"msg":"too many requests","retry":true})");
  EXPECT_EQ(sent[1], R"({"t":"err","id":6,"code":111,"msg":"too many requests","retry":true})");
  EXPECT_EQ(sent[2], err(2, 1042, "no such order"));
  EXPECT_EQ(sent[3], R"({"t":"err","id":3,"code":116,"msg":"try later","retry":true})");
  EXPECT_EQ(sent[4], R"({"t":"err","id":4)" + kUnavailable);
  // Answered calls no longer count as pending.
  h.send(s, R"({"t":"rpc","id":7,"m":"m","data":[1,2]})");
  h.backend().answer(3, "not json");
  h.send(s, R"({"t":"rpc","id":8,"m":"m","data":"0123456789012345678901234567890123"})");
  EXPECT_EQ(s.take(), (Frames{R"({"t":"err","id":7)" + kUnavailable, err(8, 114, "data is larger than hub.max_data_bytes")}));
  // Requests answered 116: the backend's own 116 included.
  EXPECT_EQ(h.worker().counters().backend_unavailable.load(), 3u);
}

TEST_F(Requests, RpcAnswerAfterTheClientLeft) {
  FakeSession& s = h.connected("alice");
  h.send(s, R"({"t":"rpc","id":2,"m":"m"})");
  s.drop();
  h.backend().answer(0, R"({"data":1})");
  EXPECT_TRUE(s.take().empty());
}

TEST_F(Requests, DuplicatePendingIds) {
  FakeSession& s = h.connected("alice");
  h.send(s, R"({"t":"rpc","id":5,"m":"m"})");
  h.send(s, R"({"t":"rpc","id":5,"m":"again"})");
  EXPECT_EQ(s.take(), Frames{err(5, 107, "duplicate id: a request with this id is still pending")});
  EXPECT_EQ(h.backend().calls.size(), 1u);
  h.backend().answer(0, R"({"data":"first"})");
  EXPECT_EQ(s.take(), Frames{R"({"t":"ok","id":5,"data":"first"})"});
  // Once answered, the id may be used again.
  h.send(s, R"({"t":"ping","id":5})");
  EXPECT_EQ(s.take(), Frames{R"({"t":"ok","id":5})"});
}

// The error for a duplicate takes its turn behind the pending request it repeats, which keeps its
// own answer.
TEST_F(Requests, DuplicateOfAPendingSubscribe) {
  FakeSession& s = h.connected("alice");
  h.send(s, R"({"t":"subscribe","id":5,"ch":"hook:a"})");
  h.send(s, R"({"t":"ping","id":5})");
  EXPECT_TRUE(s.take().empty());
  h.backend().answer(0, "{}");
  Frames sent = s.take();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(json_str(sent[0], "/t"), "ok");
  EXPECT_EQ(json_u64(sent[0], "/off"), 0u);
  EXPECT_EQ(sent[1], err(5, 107, "duplicate id: a request with this id is still pending"));
}

TEST_F(Requests, AnswersFollowRequestOrderWhileAWebhookDecides) {
  FakeSession& s = h.connected("alice");
  h.send(s, R"([{"t":"subscribe","id":1,"ch":"hook:a"},{"t":"ping","id":2},{"t":"subscribe","id":3,"ch":"chat:x"},)"
            R"({"t":"nope","id":4},{"t":"rpc","id":5,"m":"m"}])");
  h.send(s, R"({"t":"ping","id":6})");
  EXPECT_TRUE(s.take().empty());
  // rpc does not wait for the requests before it.
  h.backend().answer(1, R"({"data":"rpc"})");
  EXPECT_EQ(s.take(), Frames{R"({"t":"ok","id":5,"data":"rpc"})"});
  h.backend().answer(0, "{}");
  Frames sent = s.take();
  ASSERT_EQ(sent.size(), 5u);
  EXPECT_EQ(json_u64(sent[0], "/id"), 1u);
  EXPECT_EQ(json_str(sent[0], "/t"), "ok");
  EXPECT_EQ(sent[1], R"({"t":"ok","id":2})");
  EXPECT_EQ(json_u64(sent[2], "/id"), 3u);
  EXPECT_EQ(json_str(sent[2], "/t"), "ok");
  EXPECT_EQ(sent[3], R"({"t":"err","id":4,"code":104,"msg":"unknown request type: nope","retry":false})");
  EXPECT_EQ(sent[4], R"({"t":"ok","id":6})");  // from the next frame
  // Nothing is held back any more.
  h.send(s, R"({"t":"ping","id":7})");
  EXPECT_EQ(s.take(), Frames{R"({"t":"ok","id":7})"});
}

TEST_F(Requests, AFailedWebhookKeepsTheOrderToo) {
  FakeSession& s = h.connected("alice");
  h.send(s, R"([{"t":"subscribe","id":1,"ch":"hook:a"},{"t":"ping","id":2}])");
  h.send(s, R"({"t":"subscribe","id":3,"ch":"hook:b"})");
  h.backend().answer(1, "{}");  // the later one first: held back
  EXPECT_TRUE(s.take().empty());
  h.backend().fail(0);
  Frames sent = s.take();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[0], R"({"t":"err","id":1)" + kUnavailable);
  EXPECT_EQ(sent[1], R"({"t":"ok","id":2})");
  EXPECT_EQ(json_u64(sent[2], "/id"), 3u);
  EXPECT_EQ(json_str(sent[2], "/t"), "ok");
}

}  // namespace
}  // namespace wshub::hub
