// Presence on a hub worker: join and leave pushes where a namespace has them, the presence
// request (permission, listing, limit), and the subscriptions a connect request asks for.
#include <gtest/gtest.h>

#include "hub_fakes.h"

namespace wshub::hub {
namespace {

using testing::FakeSession;
using testing::HubHarness;
using testing::identity_of;
using testing::json_at;
using testing::json_str;
using testing::json_u64;
using testing::namespace_of;
using Frames = std::vector<std::string>;

HubConfig config() {
  HubConfig c;
  c.namespaces = {
      namespace_of("room", SubscribePolicy::authenticated, PublishPolicy::subscribers, true, true),
      namespace_of("pres", SubscribePolicy::anyone, PublishPolicy::backend, true, false),
      namespace_of("hook", SubscribePolicy::webhook, PublishPolicy::backend, true, false),
      namespace_of("plain", SubscribePolicy::anyone, PublishPolicy::backend),
  };
  c.allow_anonymous = true;
  return c;
}

class Presence : public ::testing::Test {
 protected:
  explicit Presence(HubConfig c = config()) : h(std::move(c), {BackendEvent::subscribe}) {
    Identity alice = identity_of("alice");
    alice.info_json = R"({"nick":"A"})";
    h.verifier().allow("alice", alice);
    h.verifier().allow("bob", identity_of("bob", "tab"));
    h.verifier().allow("carol", identity_of("carol"));
  }
  void send(FakeSession& s, const std::string& frame, size_t answers = 1) {
    h.send(s, frame);
    Frames sent = s.take();
    EXPECT_EQ(sent.size(), answers) << frame;
    for (const std::string& answer : sent) EXPECT_EQ(json_str(answer, "/t"), "ok") << answer;
  }
  static std::string join(std::string_view type, std::string_view cid, std::string_view user, std::string_view device = "") {
    return R"({"t":")" + std::string(type) + R"(","ch":"room:1","cid":")" + std::string(cid) + R"(","user":")" +
           std::string(user) + R"(","device":")" + std::string(device) + R"("})";
  }
  HubHarness h;
};

TEST_F(Presence, JoinAndLeavePushes) {
  FakeSession& alice = h.connected("alice");
  send(alice, R"({"t":"subscribe","id":2,"ch":"room:1"})");
  h.drain();
  EXPECT_TRUE(alice.take().empty());  // nobody is told of their own join

  FakeSession& bob = h.connected("bob");
  send(bob, R"({"t":"subscribe","id":2,"ch":"room:1"})");
  h.drain();
  EXPECT_EQ(alice.take(), Frames{join("join", "0-2", "bob", "tab")});
  EXPECT_TRUE(bob.take().empty());

  send(bob, R"({"t":"unsubscribe","id":3,"ch":"room:1"})");
  h.drain();
  EXPECT_EQ(alice.take(), Frames{join("leave", "0-2", "bob", "tab")});
  EXPECT_TRUE(bob.take().empty());

  // A connection that goes away leaves every channel it was in.
  FakeSession& carol = h.connected("carol");
  send(carol, R"({"t":"subscribe","id":2,"ch":"room:1"})");
  carol.drop();
  h.drain();
  EXPECT_EQ(alice.take(), (Frames{join("join", "0-3", "carol"), join("leave", "0-3", "carol")}));
  EXPECT_EQ(h.worker().counters().pushes_delivered.load(), 4u);
}

TEST_F(Presence, NoJoinOrLeaveWhereTheNamespaceHasNone) {
  FakeSession& alice = h.connected("alice");
  FakeSession& bob = h.connected("bob");
  send(alice, R"({"t":"subscribe","id":2,"ch":"pres:1"})");
  send(bob, R"({"t":"subscribe","id":2,"ch":"pres:1"})");
  send(bob, R"({"t":"unsubscribe","id":3,"ch":"pres:1"})");
  h.drain();
  EXPECT_TRUE(alice.take().empty());
  EXPECT_TRUE(bob.take().empty());
}

