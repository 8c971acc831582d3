// Subscribing on a hub worker: the answer and its stream position, every refusal (bad name,
// unknown namespace, already subscribed, the limit, each namespace policy, user-limited and
// personal channels), the subscribe webhook, unsubscribe, and the delivery of publications with
// offsets, including to subscribers that leave in the middle of a fan-out.
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
      namespace_of("pub", SubscribePolicy::anyone, PublishPolicy::subscribers),
      namespace_of("tok", SubscribePolicy::token, PublishPolicy::backend),
      namespace_of("hook", SubscribePolicy::webhook, PublishPolicy::backend),
      namespace_of("dm", SubscribePolicy::authenticated, PublishPolicy::subscribers),
  };
  c.allow_anonymous = true;
  // One value, so the disconnect before a 3008 is known exactly (the spread is tested in
  // tests/hubinteg/test_sessions.py against the real server).
  c.retry_after_min_ms = c.retry_after_max_ms = 4000;
  return c;
}

class Subscribe : public ::testing::Test {
 protected:
  explicit Subscribe(HubConfig c = config(), std::set<BackendEvent> webhooks = {}) : h(std::move(c), std::move(webhooks)) {
    Identity alice = identity_of("alice");
    alice.channels = {"tok:a", "tok:pre*"};
    h.verifier().allow("alice", alice);
    h.verifier().allow("alice-phone", identity_of("alice", "phone"));
    h.verifier().allow("bob", identity_of("bob"));
    h.verifier().allow("carol", identity_of("carol"));
    Identity admin = identity_of("wshub-admin");
    admin.channels = {"$admin:stats"};
    h.verifier().allow("admin", admin);
    Identity wildcard = identity_of("dave");
    wildcard.channels = {"*", "$admin:*"};
    h.verifier().allow("dave", wildcard);
  }
  FakeSession& anonymous() {
    FakeSession& s = h.open();
    h.send(s, R"({"t":"connect","id":1})");
    s.take();
    return s;
  }
  // The answer to a subscribe that succeeded.
  std::string subscribed(uint64_t id, std::string_view channel, bool rec = false) {
    const ChannelPosition position = h.hub().broker().position(channel);
    return R"({"t":"ok","id":)" + std::to_string(id) + R"(,"ep":")" + position.epoch + R"(","off":)" +
           std::to_string(position.offset) + R"(,"rec":)" + (rec ? "true" : "false") + R"(,"pubs":[],"more":false})";
  }
  std::string subscribe(FakeSession& s, uint64_t id, std::string_view channel) {
    h.send(s, R"({"t":"subscribe","id":)" + std::to_string(id) + R"(,"ch":")" + std::string(channel) + "\"}");
    Frames sent = s.take();
    EXPECT_EQ(sent.size(), 1u);
    return sent.empty() ? "" : sent[0];
  }
  static std::string refused(uint64_t id, int code, std::string_view msg) {
    return R"({"t":"err","id":)" + std::to_string(id) + R"(,"code":)" + std::to_string(code) + R"(,"msg":")" +
           std::string(msg) + R"(","retry":false})";
  }
  void publish(std::string_view channel, std::string_view data, int64_t ts = 42) {
    h.hub().broker().publish(0, Publication{channel, data, ts}, nullptr);
  }
  static std::string pub(std::string_view channel, uint64_t offset, std::string_view data, int64_t ts = 42) {
    return R"({"t":"pub","ch":")" + std::string(channel) + R"(","off":)" + std::to_string(offset) + R"(,"data":)" +
           std::string(data) + R"(,"ts":)" + std::to_string(ts) + "}";
  }
  HubHarness h;
};

TEST_F(Subscribe, AnswerAndDelivery) {
  FakeSession& s = h.connected("alice");
  EXPECT_EQ(subscribe(s, 2, "pub:news"), subscribed(2, "pub:news"));
  EXPECT_EQ(h.worker().counters().subscriptions.load(), 2u);  // and $user:alice
  publish("pub:news", R"({"n":1})");
  publish("pub:other", "0");
  publish("pub:news", R"("two")");
  h.drain();
  EXPECT_EQ(s.take(), (Frames{pub("pub:news", 1, R"({"n":1})"), pub("pub:news", 2, R"("two")")}));
  EXPECT_EQ(h.worker().counters().publications_delivered.load(), 2u);
}

