// A hub session from open to connected, through the route handler as the server drives it:
// connect by token and by the connect webhook, the first-request rule and the connect timeout,
// token refusals, frames that close the connection, request errors, device replacement, and the
// disconnect webhook.
#include <gtest/gtest.h>

#include "base/clock.h"
#include "hub_fakes.h"

namespace wshub::hub {
namespace {

using testing::FakeSession;
using testing::HubHarness;
using testing::identity_of;
using testing::json_i64;
using testing::json_str;
using Frames = std::vector<std::string>;

HubConfig config() {
  HubConfig c = default_hub_config();
  c.connect_timeout_ms = 10000;
  return c;
}

constexpr const char* kAliceConnected =
    R"({"t":"ok","id":1,"cid":"0-1","user":"alice","device":"","hb":{"iv":25000,"to":10000},"subs":{}})";

TEST(HubConnect, ByToken) {
  HubHarness h(config());
  h.verifier().allow("tok-alice", identity_of("alice"));
  FakeSession& s = h.open();
  EXPECT_EQ(h.worker().counters().sessions.load(), 1u);
  EXPECT_EQ(h.worker().counters().connected.load(), 0u);
  h.send(s, R"({"t":"connect","id":1,"token":"tok-alice","client":{"sdk":"js","version":"1"}})");
  EXPECT_EQ(s.take(), Frames{kAliceConnected});
  EXPECT_TRUE(s.open());
  EXPECT_EQ(h.worker().counters().connected.load(), 1u);
  // The next deadline is the first heartbeat.
  EXPECT_EQ(s.deadline_ms(), h.now() + 25000);
}

TEST(HubConnect, AnswerCarriesDeviceAndExpiry) {
  HubHarness h(config(), {}, HubRouteParams{5000, 2000});
  h.verifier().allow("tok", identity_of("bob", "phone-1", 60000));
  FakeSession& s = h.open();
  const int64_t before = wall_ms();
  h.send(s, R"({"t":"connect","id":7,"token":"tok"})");
  Frames sent = s.take();
  ASSERT_EQ(sent.size(), 1u);
  const int64_t exp = json_i64(sent[0], "/exp");
  EXPECT_GE(exp, before + 60000);
  EXPECT_LE(exp, wall_ms() + 60000);
  EXPECT_EQ(sent[0], R"({"t":"ok","id":7,"cid":"0-1","user":"bob","device":"phone-1","hb":{"iv":5000,"to":2000},"exp":)" +
                         std::to_string(exp) + R"(,"subs":{}})");
}

TEST(HubConnect, AnythingElseFirstIsRefusedAndCloses) {
  for (const char* frame : {R"({"t":"subscribe","id":3,"ch":"a"})", R"({"t":"publish","id":3,"ch":"a","data":1})",
                            R"({"t":"rpc","id":3,"m":"x"})", R"({"t":"presence","id":3,"ch":"a"})",
                            R"({"t":"refresh","id":3,"token":"t"})", R"({"t":"history","id":3,"ch":"a"})",
                            R"({"t":"unsubscribe","id":3,"ch":"a"})", R"({"t":"ping","id":3})"}) {
    SCOPED_TRACE(frame);
    HubHarness h(config());
    FakeSession& s = h.open();
    h.send(s, frame);
    EXPECT_EQ(s.take(), Frames{R"({"t":"err","id":3,"code":101,"msg":"connect first","retry":false})"});
    EXPECT_FALSE(s.open());
    EXPECT_EQ(s.close_code(), 3501);
    EXPECT_EQ(s.close_reason(), "bad request");
  }
  // Without an id there is nothing to answer: the close says it.
  HubHarness h(config());
  FakeSession& s = h.open();
  h.send(s, R"({"t":"ack","upto":3})");
  EXPECT_TRUE(s.take().empty());
  EXPECT_EQ(s.close_code(), 3501);
}

TEST(HubConnect, HeartbeatFramesBeforeConnectAreIgnored) {
  HubHarness h(config());
  h.verifier().allow("tok-alice", identity_of("alice"));
  FakeSession& s = h.open();
  h.send(s, R"({"t":"pong"})");
  h.send(s, R"({"t":"ping"})");
  EXPECT_TRUE(s.take().empty());
  ASSERT_TRUE(s.open());
  h.send(s, R"({"t":"connect","id":1,"token":"tok-alice"})");
  EXPECT_EQ(s.take(), Frames{kAliceConnected});
}

TEST(HubConnect, ConnectAndRequestsInOneBatch) {
  HubHarness h(config());
  h.verifier().allow("tok-alice", identity_of("alice"));
  FakeSession& s = h.open();
  h.send(s, R"([{"t":"connect","id":1,"token":"tok-alice"},{"t":"ping","id":2},{"t":"nope","id":3}])");
  EXPECT_EQ(s.take(), (Frames{kAliceConnected, R"({"t":"ok","id":2})",
                              R"({"t":"err","id":3,"code":104,"msg":"unknown request type: nope","retry":false})"}));
  // A refused connect ends the batch: nothing after it runs.
  FakeSession& other = h.open();
  h.send(other, R"([{"t":"connect","id":1,"token":"wrong"},{"t":"ping","id":2}])");
  EXPECT_EQ(other.take(), Frames{R"({"t":"err","id":1,"code":101,"msg":"unknown token","retry":false})"});
  EXPECT_EQ(other.close_code(), 3500);
}

TEST(HubConnect, Timeout) {
  HubHarness h(config());
  FakeSession& s = h.open();
  EXPECT_EQ(s.deadline_ms(), h.now() + 10000);
  h.advance(9999);
  EXPECT_TRUE(s.open());
  h.advance(1);
  EXPECT_FALSE(s.open());
  EXPECT_EQ(s.close_code(), 3501);
  EXPECT_EQ(s.close_reason(), "no connect request within the connect timeout");
  EXPECT_TRUE(s.take().empty());
}

TEST(HubConnect, BadTokens) {
  HubHarness h(config());
  h.verifier().refuse("forged", ErrorCode::unauthorized, "bad signature");
  h.verifier().refuse("old", ErrorCode::token_expired, "token expired at 12:00");

  FakeSession& forged = h.open();
  h.send(forged, R"({"t":"connect","id":1,"token":"forged"})");
  EXPECT_EQ(forged.take(), Frames{R"({"t":"err","id":1,"code":101,"msg":"bad signature","retry":false})"});
  EXPECT_EQ(forged.close_code(), 3500);
  EXPECT_EQ(forged.close_reason(), "bad signature");

  FakeSession& old = h.open();
  h.send(old, R"({"t":"connect","id":1,"token":"old"})");
  EXPECT_EQ(old.take(), Frames{R"({"t":"err","id":1,"code":109,"msg":"token expired at 12:00","retry":false})"});
  EXPECT_EQ(old.close_code(), 3005);

  // A token that checks out but whose exp has passed.
  h.verifier().allow("stale", identity_of("carol", "", -1000));
  FakeSession& stale = h.open();
  h.send(stale, R"({"t":"connect","id":1,"token":"stale"})");
  EXPECT_EQ(stale.take(), Frames{R"({"t":"err","id":1,"code":109,"msg":"token expired","retry":false})"});
  EXPECT_EQ(stale.close_code(), 3005);

  FakeSession& none = h.open();
  h.send(none, R"({"t":"connect","id":1})");
  EXPECT_EQ(none.take(), Frames{R"({"t":"err","id":1,"code":101,"msg":"a token is required","retry":false})"});
  EXPECT_EQ(none.close_code(), 3500);
  EXPECT_EQ(h.worker().counters().connected.load(), 0u);
}

TEST(HubConnect, Anonymous) {
  HubConfig c = config();
  c.allow_anonymous = true;
  HubHarness h(c);
  FakeSession& s = h.open();
  h.send(s, R"({"t":"connect","id":1})");
  EXPECT_EQ(s.take(), Frames{R"({"t":"ok","id":1,"cid":"0-1","user":"","device":"","hb":{"iv":25000,"to":10000},"subs":{}})"});
}

TEST(HubConnect, NoWayToCheckIdentities) {
  HubHarness h(config(), {}, {}, /*with_verifier=*/false);
  FakeSession& s = h.open();
  h.send(s, R"({"t":"connect","id":1,"token":"x"})");
  Frames sent = s.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(json_i64(sent[0], "/code"), 101);
  EXPECT_EQ(s.close_code(), 3500);
}

TEST(HubConnect, SecondConnectIsABadRequest) {
  HubHarness h(config());
  h.verifier().allow("tok-alice", identity_of("alice"));
  FakeSession& s = h.connected("tok-alice");
  h.send(s, R"({"t":"connect","id":2,"token":"tok-alice"})");
  EXPECT_EQ(s.take(), Frames{R"({"t":"err","id":2,"code":107,"msg":"already connected","retry":false})"});
  EXPECT_TRUE(s.open());
}

TEST(HubConnect, RequestErrorsAreAnswered) {
  HubHarness h(config());
  h.verifier().allow("tok-alice", identity_of("alice"));
  FakeSession& s = h.connected("tok-alice");
  h.send(s, R"({"t":"frobnicate","id":5})");
  h.send(s, R"({"t":"subscribe","id":6})");
  h.send(s, R"({"t":"subscribe","id":7,"ch":9})");
  h.send(s, R"({"t":"history","id":8,"ch":"a"})");
  h.send(s, R"({"t":"ack","upto":4})");
  EXPECT_EQ(s.take(), (Frames{
                          R"({"t":"err","id":5,"code":104,"msg":"unknown request type: frobnicate","retry":false})",
                          R"({"t":"err","id":6,"code":107,"msg":"ch is required","retry":false})",
                          R"({"t":"err","id":7,"code":107,"msg":"ch must be a channel name","retry":false})",
                          R"({"t":"err","id":8,"code":108,"msg":"history is not kept for this channel","retry":false})",
                      }));
  EXPECT_TRUE(s.open());
  EXPECT_EQ(h.worker().counters().errors[104 - 100].load(), 1u);
  EXPECT_EQ(h.worker().counters().errors[107 - 100].load(), 2u);
}

// A connected session that the server closes is told why first, with the same code.
TEST(HubConnect, FramesThatCloseAConnectedSession) {
  struct Case {
    const char* frame;
    uint16_t code;
    const char* reason;
  };
  for (const Case& c : {Case{"not json", 3501, "bad request"}, Case{"[]", 3501, "bad request"},
                        Case{R"({"t":"subscribe","ch":"a"})", 3501, "bad request"},
                        Case{R"({"t":"ping","id":0})", 3501, "bad request"}}) {
    SCOPED_TRACE(c.frame);
    HubHarness h(config());
    h.verifier().allow("tok-alice", identity_of("alice"));
    FakeSession& s = h.connected("tok-alice");
    h.send(s, c.frame);
    const std::string notice = R"({"t":"disconnect","code":)" + std::to_string(c.code) + R"(,"reason":")" + c.reason + "\"}";
    EXPECT_EQ(s.take(), Frames{notice});
    EXPECT_TRUE(s.frames().back().urgent);
    EXPECT_EQ(s.close_code(), c.code);
    EXPECT_EQ(h.worker().counters().connected.load(), 0u);
  }
}

TEST(HubConnect, BinaryFramesClose1003) {
  HubHarness h(config(), {BackendEvent::disconnect});
  h.verifier().allow("tok-alice", identity_of("alice"));
  FakeSession& early = h.open();
  h.send_binary(early, "\x01\x02");
  EXPECT_EQ(early.close_code(), 1003);
  EXPECT_TRUE(early.take().empty());

  FakeSession& s = h.connected("tok-alice");
  h.send_binary(s, R"({"t":"ping","id":2})");
  EXPECT_EQ(s.close_code(), 1003);
  EXPECT_EQ(s.take(), Frames{R"({"t":"disconnect","code":1003,"reason":"the hub protocol takes text frames holding JSON, not binary"})"});
  // The connection counted as connected has left, and the backend hears of it.
  EXPECT_EQ(h.worker().counters().connected.load(), 0u);
  ASSERT_EQ(h.backend().notices.size(), 1u);
  EXPECT_EQ(h.backend().notices[0].body, R"({"type":"disconnect","cid":"0-2","user":"alice","device":""})");
}

TEST(HubConnect, DisconnectWebhookForConnectedSessionsOnly) {
  HubHarness h(config(), {BackendEvent::disconnect});
  h.verifier().allow("tok", identity_of("dave", "tablet"));
  FakeSession& never = h.open();
  never.drop();
  EXPECT_TRUE(h.backend().notices.empty());
  FakeSession& s = h.connected("tok");
  s.drop();
  ASSERT_EQ(h.backend().notices.size(), 1u);
  EXPECT_EQ(h.backend().notices[0].event, BackendEvent::disconnect);
  EXPECT_EQ(h.backend().notices[0].body, R"({"type":"disconnect","cid":"0-2","user":"dave","device":"tablet"})");
  EXPECT_EQ(h.worker().counters().sessions.load(), 0u);
}

TEST(HubConnect, ANewerConnectionOfTheDeviceReplacesTheOlder) {
  HubHarness h(config());
  h.verifier().allow("tok", identity_of("erin", "watch"));
  FakeSession& first = h.connected("tok");
  FakeSession& second = h.connected("tok");
  h.drain();  // the hub asks every worker to let go of older connections of the device
  EXPECT_FALSE(first.open());
  EXPECT_EQ(first.close_code(), 3520);
  EXPECT_EQ(first.take(), Frames{R"({"t":"disconnect","code":3520,"reason":"replaced by a newer connection of the same device"})"});
  EXPECT_TRUE(second.open());
  EXPECT_TRUE(second.take().empty());
}

// --- the connect webhook -----------------------------------------------------------------------

class ConnectWebhook : public ::testing::Test {
 protected:
  ConnectWebhook() : h(config(), {BackendEvent::connect}, {}, /*with_verifier=*/false) {}
  FakeSession& start(const char* frame = R"({"t":"connect","id":1,"token":"opaque","client":{"sdk":"wx"}})") {
    FakeSession& s = h.open();
    h.send(s, frame);
    EXPECT_TRUE(s.take().empty());
    EXPECT_EQ(h.backend().calls.size(), 1u);
    return s;
  }
  HubHarness h;
};

TEST_F(ConnectWebhook, TheBackendDecidesWhoItIs) {
  FakeSession& s = start();
  EXPECT_EQ(h.backend().calls[0].event, BackendEvent::connect);
  EXPECT_EQ(h.backend().calls[0].body, R"({"type":"connect","cid":"0-1","token":"opaque","client":{"sdk":"wx"}})");
  h.backend().answer(0, R"({"result":{"user":"frank","device":"mp-1","info":{"nick":"F"}}})");
  EXPECT_EQ(s.take(), Frames{R"({"t":"ok","id":1,"cid":"0-1","user":"frank","device":"mp-1","hb":{"iv":25000,"to":10000},"subs":{}})"});
  EXPECT_EQ(h.worker().counters().connected.load(), 1u);
}

TEST_F(ConnectWebhook, RequestsWhileItDecidesWaitTheirTurn) {
  FakeSession& s = start();
  h.send(s, R"({"t":"ping","id":2})");
  h.send(s, R"({"t":"pong"})");
  EXPECT_TRUE(s.take().empty());
  h.backend().answer(0, R"({"result":{"user":"frank"}})");
  Frames sent = s.take();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(json_str(sent[0], "/user"), "frank");
  EXPECT_EQ(sent[1], R"({"t":"ok","id":2})");
}

TEST_F(ConnectWebhook, RequestsSentBeforeTheDecisionRunOnceConnected) {
  // A client that subscribes right after connect, in the same batch or in later frames, is
  // served in order once the backend has answered.
  FakeSession& s = h.open();
  h.send(s, R"([{"t":"connect","id":1,"token":"opaque"},{"t":"subscribe","id":2,"ch":"news"}])");
  h.send(s, R"({"t":"subscribe","id":3,"ch":"bad name"})");
  EXPECT_TRUE(s.take().empty());
  h.backend().answer(0, R"({"result":{"user":"frank"}})");
  Frames sent = s.take();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(json_str(sent[0], "/user"), "frank");
  EXPECT_EQ(json_str(sent[1], "/t"), "ok");
  EXPECT_EQ(json_i64(sent[1], "/id"), 2);
  EXPECT_EQ(json_i64(sent[2], "/code"), 107);
  EXPECT_TRUE(s.open());
}

TEST_F(ConnectWebhook, RequestsHeldPastTheLimitCloseTheConnection) {
  FakeSession& s = start();
  for (int i = 0; i < 64; ++i) h.send(s, R"({"t":"ping","id":)" + std::to_string(i + 2) + "}");
  EXPECT_TRUE(s.open());
  h.send(s, R"({"t":"ping","id":999})");
  // Nothing can be answered before connect is: the close itself says why.
  EXPECT_TRUE(s.take().empty());
  EXPECT_FALSE(s.open());
  EXPECT_EQ(s.close_code(), 3501);
  EXPECT_EQ(s.close_reason(), "too many requests before connect was answered");
}

TEST_F(ConnectWebhook, HeldRequestsAreDroppedWhenTheConnectFails) {
  FakeSession& s = start();
  h.send(s, R"({"t":"subscribe","id":2,"ch":"news"})");
  h.backend().answer(0, R"({"error":{"code":4403,"message":"unknown device"}})");
  Frames sent = s.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(json_i64(sent[0], "/code"), 4403);
  EXPECT_EQ(s.close_code(), 3502);
}

TEST_F(ConnectWebhook, ARefusalClosesForGood) {
  FakeSession& s = start();
  h.backend().answer(0, R"({"error":{"code":4403,"message":"banned"}})");
  EXPECT_EQ(s.take(), Frames{R"({"t":"err","id":1,"code":4403,"msg":"banned","retry":false})"});
  EXPECT_EQ(s.close_code(), 3502);
  EXPECT_EQ(s.close_reason(), "banned");
}

TEST_F(ConnectWebhook, AnUnansweredCallIs116AndAReconnect) {
  FakeSession& s = start();
  h.backend().fail(0);
  EXPECT_EQ(s.take(), Frames{R"({"t":"err","id":1,"code":116,"msg":"backend unavailable","retry":true})"});
  EXPECT_EQ(s.close_code(), 3000);
  EXPECT_EQ(h.worker().counters().backend_unavailable.load(), 1u);
}

TEST_F(ConnectWebhook, GarbageIs116) {
  for (const char* body : {"<html>oops</html>", R"({"result":{"user":5}})", "{}"}) {
    SCOPED_TRACE(body);
    FakeSession& s = h.open();
    h.send(s, R"({"t":"connect","id":1,"token":"x"})");
    h.backend().answer(h.backend().calls.size() - 1, body);
    EXPECT_EQ(s.take(), Frames{R"({"t":"err","id":1,"code":116,"msg":"backend unavailable","retry":true})"});
    EXPECT_EQ(s.close_code(), 3000);
  }
}

TEST_F(ConnectWebhook, ABackendSlowerThanTheConnectTimeoutIs116) {
  FakeSession& s = start();
  h.advance(10000);
  EXPECT_EQ(s.take(), Frames{R"({"t":"err","id":1,"code":116,"msg":"backend unavailable","retry":true})"});
  EXPECT_EQ(s.close_code(), 3000);
  // Its late answer finds nobody.
  h.backend().answer(0, R"({"result":{"user":"frank"}})");
  EXPECT_TRUE(s.take().empty());
  EXPECT_EQ(h.worker().counters().connected.load(), 0u);
}

TEST_F(ConnectWebhook, TheClientLeavingFirst) {
  FakeSession& s = start();
  s.drop();
  h.backend().answer(0, R"({"result":{"user":"frank"}})");
  EXPECT_TRUE(s.take().empty());
  EXPECT_EQ(h.worker().counters().connected.load(), 0u);
}

TEST_F(ConnectWebhook, TheAnsweredExpiryIsKept) {
  FakeSession& s = start();
  const int64_t exp_s = wall_ms() / 1000 + 3600;
  h.backend().answer(0, R"({"result":{"user":"frank","exp":)" + std::to_string(exp_s) + "}}");
  Frames sent = s.take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(json_i64(sent[0], "/exp"), exp_s * 1000);
}

}  // namespace
}  // namespace wshub::hub