TEST_F(Presence, Listing) {
  FakeSession& alice = h.connected("alice");
  FakeSession& bob = h.connected("bob");
  send(alice, R"({"t":"subscribe","id":2,"ch":"pres:1"})");
  send(bob, R"({"t":"subscribe","id":2,"ch":"pres:1"})");
  h.send(alice, R"({"t":"presence","id":3,"ch":"pres:1"})");
  Frames sent = alice.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(json_str(sent[0], "/t"), "ok");
  EXPECT_EQ(json_u64(sent[0], "/id"), 3u);
  EXPECT_EQ(json_u64(sent[0], "/total"), 2u);
  EXPECT_EQ(json_at(sent[0], "/clients/0-1"), R"({"user":"alice","device":"","info":{"nick":"A"}})");
  EXPECT_EQ(json_at(sent[0], "/clients/0-2"), R"({"user":"bob","device":"tab"})");

  // Permission to subscribe is enough: an anonymous connection may ask about an open channel.
  FakeSession& anon = h.open();
  h.send(anon, R"({"t":"connect","id":1})");
  anon.take();
  h.send(anon, R"({"t":"presence","id":2,"ch":"pres:1"})");
  sent = anon.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(json_u64(sent[0], "/total"), 2u);

  send(bob, R"({"t":"unsubscribe","id":3,"ch":"pres:1"})");
  h.send(anon, R"({"t":"presence","id":3,"ch":"pres:1"})");
  sent = anon.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(json_u64(sent[0], "/total"), 1u);
  EXPECT_EQ(json_at(sent[0], "/clients"), R"({"0-1":{"user":"alice","device":"","info":{"nick":"A"}}})");

  // A channel nobody is in.
  h.send(anon, R"({"t":"presence","id":4,"ch":"pres:empty"})");
  EXPECT_EQ(anon.take(), Frames{R"({"t":"ok","id":4,"clients":{},"total":0})"});
}

TEST_F(Presence, Refusals) {
  FakeSession& alice = h.connected("alice");
  FakeSession& anon = h.open();
  h.send(anon, R"({"t":"connect","id":1})");
  anon.take();
  h.send(alice, R"({"t":"presence","id":2,"ch":"plain:1"})");
  h.send(alice, R"({"t":"presence","id":3,"ch":"bad name"})");
  h.send(alice, R"({"t":"presence","id":4,"ch":"zzz:1"})");
  // Where the subscribe webhook decides, only a subscriber may ask.
  h.send(alice, R"({"t":"presence","id":5,"ch":"hook:1"})");
  EXPECT_EQ(alice.take(), (Frames{
                              R"({"t":"err","id":2,"code":108,"msg":"presence is off in this namespace","retry":false})",
                              R"({"t":"err","id":3,"code":107,"msg":"the channel name has a character outside A-Z a-z 0-9 - _ . : @ = / # , $","retry":false})",
                              R"({"t":"err","id":4,"code":102,"msg":"unknown channel","retry":false})",
                              R"({"t":"err","id":5,"code":103,"msg":"permission denied","retry":false})",
                          }));
  h.send(anon, R"({"t":"presence","id":2,"ch":"room:1"})");
  EXPECT_EQ(anon.take(), Frames{R"({"t":"err","id":2,"code":103,"msg":"permission denied","retry":false})"});

  h.send(alice, R"({"t":"subscribe","id":6,"ch":"hook:1"})");
  h.backend().answer(0, "{}");
  h.send(alice, R"({"t":"presence","id":7,"ch":"hook:1"})");
  Frames sent = alice.take();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(json_u64(sent[1], "/total"), 1u);
}

TEST_F(Presence, ListingLimit) {
  HubConfig c = config();
  c.limits.max_presence_clients = 1;
  HubHarness limited(c);
  limited.verifier().allow("alice", identity_of("alice"));
  FakeSession& a = limited.connected("alice");
  FakeSession& b = limited.connected("alice");
  limited.send(a, R"({"t":"subscribe","id":2,"ch":"pres:1"})");
  limited.send(b, R"({"t":"subscribe","id":2,"ch":"pres:1"})");
  limited.send(a, R"({"t":"presence","id":3,"ch":"pres:1"})");
  Frames sent = a.take();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(json_u64(sent[1], "/total"), 2u);
  EXPECT_EQ(json_at(sent[1], "/clients").size(), std::string(R"({"0-1":{"user":"alice","device":""}})").size());
}