TEST_F(Subscribe, SincePositions) {
  publish("pub:c", "1");
  publish("pub:c", "2");
  const std::string epoch = h.hub().broker().position("pub:c").epoch;
  FakeSession& a = h.connected("alice");
  h.send(a, R"({"t":"subscribe","id":2,"ch":"pub:c","since":{"ep":")" + epoch + R"(","off":2}})");
  EXPECT_EQ(a.take(), Frames{subscribed(2, "pub:c", /*rec=*/true)});
  // Without history a gap cannot be filled, and another epoch is another stream.
  FakeSession& b = h.connected("bob");
  h.send(b, R"({"t":"subscribe","id":2,"ch":"pub:c","since":{"ep":")" + epoch + R"(","off":1}})");
  EXPECT_EQ(b.take(), Frames{subscribed(2, "pub:c", false)});
  FakeSession& c = h.connected("carol");
  h.send(c, R"({"t":"subscribe","id":2,"ch":"pub:c","since":{"ep":"other","off":2}})");
  EXPECT_EQ(c.take(), Frames{subscribed(2, "pub:c", false)});
}

TEST_F(Subscribe, Refusals) {
  FakeSession& s = h.connected("alice");
  EXPECT_EQ(subscribe(s, 2, "bad name"),
            refused(2, 107, "the channel name has a character outside A-Z a-z 0-9 - _ . : @ = / # , $"));
  EXPECT_EQ(subscribe(s, 3, "ns:"), refused(3, 107, "the channel name has an empty namespace, name or user (as in 'ns:', '#' or 'a,,b')"));
  EXPECT_EQ(subscribe(s, 4, "$other:x"), refused(4, 107, "names starting with $ are personal channels ($user:ID or $device:ID) or the server's own ($admin:NAME)"));
  EXPECT_EQ(subscribe(s, 5, "zzz:q"), refused(5, 102, "no namespace 'zzz' is configured"));
  EXPECT_EQ(subscribe(s, 6, "pub:x"), subscribed(6, "pub:x"));
  EXPECT_EQ(subscribe(s, 7, "pub:x"), refused(7, 105, "already subscribed"));
  EXPECT_TRUE(s.open());
}

TEST_F(Subscribe, AdminChannelsNeedTheirExactNameInTheToken) {
  FakeSession& admin = h.connected("admin");
  EXPECT_EQ(subscribe(admin, 2, "$admin:stats"), subscribed(2, "$admin:stats"));
  EXPECT_EQ(subscribe(admin, 3, "$admin:other"), refused(3, 103, "permission denied"));
  // A wildcard a backend hands its users reaches every namespace, never the server's own.
  FakeSession& dave = h.connected("dave");
  EXPECT_EQ(subscribe(dave, 2, "$admin:stats"), refused(2, 103, "permission denied"));
  EXPECT_EQ(subscribe(dave, 3, "tok:x"), subscribed(3, "tok:x"));
  // Nobody publishes to them from a connection.
  h.send(admin, R"({"t":"publish","id":4,"ch":"$admin:stats","data":{}})");
  EXPECT_EQ(admin.take(), Frames{refused(4, 103, "$admin: channels are published to by the server only")});
}

TEST_F(Subscribe, AChannelNeedsItsNamespace) {
  HubConfig c = config();
  c.namespaces.erase(c.namespaces.begin());  // no default namespace
  HubHarness other(c);
  other.verifier().allow("alice", identity_of("alice"));
  FakeSession& s = other.connected("alice");
  other.send(s, R"({"t":"subscribe","id":2,"ch":"plain"})");
  EXPECT_EQ(s.take(), Frames{refused(2, 102, "no namespace '' is configured")});
}

TEST_F(Subscribe, Limit) {
  HubConfig c = config();
  c.limits.max_subscriptions = 3;
  HubHarness limited(c);
  limited.verifier().allow("alice", identity_of("alice"));
  FakeSession& s = limited.connected("alice");  // $user:alice is one
  for (uint64_t id : {2, 3}) {
    limited.send(s, R"({"t":"subscribe","id":)" + std::to_string(id) + R"(,"ch":"pub:)" + std::to_string(id) + "\"}");
    EXPECT_EQ(json_str(s.take().at(0), "/t"), "ok");
  }
  limited.send(s, R"({"t":"subscribe","id":4,"ch":"pub:4"})");
  EXPECT_EQ(s.take(), Frames{refused(4, 106, "too many subscriptions for one connection (hub.max_subscriptions)")});
  // Leaving one makes room.
  limited.send(s, R"({"t":"unsubscribe","id":5,"ch":"pub:2"})");
  limited.send(s, R"({"t":"subscribe","id":6,"ch":"pub:4"})");
  Frames sent = s.take();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(json_str(sent[1], "/t"), "ok");
}

