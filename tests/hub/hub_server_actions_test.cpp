// What the server and the API do to hub sessions: closes the server starts (shutdown, slow
// consumer) with the disconnect notice first, the route's close codes, subscribing, unsubscribing
// and disconnecting a user's connections, sweeps over every worker, and the /health section.
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
  HubConfig c = default_hub_config();
  c.namespaces.push_back(namespace_of("pub", SubscribePolicy::anyone, PublishPolicy::subscribers));
  // One value, so the disconnect before a 3001 is known exactly.
  c.retry_after_min_ms = c.retry_after_max_ms = 2500;
  return c;
}

class ServerActions : public ::testing::Test {
 protected:
  ServerActions() : h(config()) {
    h.verifier().allow("alice", identity_of("alice"));
    h.verifier().allow("alice-phone", identity_of("alice", "phone"));
    h.verifier().allow("bob", identity_of("bob"));
  }
  HubHarness h;
};

TEST_F(ServerActions, TheRouteNamesItsCloseCodes) {
  auto route = h.hub().make_route({});
  const server::RouteCloseCodes codes = route->close_codes();
  EXPECT_EQ(codes.slow_consumer, 3008);
  EXPECT_EQ(codes.shutdown, 3001);
  EXPECT_EQ(codes.shutdown_reason, "server shutting down");
}

TEST_F(ServerActions, AServerCloseIsAnnouncedToConnectedSessionsOnly) {
  FakeSession& waiting = h.open();
  FakeSession& s = h.connected("alice");
  waiting.close(3001, "server shutting down");
  s.close(3001, "server shutting down");
  EXPECT_TRUE(waiting.take().empty());
  EXPECT_EQ(s.take(), Frames{R"({"t":"disconnect","code":3001,"reason":"server shutting down","retry_after":2500})"});
  EXPECT_TRUE(s.frames().back().urgent);
  EXPECT_EQ(h.worker().counters().sessions.load(), 0u);
}

TEST_F(ServerActions, SubscribeAndUnsubscribeAUser) {
  FakeSession& a1 = h.connected("alice");
  FakeSession& a2 = h.connected("alice-phone");
  FakeSession& b = h.connected("bob");
  EXPECT_EQ(h.worker().subscribe_user("alice", "pub:news"), 2u);
  const ChannelPosition position = h.hub().broker().position("pub:news");
  const std::string sub = R"({"t":"sub","ch":"pub:news","ep":")" + position.epoch + R"(","off":0})";
  EXPECT_EQ(a1.take(), Frames{sub});
  EXPECT_EQ(a2.take(), Frames{sub});
  EXPECT_TRUE(b.take().empty());
  // Already subscribed: nothing more.
  EXPECT_EQ(h.worker().subscribe_user("alice", "pub:news"), 0u);
  EXPECT_EQ(h.worker().subscribe_user("nobody", "pub:news"), 0u);

  h.hub().broker().publish(0, Publication{"pub:news", "1", 5}, nullptr);
  h.drain();
  EXPECT_EQ(a1.take().size(), 1u);
  EXPECT_EQ(a2.take().size(), 1u);
  EXPECT_TRUE(b.take().empty());

  EXPECT_EQ(h.worker().unsubscribe_user("alice", "pub:news"), 2u);
  const std::string unsub = R"({"t":"unsub","ch":"pub:news","code":3000,"reason":"unsubscribed by the server"})";
  EXPECT_EQ(a1.take(), Frames{unsub});
  EXPECT_EQ(a2.take(), Frames{unsub});
  EXPECT_EQ(h.worker().unsubscribe_user("alice", "pub:news"), 0u);
  h.hub().broker().publish(0, Publication{"pub:news", "2", 5}, nullptr);
  h.drain();
  EXPECT_TRUE(a1.take().empty());
}

TEST_F(ServerActions, DisconnectByUserOrDevice) {
  FakeSession& a1 = h.connected("alice");
  FakeSession& a2 = h.connected("alice-phone");
  FakeSession& b = h.connected("bob");
  EXPECT_EQ(h.worker().disconnect("phone", /*by_device=*/true, 3000, "moved"), 1u);
  EXPECT_FALSE(a2.open());
  EXPECT_EQ(a2.close_code(), 3000);
  EXPECT_EQ(a2.take(), Frames{R"({"t":"disconnect","code":3000,"reason":"moved"})"});
  EXPECT_TRUE(a1.open());
  EXPECT_EQ(h.worker().disconnect("alice", /*by_device=*/false, 3503, "banned"), 1u);
  EXPECT_EQ(a1.close_code(), 3503);
  EXPECT_EQ(a1.take(), Frames{R"({"t":"disconnect","code":3503,"reason":"banned"})"});
  EXPECT_TRUE(b.open());
  EXPECT_EQ(h.worker().disconnect("alice", false, 3000, "again"), 0u);
}

TEST_F(ServerActions, SweepOverEveryWorker) {
  h.connected("alice");
  h.connected("alice");
  size_t total = 99;
  h.hub().for_each_worker(0, [](HubWorker& worker) { return worker.subscribe_user("alice", "pub:x"); },
                          [&](size_t sum) { total = sum; });
  EXPECT_EQ(total, 99u);  // the result comes through the worker's mailbox
  h.drain();
  EXPECT_EQ(total, 2u);
  // From a worker that has no hub: the result at once, 0.
  total = 99;
  h.hub().for_each_worker(7, [](HubWorker&) { return size_t(1); }, [&](size_t sum) { total = sum; });
  EXPECT_EQ(total, 0u);
}

TEST_F(ServerActions, HealthSection) {
  FakeSession& a = h.connected("alice");
  h.open();
  h.send(a, R"({"t":"subscribe","id":2,"ch":"pub:x"})");
  const std::string health = h.hub().health_json();
  EXPECT_EQ(json_u64(health, "/sessions"), 2u);
  EXPECT_EQ(json_u64(health, "/connected"), 1u);
  EXPECT_EQ(json_u64(health, "/subscriptions"), 2u);  // and $user:alice
  EXPECT_EQ(json_u64(health, "/publications_delivered"), 0u);
  EXPECT_EQ(json_u64(health, "/backend_unavailable"), 0u);
}

}  // namespace
}  // namespace wshub::hub