// --- connect's subs ----------------------------------------------------------------------------

TEST_F(Presence, ConnectSubscribesToWhatItAsks) {
  const ChannelPosition b = h.hub().broker().position("pres:b");
  FakeSession& s = h.open();
  h.send(s, R"({"t":"connect","id":1,"token":"alice","subs":{"pres:a":{},"pres:b":{"since":{"ep":")" + b.epoch +
                R"(","off":0}},"bad name":{},"hook:x":{},"zzz:q":null,"room:r":{"since":{"ep":"old","off":3}}}})");
  Frames sent = s.take();
  ASSERT_EQ(sent.size(), 1u);
  auto position = [&](const char* channel, bool rec) {
    const ChannelPosition p = h.hub().broker().position(channel);
    return R"({"ep":")" + p.epoch + R"(","off":)" + std::to_string(p.offset) + R"(,"rec":)" + (rec ? "true" : "false") +
           R"(,"pubs":[],"more":false})";
  };
  EXPECT_EQ(sent[0], R"({"t":"ok","id":1,"cid":"0-1","user":"alice","device":"","hb":{"iv":25000,"to":10000},"subs":{)"
                     R"("pres:a":)" + position("pres:a", false) +
                     R"(,"pres:b":)" + position("pres:b", true) +
                     R"(,"bad name":{"err":{"code":107,"msg":"the channel name has a character outside A-Z a-z 0-9 - _ . : @ = / # , $"}})"
                     R"(,"hook:x":{"err":{"code":108,"msg":"not available"}})"
                     R"(,"zzz:q":{"err":{"code":102,"msg":"no namespace 'zzz' is configured"}})"
                     R"(,"room:r":)" + position("room:r", false) + "}}");
  // The subscriptions are live.
  h.hub().broker().publish(0, Publication{"pres:a", "1", 9}, nullptr);
  h.drain();
  Frames pushed = s.take();
  ASSERT_EQ(pushed.size(), 1u);  // the publication; not its own join in room:r
  EXPECT_EQ(pushed[0], R"({"t":"pub","ch":"pres:a","off":1,"data":1,"ts":9})");
}

TEST_F(Presence, ConnectWithTooManySubs) {
  HubConfig c = config();
  c.limits.max_subscriptions = 2;
  HubHarness limited(c);
  limited.verifier().allow("alice", identity_of("alice"));
  FakeSession& s = limited.open();
  limited.send(s, R"({"t":"connect","id":1,"token":"alice","subs":{"pres:a":{},"pres:b":{},"pres:c":{}}})");
  EXPECT_EQ(s.take(), Frames{R"({"t":"err","id":1,"code":107,"msg":"subs lists more channels than limits allow","retry":false})"});
  EXPECT_EQ(s.close_code(), 3501);
  // As many as the limit: the personal channel takes one place, so the last asked gets 106.
  FakeSession& t = limited.open();
  limited.send(t, R"({"t":"connect","id":1,"token":"alice","subs":{"pres:a":{},"pres:b":{}}})");
  Frames sent = t.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(json_u64(sent[0], "/subs/pres:a/off"), 0u);
  EXPECT_EQ(json_u64(sent[0], "/subs/pres:b/err/code"), 106u);
}

TEST_F(Presence, ConnectWithBadSubsPositions) {
  FakeSession& s = h.open();
  h.send(s, R"({"t":"connect","id":1,"token":"alice","subs":{"pres:a":{"since":{"ep":"e"}}}})");
  EXPECT_EQ(s.take(), Frames{R"({"t":"err","id":1,"code":107,"msg":"subs.pres:a.since must be {ep: string, off: number}","retry":false})"});
  EXPECT_EQ(s.close_code(), 3501);
}

}  // namespace
}  // namespace wshub::hub