TEST_F(Subscribe, PolicyAuthenticated) {
  FakeSession& anon = anonymous();
  EXPECT_EQ(subscribe(anon, 2, "news"), refused(2, 103, "permission denied"));
  FakeSession& alice = h.connected("alice");
  EXPECT_EQ(subscribe(alice, 2, "news"), subscribed(2, "news"));
}

TEST_F(Subscribe, PolicyAnyone) {
  FakeSession& anon = anonymous();
  EXPECT_EQ(subscribe(anon, 2, "pub:open"), subscribed(2, "pub:open"));
}

TEST_F(Subscribe, PolicyToken) {
  FakeSession& alice = h.connected("alice");
  EXPECT_EQ(subscribe(alice, 2, "tok:a"), subscribed(2, "tok:a"));
  EXPECT_EQ(subscribe(alice, 3, "tok:pre"), subscribed(3, "tok:pre"));
  EXPECT_EQ(subscribe(alice, 4, "tok:prefix-1"), subscribed(4, "tok:prefix-1"));
  EXPECT_EQ(subscribe(alice, 5, "tok:b"), refused(5, 103, "permission denied"));
  EXPECT_EQ(subscribe(alice, 6, "tok:ab"), refused(6, 103, "permission denied"));
  EXPECT_EQ(subscribe(alice, 7, "tok:pr"), refused(7, 103, "permission denied"));
  FakeSession& bob = h.connected("bob");
  EXPECT_EQ(subscribe(bob, 2, "tok:a"), refused(2, 103, "permission denied"));
  FakeSession& anon = anonymous();
  EXPECT_EQ(subscribe(anon, 2, "tok:a"), refused(2, 103, "permission denied"));
}

TEST_F(Subscribe, PolicyWebhookWithoutAWebhook) {
  FakeSession& alice = h.connected("alice");
  EXPECT_EQ(subscribe(alice, 2, "hook:x"),
            refused(2, 108, "the namespace asks a subscribe webhook and none is configured"));
}

TEST_F(Subscribe, UserLimitedChannels) {
  FakeSession& alice = h.connected("alice");
  FakeSession& bob = h.connected("bob");
  FakeSession& carol = h.connected("carol");
  FakeSession& anon = anonymous();
  EXPECT_EQ(subscribe(alice, 2, "dm:x#alice,bob"), subscribed(2, "dm:x#alice,bob"));
  EXPECT_EQ(subscribe(bob, 2, "dm:x#alice,bob"), subscribed(2, "dm:x#alice,bob"));
  EXPECT_EQ(subscribe(carol, 2, "dm:x#alice,bob"), refused(2, 103, "permission denied"));
  EXPECT_EQ(subscribe(anon, 2, "dm:x#alice,bob"), refused(2, 103, "permission denied"));
  EXPECT_EQ(subscribe(carol, 3, "dm:x#alice,bob,carolyn"), refused(3, 103, "permission denied"));
}

TEST_F(Subscribe, PersonalChannels) {
  FakeSession& alice = h.connected("alice");
  FakeSession& phone = h.connected("alice-phone");
  FakeSession& bob = h.connected("bob");
  // Every connection of a user is on $user:ID from the start, a device's on $device:ID.
  EXPECT_EQ(subscribe(alice, 2, "$user:alice"), refused(2, 105, "already subscribed"));
  EXPECT_EQ(subscribe(phone, 2, "$device:phone"), refused(2, 105, "already subscribed"));
  EXPECT_EQ(subscribe(alice, 3, "$user:bob"), refused(3, 103, "permission denied"));
  EXPECT_EQ(subscribe(alice, 4, "$device:phone"), refused(4, 103, "permission denied"));
  EXPECT_EQ(subscribe(bob, 2, "$device:phone"), refused(2, 103, "permission denied"));
  EXPECT_EQ(subscribe(anonymous(), 2, "$user:alice"), refused(2, 103, "permission denied"));

  publish("$user:alice", R"({"for":"alice"})");
  publish("$device:phone", R"({"for":"phone"})");
  publish("$user:bob", R"({"for":"bob"})");
  h.drain();
  EXPECT_EQ(alice.take(), Frames{pub("$user:alice", 1, R"({"for":"alice"})")});
  EXPECT_EQ(phone.take(), (Frames{pub("$user:alice", 1, R"({"for":"alice"})"), pub("$device:phone", 1, R"({"for":"phone"})")}));
  EXPECT_EQ(bob.take(), Frames{pub("$user:bob", 1, R"({"for":"bob"})")});
}

