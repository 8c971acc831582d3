// The connect webhook at the upgrade (hub.connect_at_upgrade): the route defers the 101, the
// backend decides from the request's cookies and headers, and `connect` then needs no token.
#include <gtest/gtest.h>

#include "hub_fakes.h"

namespace wshub::hub::testing {
namespace {

constexpr std::string_view kHead =
    "GET /hub HTTP/1.1\r\nHost: push.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Cookie: session=abc123\r\nOrigin: https://app.example.com\r\nX-Other: not forwarded\r\n\r\n";

HubConfig upgrade_config() {
  HubConfig config = default_hub_config();
  config.connect_at_upgrade = true;
  return config;
}

class ConnectAtUpgrade : public ::testing::Test {
 protected:
  ConnectAtUpgrade() : h(upgrade_config(), {BackendEvent::connect}, {}, /*with_verifier=*/false) {}
  HubHarness h;
};

TEST_F(ConnectAtUpgrade, TheBackendDecidesBeforeThe101AndConnectNeedsNoToken) {
  server::UpgradeVerdict verdict;
  FakeSession& s = h.upgrade(kHead, verdict);
  EXPECT_EQ(verdict.decision, server::UpgradeVerdict::Decision::defer);
  ASSERT_EQ(h.backend().calls.size(), 1u);
  const std::string& body = h.backend().calls[0].body;
  EXPECT_EQ(json_str(body, "/type"), "connect");
  EXPECT_EQ(json_str(body, "/stage"), "upgrade");
  EXPECT_EQ(json_str(body, "/path"), "/hub");
  EXPECT_EQ(json_str(body, "/headers/Cookie"), "session=abc123");
  EXPECT_EQ(json_str(body, "/headers/Origin"), "https://app.example.com");
  EXPECT_FALSE(json_has(body, "/headers/X-Other"));
  EXPECT_TRUE(h.host().upgrades.empty());
  h.backend().answer(0, R"({"result":{"user":"ann","device":"browser-1"}})");
  ASSERT_EQ(h.host().upgrades.size(), 1u);
  EXPECT_EQ(h.host().upgrades[0].verdict.decision, server::UpgradeVerdict::Decision::accept);
  h.open_upgraded(s);
  h.send(s, R"({"t":"connect","id":1})");
  const auto sent = s.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(json_str(sent[0], "/user"), "ann");
  EXPECT_EQ(json_str(sent[0], "/device"), "browser-1");
  EXPECT_EQ(h.backend().calls.size(), 1u);  // connect asked nothing more
}

TEST_F(ConnectAtUpgrade, ARefusalIs403WithTheBackendsMessage) {
  server::UpgradeVerdict verdict;
  h.upgrade(kHead, verdict);
  h.backend().answer(0, R"({"error":{"code":4401,"message":"session expired: log in again"}})");
  ASSERT_EQ(h.host().upgrades.size(), 1u);
  EXPECT_EQ(h.host().upgrades[0].verdict.decision, server::UpgradeVerdict::Decision::refuse);
  EXPECT_EQ(h.host().upgrades[0].verdict.status, 403);
  EXPECT_EQ(h.host().upgrades[0].verdict.body, "session expired: log in again\n");
}

TEST_F(ConnectAtUpgrade, ABackendThatCannotAnswerIs503) {
  server::UpgradeVerdict verdict;
  h.upgrade(kHead, verdict);
  h.backend().fail(0);
  ASSERT_EQ(h.host().upgrades.size(), 1u);
  EXPECT_EQ(h.host().upgrades[0].verdict.status, 503);
  EXPECT_EQ(h.worker().counters().backend_unavailable.load(), 1u);
}

TEST(ConnectAtUpgradeOff, TheUpgradeIsAcceptedAtOnce) {
  HubHarness h(default_hub_config(), {BackendEvent::connect}, {}, /*with_verifier=*/false);
  server::UpgradeVerdict verdict;
  FakeSession& s = h.upgrade(kHead, verdict);
  EXPECT_EQ(verdict.decision, server::UpgradeVerdict::Decision::accept);
  EXPECT_TRUE(h.backend().calls.empty());
  // The connect request goes to the webhook as usual.
  h.send(s, R"({"t":"connect","id":1,"token":"t"})");
  EXPECT_EQ(h.backend().calls.size(), 1u);
}

}  // namespace
}  // namespace wshub::hub::testing
