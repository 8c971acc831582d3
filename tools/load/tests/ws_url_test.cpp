#include "ws_url.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

namespace wshub::load {
namespace {

TEST(WsUrl, PlainWithPortAndPath) {
  WsUrl url;
  std::string why;
  ASSERT_TRUE(parse_ws_url("ws://127.0.0.1:8077/echo", url, why)) << why;
  EXPECT_FALSE(url.secure);
  EXPECT_EQ(url.host, "127.0.0.1");
  EXPECT_EQ(url.port, 8077);
  EXPECT_EQ(url.target, "/echo");
  EXPECT_EQ(url.host_header, "127.0.0.1:8077");
}

TEST(WsUrl, DefaultsPortsAndPath) {
  WsUrl url;
  std::string why;
  ASSERT_TRUE(parse_ws_url("ws://localhost", url, why));
  EXPECT_EQ(url.port, 80);
  EXPECT_EQ(url.target, "/");
  EXPECT_EQ(url.host_header, "localhost");
  ASSERT_TRUE(parse_ws_url("WSS://localhost/x", url, why));
  EXPECT_TRUE(url.secure);
  EXPECT_EQ(url.port, 443);
}

TEST(WsUrl, QueryKeptAndBareQueryGetsASlash) {
  WsUrl url;
  std::string why;
  ASSERT_TRUE(parse_ws_url("ws://127.0.0.1:1/login?token=abc", url, why));
  EXPECT_EQ(url.target, "/login?token=abc");
  ASSERT_TRUE(parse_ws_url("ws://127.0.0.1:1?token=abc", url, why));
  EXPECT_EQ(url.target, "/?token=abc");
}

TEST(WsUrl, Ipv6Literal) {
  WsUrl url;
  std::string why;
  ASSERT_TRUE(parse_ws_url("wss://[::1]:9443/broadcast", url, why)) << why;
  EXPECT_EQ(url.host, "::1");
  EXPECT_EQ(url.port, 9443);
  EXPECT_EQ(url.host_header, "[::1]:9443");
  EXPECT_EQ(url.target, "/broadcast");
}

TEST(WsUrl, Refusals) {
  WsUrl url;
  std::string why;
  for (const char* bad : {"http://127.0.0.1/", "127.0.0.1:80", "ws://", "ws://:80/", "ws://127.0.0.1:/",
                          "ws://127.0.0.1:0/", "ws://127.0.0.1:65536/", "ws://127.0.0.1:8x/", "ws://u:p@127.0.0.1/",
                          "ws://127.0.0.1/#frag", "ws://[::1/", "ws://[::1]x/"}) {
    EXPECT_FALSE(parse_ws_url(bad, url, why)) << bad;
    EXPECT_FALSE(why.empty()) << bad;
  }
}

TEST(Loopback, ClassifiesAddresses) {
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  inet_pton(AF_INET, "127.3.4.5", &v4.sin_addr);
  EXPECT_TRUE(is_loopback_address(reinterpret_cast<sockaddr*>(&v4)));
  inet_pton(AF_INET, "10.0.0.1", &v4.sin_addr);
  EXPECT_FALSE(is_loopback_address(reinterpret_cast<sockaddr*>(&v4)));
  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  inet_pton(AF_INET6, "::1", &v6.sin6_addr);
  EXPECT_TRUE(is_loopback_address(reinterpret_cast<sockaddr*>(&v6)));
  inet_pton(AF_INET6, "::ffff:127.0.0.1", &v6.sin6_addr);
  EXPECT_TRUE(is_loopback_address(reinterpret_cast<sockaddr*>(&v6)));
  inet_pton(AF_INET6, "2001:db8::1", &v6.sin6_addr);
  EXPECT_FALSE(is_loopback_address(reinterpret_cast<sockaddr*>(&v6)));
}

TEST(Loopback, ResolveRefusesOtherHosts) {
  WsUrl url;
  std::string why;
  TargetAddress target;
  ASSERT_TRUE(parse_ws_url("ws://127.0.0.1:9/echo", url, why));
  EXPECT_TRUE(resolve_loopback_target(url, target, why)) << why;
  ASSERT_TRUE(parse_ws_url("ws://192.0.2.1:9/echo", url, why));
  EXPECT_FALSE(resolve_loopback_target(url, target, why));
  EXPECT_NE(why.find("loopback"), std::string::npos) << why;
}

}  // namespace
}  // namespace wshub::load