TEST_F(Subscribe, PersonalChannelsOff) {
  HubConfig c = config();
  c.personal_channels = false;
  HubHarness off(c);
  off.verifier().allow("alice", identity_of("alice"));
  FakeSession& s = off.connected("alice");
  EXPECT_EQ(off.worker().counters().subscriptions.load(), 0u);
  off.send(s, R"({"t":"subscribe","id":2,"ch":"$user:alice"})");
  EXPECT_EQ(json_str(s.take().at(0), "/t"), "ok");
}

TEST_F(Subscribe, Unsubscribe) {
  FakeSession& s = h.connected("alice");
  subscribe(s, 2, "pub:a");
  h.send(s, R"({"t":"unsubscribe","id":3,"ch":"pub:a"})");
  h.send(s, R"({"t":"unsubscribe","id":4,"ch":"pub:never"})");
  h.send(s, R"({"t":"unsubscribe","id":5,"ch":"bad name"})");
  EXPECT_EQ(s.take(), (Frames{R"({"t":"ok","id":3})", R"({"t":"ok","id":4})",
                              refused(5, 107, "the channel name has a character outside A-Z a-z 0-9 - _ . : @ = / # , $")}));
  publish("pub:a", "1");
  h.drain();
  EXPECT_TRUE(s.take().empty());
  EXPECT_EQ(h.worker().counters().subscriptions.load(), 1u);
  // The broker no longer sends this worker the channel.
  EXPECT_EQ(h.hub().broker().channels(10).size(), 1u);  // $user:alice
  // And it may subscribe again.
  EXPECT_EQ(subscribe(s, 6, "pub:a"), subscribed(6, "pub:a"));
}

// A publication placed before a subscriber joined is not for it, even when it reaches the worker
// after the subscribe.
TEST_F(Subscribe, SubscribersJoinedAfterAnOffsetSkipIt) {
  FakeSession& early = h.connected("alice");
  subscribe(early, 2, "pub:s");
  publish("pub:s", "1");
  publish("pub:s", "2");
  publish("pub:s", "3");
  FakeSession& late = h.connected("bob");
  EXPECT_EQ(json_u64(subscribe(late, 2, "pub:s"), "/off"), 3u);
  publish("pub:s", "4");
  h.drain();
  EXPECT_EQ(early.take(), (Frames{pub("pub:s", 1, "1"), pub("pub:s", 2, "2"), pub("pub:s", 3, "3"), pub("pub:s", 4, "4")}));
  EXPECT_EQ(late.take(), Frames{pub("pub:s", 4, "4")});
}

TEST_F(Subscribe, AnUnsubscribeBeforeTheDeliveryRuns) {
  FakeSession& a = h.connected("alice");
  FakeSession& b = h.connected("bob");
  subscribe(a, 2, "pub:u");
  subscribe(b, 2, "pub:u");
  publish("pub:u", "1");
  h.send(a, R"({"t":"unsubscribe","id":3,"ch":"pub:u"})");
  a.take();
  h.drain();
  EXPECT_TRUE(a.take().empty());
  EXPECT_EQ(b.take(), Frames{pub("pub:u", 1, "1")});
}

// The server closes a slow subscriber in the middle of a fan-out: the others still get the
// publication, the next one goes to those left, and the closed one's subscriptions are gone.
TEST_F(Subscribe, ASubscriberClosedDuringTheFanOut) {
  FakeSession& a = h.connected("alice");
  FakeSession& b = h.connected("bob");
  FakeSession& c = h.connected("carol");
  for (FakeSession* s : {&a, &b, &c}) subscribe(*s, 2, "pub:f");
  b.overflow_on_next_fanout(3008);
  publish("pub:f", "1");
  h.drain();
  EXPECT_EQ(a.take(), Frames{pub("pub:f", 1, "1")});
  EXPECT_EQ(c.take(), Frames{pub("pub:f", 1, "1")});
  EXPECT_EQ(b.close_code(), 3008);
  EXPECT_EQ(b.take(), Frames{R"({"t":"disconnect","code":3008,"reason":"send buffer limit reached","retry_after":4000})"});
  publish("pub:f", "2");
  h.drain();
  EXPECT_EQ(a.take(), Frames{pub("pub:f", 2, "2")});
  EXPECT_EQ(c.take(), Frames{pub("pub:f", 2, "2")});
  auto channels = h.hub().broker().channels(10);
  for (const auto& summary : channels) {
    if (summary.name == "pub:f") {
      EXPECT_EQ(summary.subscribers, 2u);
    }
  }
  // Every subscriber gone in one fan-out: the worker lets go of the channel.
  a.overflow_on_next_fanout(3008);
  c.overflow_on_next_fanout(3008);
  publish("pub:f", "3");
  h.drain();
  for (const auto& summary : h.hub().broker().channels(10)) EXPECT_NE(summary.name, "pub:f");
  EXPECT_EQ(h.worker().counters().subscriptions.load(), 0u);
}

