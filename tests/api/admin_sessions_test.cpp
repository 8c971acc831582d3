// The admin page's sessions (random tokens, expiry, the bound, logout), the cookie they travel
// in, and the ring of rejected handshakes the page shows.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "api/admin_sessions.h"
#include "server/rejected_handshakes.h"

namespace wshub::api {
namespace {

TEST(AdminSessions, ATokenIsRandomHexAndValidUntilItExpires) {
  AdminSessions sessions(60'000);
  const std::string a = sessions.open(1'000);
  const std::string b = sessions.open(1'000);
  ASSERT_EQ(a.size(), 64u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(a, b);
  EXPECT_TRUE(sessions.valid(a, 1'000));
  EXPECT_TRUE(sessions.valid(a, 60'999));
  EXPECT_FALSE(sessions.valid(a, 61'000));  // expired, and dropped
  EXPECT_FALSE(sessions.valid(a, 1'000));   // a clock going back does not revive it
  EXPECT_EQ(sessions.size(), 0u);
}

TEST(AdminSessions, UnknownEmptyAndAlteredTokensAreRefused) {
  AdminSessions sessions;
  const std::string token = sessions.open(0);
  EXPECT_FALSE(sessions.valid("", 0));
  EXPECT_FALSE(sessions.valid("not-a-session", 0));
  std::string altered = token;
  altered.back() = altered.back() == 'a' ? 'b' : 'a';
  EXPECT_FALSE(sessions.valid(altered, 0));
  EXPECT_FALSE(sessions.valid(token.substr(0, 63), 0));
  EXPECT_TRUE(sessions.valid(token, 0));
}

TEST(AdminSessions, LogoutEndsOnlyThatSession) {
  AdminSessions sessions;
  const std::string a = sessions.open(0);
  const std::string b = sessions.open(0);
  sessions.close(a);
  EXPECT_FALSE(sessions.valid(a, 1));
  EXPECT_TRUE(sessions.valid(b, 1));
  sessions.close("unknown");
  EXPECT_EQ(sessions.size(), 1u);
}

TEST(AdminSessions, PastTheBoundTheSessionClosestToItsEndGoes) {
  AdminSessions sessions(1'000'000);
  std::vector<std::string> tokens;
  for (size_t i = 0; i < AdminSessions::kMaxSessions; ++i) tokens.push_back(sessions.open(i));
  EXPECT_EQ(sessions.size(), AdminSessions::kMaxSessions);
  const std::string newest = sessions.open(AdminSessions::kMaxSessions);
  EXPECT_EQ(sessions.size(), AdminSessions::kMaxSessions);
  EXPECT_FALSE(sessions.valid(tokens.front(), 100));  // the oldest, so the first to expire
  EXPECT_TRUE(sessions.valid(tokens[1], 100));
  EXPECT_TRUE(sessions.valid(newest, 100));
}

TEST(AdminSessions, TheCookieIsHttpOnlyStrictAndScopedToTheAdminPage) {
  AdminSessions sessions(3'600'000);
  EXPECT_EQ(sessions.set_cookie_line("abc"),
            "Set-Cookie: wshub_admin=abc; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=3600\r\n");
  EXPECT_EQ(sessions.set_cookie_line({}),
            "Set-Cookie: wshub_admin=; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=0\r\n");
}

TEST(AdminCookie, FindsItsValueAmongOthers) {
  std::string_view value;
  EXPECT_TRUE(cookie_value("wshub_admin=t1", "wshub_admin", value));
  EXPECT_EQ(value, "t1");
  EXPECT_TRUE(cookie_value("a=1; wshub_admin=t2;b=3", "wshub_admin", value));
  EXPECT_EQ(value, "t2");
  EXPECT_TRUE(cookie_value("a=1;  wshub_admin=\"t3\" ", "wshub_admin", value));
  EXPECT_EQ(value, "t3");
  EXPECT_FALSE(cookie_value("x_wshub_admin=t4; wshub_adminx=t5", "wshub_admin", value));
  EXPECT_FALSE(cookie_value("", "wshub_admin", value));
  EXPECT_FALSE(cookie_value("wshub_admin", "wshub_admin", value));
}

}  // namespace
}  // namespace wshub::api

namespace wshub::server {
namespace {

TEST(RejectedHandshakes, KeepsTheNewestFirstUpToItsCapacity) {
  RejectedHandshakes ring;
  EXPECT_TRUE(ring.newest_first().empty());
  const size_t n = RejectedHandshakes::kCapacity + 7;
  for (size_t i = 0; i < n; ++i)
    ring.record(int64_t(i), 400, "10.0.0.1:5000", "missing_upgrade", "GET /hub", "sentence " + std::to_string(i));
  EXPECT_EQ(ring.total(), n);
  const std::vector<RejectedHandshake> held = ring.newest_first();
  ASSERT_EQ(held.size(), RejectedHandshakes::kCapacity);
  EXPECT_EQ(held.front().time_ms, int64_t(n - 1));
  EXPECT_EQ(std::string(held.front().sentence), "sentence " + std::to_string(n - 1));
  EXPECT_EQ(held.back().time_ms, int64_t(n - RejectedHandshakes::kCapacity));
  for (size_t i = 1; i < held.size(); ++i) EXPECT_EQ(held[i - 1].time_ms, held[i].time_ms + 1);
}

TEST(RejectedHandshakes, CutsLongTextsAndMasksWhatIsNotPrintable) {
  RejectedHandshakes ring;
  const std::string long_path = "GET /" + std::string(1000, 'p');
  ring.record(5, 426, "203.0.113.9:1 via 127.0.0.1:2", "unsupported_version", long_path,
              std::string("bad\x01\n\xc3\xa9", 7));
  const RejectedHandshake entry = ring.newest_first().at(0);
  EXPECT_EQ(entry.status, 426);
  EXPECT_EQ(std::string(entry.peer), "203.0.113.9:1 via 127.0.0.1:2");
  EXPECT_EQ(std::string(entry.reason), "unsupported_version");
  EXPECT_EQ(std::string(entry.request), long_path.substr(0, sizeof entry.request - 1));
  EXPECT_EQ(std::string(entry.sentence), "bad????");
}

TEST(RejectedHandshakes, RecordsFromManyThreadsWithoutLosingCount) {
  RejectedHandshakes ring;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&ring, t] {
      for (int i = 0; i < 1000; ++i) ring.record(t, 400, "peer", "reason", "GET /", "sentence");
    });
  for (int i = 0; i < 100; ++i) EXPECT_LE(ring.newest_first().size(), RejectedHandshakes::kCapacity);
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(ring.total(), 4000u);
  std::set<int64_t> writers;
  for (const RejectedHandshake& entry : ring.newest_first()) {
    EXPECT_EQ(std::string(entry.sentence), "sentence");
    writers.insert(entry.time_ms);
  }
  EXPECT_FALSE(writers.empty());
}

}  // namespace
}  // namespace wshub::server
