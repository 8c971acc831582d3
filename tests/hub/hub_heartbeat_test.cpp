// A connected session's clocks: the JSON heartbeat (ping every hb.iv, close 3012 when no pong
// comes within hb.to), the token's expiry (close 3005) and refresh, which moves it.
#include <gtest/gtest.h>

#include "base/clock.h"
#include "hub_fakes.h"

namespace wshub::hub {
namespace {

using testing::FakeSession;
using testing::HubHarness;
using testing::identity_of;
using testing::json_i64;
using Frames = std::vector<std::string>;

constexpr HubRouteParams kFastHeartbeat{1000, 500};
const std::string kPing = R"({"t":"ping"})";
const std::string kNoPong =
    R"({"t":"disconnect","code":3012,"reason":"no pong: the client did not answer the heartbeat"})";
const std::string kExpired = R"({"t":"disconnect","code":3005,"reason":"token expired"})";

class Heartbeat : public ::testing::Test {
 protected:
  Heartbeat() : h(default_hub_config(), {}, kFastHeartbeat) {
    h.verifier().allow("tok", identity_of("alice"));
  }
  HubHarness h;
};

TEST_F(Heartbeat, PingAtTheIntervalAndCloseWithoutPong) {
  FakeSession& s = h.connected("tok");
  h.advance(999);
  EXPECT_TRUE(s.take().empty());
  h.advance(1);
  EXPECT_EQ(s.take(), Frames{kPing});
  h.advance(499);
  EXPECT_TRUE(s.open());
  EXPECT_TRUE(s.take().empty());
  h.advance(1);
  EXPECT_FALSE(s.open());
  EXPECT_EQ(s.close_code(), 3012);
  EXPECT_EQ(s.take(), Frames{kNoPong});
  EXPECT_TRUE(s.frames().back().urgent);
  EXPECT_EQ(h.worker().counters().closes[hub_close_index(HubClose::no_pong)].load(), 1u);
}

TEST_F(Heartbeat, APongStartsTheNextInterval) {
  FakeSession& s = h.connected("tok");
  for (int round = 0; round < 5; ++round) {
    h.advance(1000);
    ASSERT_EQ(s.take(), Frames{kPing}) << "round " << round;
    h.advance(200);
    h.send(s, R"({"t":"pong"})");
    EXPECT_TRUE(s.take().empty());  // a pong is never answered
  }
  // The next ping comes a full interval after the last pong.
  h.advance(999);
  EXPECT_TRUE(s.take().empty());
  h.advance(1);
  EXPECT_EQ(s.take(), Frames{kPing});
  EXPECT_TRUE(s.open());
}

TEST_F(Heartbeat, AClientProbeIsAnsweredButIsNoPong) {
  FakeSession& s = h.connected("tok");
  h.advance(1000);
  EXPECT_EQ(s.take(), Frames{kPing});
  h.send(s, R"({"t":"ping","id":9})");
  EXPECT_EQ(s.take(), Frames{R"({"t":"ok","id":9})"});
  h.advance(500);
  EXPECT_EQ(s.close_code(), 3012);
}

TEST_F(Heartbeat, PongsInABatch) {
  FakeSession& s = h.connected("tok");
  h.advance(1000);
  s.take();
  h.send(s, R"([{"t":"pong"},{"t":"ping","id":2}])");
  EXPECT_EQ(s.take(), Frames{R"({"t":"ok","id":2})"});
  h.advance(900);
  EXPECT_TRUE(s.open());
}

TEST(TokenExpiry, ClosesWith3005AtExp) {
  HubHarness h(default_hub_config());  // heartbeat every 25 s: the expiry comes first
  h.verifier().allow("tok", identity_of("alice", "", 5000));
  FakeSession& s = h.connected("tok");
  h.advance(4000);
  EXPECT_TRUE(s.open());
  h.advance(1000);
  EXPECT_FALSE(s.open());
  EXPECT_EQ(s.close_code(), 3005);
  EXPECT_EQ(s.take(), Frames{kExpired});
}

TEST(TokenExpiry, WhileAPingIsUnanswered) {
  HubHarness h(default_hub_config(), {}, HubRouteParams{1000, 3000});
  h.verifier().allow("tok", identity_of("alice", "", 2500));
  FakeSession& s = h.connected("tok");
  h.advance(1000);
  EXPECT_EQ(s.take(), Frames{kPing});
  h.advance(1600);
  EXPECT_EQ(s.close_code(), 3005);
  EXPECT_EQ(s.take(), Frames{kExpired});
}

class Refresh : public ::testing::Test {
 protected:
  Refresh() : h(default_hub_config()) {
    h.verifier().allow("tok", identity_of("alice", "phone", 5000));
    h.verifier().allow("later", identity_of("alice", "phone", 60000));
    h.verifier().allow("forever", identity_of("alice", "phone"));
    h.verifier().allow("bob", identity_of("bob", "phone", 60000));
    h.verifier().allow("other-device", identity_of("alice", "laptop", 60000));
    h.verifier().refuse("expired", ErrorCode::token_expired, "token expired");
    // A verifier may accept a token a little past its exp (clock skew leeway).
    h.verifier().allow("just-past", identity_of("alice", "phone", -1000));
    h.verifier().refuse("forged", ErrorCode::unauthorized, "bad signature");
  }
  HubHarness h;
};

TEST_F(Refresh, MovesTheExpiry) {
  FakeSession& s = h.connected("tok");
  h.advance(4000);
  const int64_t before = wall_ms();
  h.send(s, R"({"t":"refresh","id":2,"token":"later"})");
  Frames sent = s.take();
  ASSERT_EQ(sent.size(), 1u);
  const int64_t exp = json_i64(sent[0], "/exp");
  EXPECT_GE(exp, before + 60000);
  EXPECT_LE(exp, wall_ms() + 60000);
  EXPECT_EQ(sent[0], R"({"t":"ok","id":2,"exp":)" + std::to_string(exp) + "}");
  // Past the old expiry: still open (pinging meanwhile); at the new one: closed.
  h.advance(2000);
  EXPECT_TRUE(s.open());
  h.advance(19000);
  EXPECT_EQ(s.take(), Frames{kPing});
  h.send(s, R"({"t":"pong"})");
  h.advance(25000);
  EXPECT_EQ(s.take(), Frames{kPing});
  h.send(s, R"({"t":"pong"})");
  h.advance(13000);  // 63 s after connecting
  EXPECT_TRUE(s.open());
  h.advance(1000);
  EXPECT_FALSE(s.open());
  EXPECT_EQ(s.close_code(), 3005);
  EXPECT_EQ(s.take(), Frames{kExpired});
}

TEST_F(Refresh, ToATokenWithoutExpiry) {
  FakeSession& s = h.connected("tok");
  h.send(s, R"({"t":"refresh","id":2,"token":"forever"})");
  EXPECT_EQ(s.take(), Frames{R"({"t":"ok","id":2})"});
  for (int i = 0; i < 4; ++i) {
    h.advance(25000);
    EXPECT_EQ(s.take(), Frames{kPing});
    h.send(s, R"({"t":"pong"})");
  }
  EXPECT_TRUE(s.open());
}

TEST_F(Refresh, RefusalsLeaveTheSessionAsItWas) {
  FakeSession& s = h.connected("tok");
  h.send(s, R"({"t":"refresh","id":2,"token":"bob"})");
  h.send(s, R"({"t":"refresh","id":3,"token":"other-device"})");
  h.send(s, R"({"t":"refresh","id":4,"token":"expired"})");
  h.send(s, R"({"t":"refresh","id":5,"token":"forged"})");
  EXPECT_EQ(s.take(), (Frames{
                          R"({"t":"err","id":2,"code":101,"msg":"the new token names another user or device","retry":false})",
                          R"({"t":"err","id":3,"code":101,"msg":"the new token names another user or device","retry":false})",
                          R"({"t":"err","id":4,"code":109,"msg":"token expired","retry":false})",
                          R"({"t":"err","id":5,"code":101,"msg":"bad signature","retry":false})",
                      }));
  EXPECT_TRUE(s.open());
  h.advance(5000);
  EXPECT_EQ(s.close_code(), 3005);
}

TEST_F(Refresh, ATokenPastItsExpiryIsExpired) {
  FakeSession& s = h.connected("tok");
  h.send(s, R"({"t":"refresh","id":2,"token":"just-past"})");
  EXPECT_EQ(s.take(), Frames{R"({"t":"err","id":2,"code":109,"msg":"token expired","retry":false})"});
  // The session keeps the expiry it had.
  h.advance(5000);
  EXPECT_EQ(s.close_code(), 3005);
}

TEST(RefreshWithoutTokens, IsNotAvailable) {
  HubConfig config = default_hub_config();
  config.allow_anonymous = true;
  HubHarness h(config, {}, {}, /*with_verifier=*/false);
  FakeSession& s = h.open();
  h.send(s, R"({"t":"connect","id":1})");
  s.take();
  h.send(s, R"({"t":"refresh","id":2,"token":"x"})");
  EXPECT_EQ(s.take(), Frames{R"({"t":"err","id":2,"code":108,"msg":"tokens are not used here","retry":false})"});
}

}  // namespace
}  // namespace wshub::hub