// --- the subscribe webhook ---------------------------------------------------------------------

class SubscribeWebhook : public Subscribe {
 protected:
  SubscribeWebhook() : Subscribe(config(), {BackendEvent::subscribe}) {}
};

TEST_F(SubscribeWebhook, TheBackendAllows) {
  FakeSession& s = h.connected("alice");
  h.send(s, R"({"t":"subscribe","id":2,"ch":"hook:room"})");
  EXPECT_TRUE(s.take().empty());
  ASSERT_EQ(h.backend().calls.size(), 1u);
  EXPECT_EQ(h.backend().calls[0].event, BackendEvent::subscribe);
  EXPECT_EQ(h.backend().calls[0].body, R"({"type":"subscribe","cid":"0-1","user":"alice","device":"","ch":"hook:room"})");
  h.backend().answer(0, "{}");
  EXPECT_EQ(s.take(), Frames{subscribed(2, "hook:room")});
  publish("hook:room", "1");
  h.drain();
  EXPECT_EQ(s.take(), Frames{pub("hook:room", 1, "1")});
}

TEST_F(SubscribeWebhook, TheBackendRefuses) {
  FakeSession& s = h.connected("alice");
  h.send(s, R"({"t":"subscribe","id":2,"ch":"hook:a"})");
  h.send(s, R"({"t":"subscribe","id":3,"ch":"hook:b"})");
  h.backend().answer(0, R"({"error":{"code":103,"message":"members only"}})");
  h.backend().answer(1, R"({"error":{"code":4001,"message":"room closed"}})");
  EXPECT_EQ(s.take(), (Frames{refused(2, 103, "members only"), refused(3, 4001, "room closed")}));
  EXPECT_EQ(h.worker().counters().subscriptions.load(), 1u);
}

TEST_F(SubscribeWebhook, ABackendThatCannotAnswer) {
  FakeSession& s = h.connected("alice");
  h.send(s, R"({"t":"subscribe","id":2,"ch":"hook:a"})");
  h.send(s, R"({"t":"subscribe","id":3,"ch":"hook:b"})");
  h.backend().fail(0);
  h.backend().answer(1, "<html>bad gateway</html>");
  const std::string unavailable = R"(,"code":116,"msg":"backend unavailable","retry":true})";
  EXPECT_EQ(s.take(), (Frames{R"({"t":"err","id":2)" + unavailable, R"({"t":"err","id":3)" + unavailable}));
}

TEST_F(SubscribeWebhook, TwoRequestsForOneChannel) {
  FakeSession& s = h.connected("alice");
  h.send(s, R"({"t":"subscribe","id":2,"ch":"hook:a"})");
  h.send(s, R"({"t":"subscribe","id":3,"ch":"hook:a"})");
  h.backend().answer(0, "{}");
  h.backend().answer(1, "{}");
  EXPECT_EQ(s.take(), (Frames{subscribed(2, "hook:a"), refused(3, 105, "already subscribed")}));
}

TEST_F(SubscribeWebhook, TheClientLeftBeforeTheAnswer) {
  FakeSession& s = h.connected("alice");
  h.send(s, R"({"t":"subscribe","id":2,"ch":"hook:a"})");
  s.drop();
  h.backend().answer(0, "{}");
  EXPECT_TRUE(s.take().empty());
  EXPECT_TRUE(h.hub().broker().channels(10).empty());
}

TEST_F(SubscribeWebhook, PendingRequestsAreLimited) {
  HubConfig c = config();
  c.limits.max_pending_requests = 2;
  HubHarness limited(c, {BackendEvent::subscribe});
  limited.verifier().allow("alice", identity_of("alice"));
  FakeSession& s = limited.connected("alice");
  limited.send(s, R"([{"t":"subscribe","id":2,"ch":"hook:a"},{"t":"subscribe","id":3,"ch":"hook:b"},)"
                  R"({"t":"subscribe","id":4,"ch":"hook:c"}])");
  EXPECT_TRUE(s.take().empty());
  EXPECT_EQ(limited.backend().calls.size(), 2u);
  limited.backend().answer(0, "{}");
  limited.backend().answer(1, "{}");
  Frames sent = s.take();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[2], R"({"t":"err","id":4,"code":111,"msg":"too many requests","retry":true})");
}

}  // namespace
}  // namespace wshub::hub
