// Trusted proxies: address blocks, the forwarded address forms, and which X-Forwarded-For
// entry is the client.
#include <gtest/gtest.h>

#include <string_view>
#include <vector>

#include "proto/http_head.h"
#include "server/trusted_proxies.h"

namespace wshub::server {
namespace {

net::IpAddress ip(std::string_view text) {
  net::IpAddress out;
  EXPECT_TRUE(net::IpAddress::parse(text, out)) << text;
  return out;
}

TrustedProxies trusted(std::vector<std::string_view> blocks) {
  std::vector<IpNetwork> networks;
  for (std::string_view block : blocks) {
    IpNetwork network;
    std::string why;
    EXPECT_TRUE(parse_ip_network(block, network, why)) << block << ": " << why;
    networks.push_back(network);
  }
  return TrustedProxies(std::move(networks));
}

TEST(IpNetwork, SingleAddressesAndBlocks) {
  TrustedProxies t = trusted({"127.0.0.1", "10.0.0.0/8", "192.168.1.128/25", "fd00::/8", "::1"});
  EXPECT_TRUE(t.contains(ip("127.0.0.1")));
  EXPECT_FALSE(t.contains(ip("127.0.0.2")));
  EXPECT_TRUE(t.contains(ip("10.0.0.0")));
  EXPECT_TRUE(t.contains(ip("10.255.255.255")));
  EXPECT_FALSE(t.contains(ip("11.0.0.0")));
  EXPECT_FALSE(t.contains(ip("9.255.255.255")));
  EXPECT_TRUE(t.contains(ip("192.168.1.128")));
  EXPECT_TRUE(t.contains(ip("192.168.1.255")));
  EXPECT_FALSE(t.contains(ip("192.168.1.127")));
  EXPECT_TRUE(t.contains(ip("fd12:3456::1")));
  EXPECT_FALSE(t.contains(ip("fe80::1")));
  EXPECT_TRUE(t.contains(ip("::1")));
  EXPECT_FALSE(t.contains(ip("::2")));
}

TEST(IpNetwork, V4BlocksNeverMatchV6AddressesOutsideTheMappedRange) {
  TrustedProxies t = trusted({"0.0.0.0/0"});
  EXPECT_TRUE(t.contains(ip("203.0.113.9")));
  EXPECT_FALSE(t.contains(ip("2001:db8::1")));
  TrustedProxies all = trusted({"::/0"});
  EXPECT_TRUE(all.contains(ip("2001:db8::1")));
  EXPECT_TRUE(all.contains(ip("203.0.113.9")));
}

TEST(IpNetwork, RefusesWithASentence) {
  IpNetwork network;
  std::string why;
  EXPECT_FALSE(parse_ip_network("10.0.0.1/8", network, why));
  EXPECT_EQ(why, "'10.0.0.1/8' has bits set after the prefix; write 10.0.0.0/8");
  EXPECT_FALSE(parse_ip_network("10.0.0.0/33", network, why));
  EXPECT_EQ(why, "the prefix length after '/' must be a number from 0 to 32");
  EXPECT_FALSE(parse_ip_network("fd00::/129", network, why));
  EXPECT_EQ(why, "the prefix length after '/' must be a number from 0 to 128");
  EXPECT_FALSE(parse_ip_network("10.0.0.0/", network, why));
  EXPECT_FALSE(parse_ip_network("10.0.0.0/8x", network, why));
  EXPECT_FALSE(parse_ip_network("localhost", network, why));
  EXPECT_EQ(why, "'localhost' is not an IPv4 or IPv6 address");
  EXPECT_FALSE(parse_ip_network("", network, why));
}

TEST(ForwardedAddress, AcceptedForms) {
  net::IpAddress out;
  EXPECT_TRUE(parse_forwarded_address("203.0.113.7", out));
  EXPECT_EQ(out, ip("203.0.113.7"));
  EXPECT_TRUE(parse_forwarded_address(" 203.0.113.7:5123 ", out));  // the seed's nginx config
  EXPECT_EQ(out, ip("203.0.113.7"));
  EXPECT_TRUE(parse_forwarded_address("2001:db8::7", out));
  EXPECT_EQ(out, ip("2001:db8::7"));
  EXPECT_TRUE(parse_forwarded_address("[2001:db8::7]:443", out));
  EXPECT_EQ(out, ip("2001:db8::7"));
  EXPECT_FALSE(parse_forwarded_address("unknown", out));
  EXPECT_FALSE(parse_forwarded_address("_hidden", out));
  EXPECT_FALSE(parse_forwarded_address("\"203.0.113.7\"", out));
  EXPECT_FALSE(parse_forwarded_address("203.0.113.7:80:80", out));
  EXPECT_FALSE(parse_forwarded_address("", out));
  EXPECT_FALSE(parse_forwarded_address("[2001:db8::7", out));
}

bool select(std::vector<std::string_view> values, const TrustedProxies& t, net::IpAddress& out) {
  return select_forwarded_for({values.data(), values.size()}, t, out);
}

TEST(ForwardedFor, RightMostUntrustedEntryIsTheClient) {
  const TrustedProxies t = trusted({"10.0.0.0/8", "127.0.0.1"});
  net::IpAddress out;
  // A client may write anything on the left; only what trusted hops appended counts.
  EXPECT_TRUE(select({"6.6.6.6, 203.0.113.7, 10.1.2.3"}, t, out));
  EXPECT_EQ(out, ip("203.0.113.7"));
  EXPECT_TRUE(select({"203.0.113.7"}, t, out));
  EXPECT_EQ(out, ip("203.0.113.7"));
  // Several header lines are one list, in order.
  EXPECT_TRUE(select({"6.6.6.6", "203.0.113.8, 10.0.0.1", "127.0.0.1"}, t, out));
  EXPECT_EQ(out, ip("203.0.113.8"));
  // Every hop trusted: the left-most is the best answer there is.
  EXPECT_TRUE(select({"10.0.0.9, 10.0.0.1"}, t, out));
  EXPECT_EQ(out, ip("10.0.0.9"));
  // Empty elements are skipped.
  EXPECT_TRUE(select({" , 203.0.113.7 ,, "}, t, out));
  EXPECT_EQ(out, ip("203.0.113.7"));
}

TEST(ForwardedFor, GarbageEndsTheWalk) {
  const TrustedProxies t = trusted({"10.0.0.0/8"});
  net::IpAddress out;
  EXPECT_FALSE(select({"203.0.113.7, unknown, 10.0.0.1"}, t, out));
  EXPECT_TRUE(select({"unknown, 203.0.113.7, 10.0.0.1"}, t, out));  // garbage left of the client
  EXPECT_EQ(out, ip("203.0.113.7"));
  EXPECT_FALSE(select({""}, t, out));
  EXPECT_FALSE(select({}, t, out));
}

proto::HttpRequestHead parse(std::string_view text) {
  proto::HttpRequestHead head;
  proto::HttpHeadParser parser;
  EXPECT_EQ(parser.parse(text, head), proto::HttpHeadParser::Status::done);
  return head;
}

TEST(ForwardedClient, ForwardedForBeatsRealIpAndRealIpIsTheFallback) {
  const TrustedProxies t = trusted({"127.0.0.1"});
  net::IpAddress out;
  auto head = parse("GET / HTTP/1.1\r\nHost: a\r\nX-Real-IP: 198.51.100.1\r\n"
                    "X-Forwarded-For: 203.0.113.7\r\n\r\n");
  EXPECT_TRUE(forwarded_client(head, t, out));
  EXPECT_EQ(out, ip("203.0.113.7"));
  head = parse("GET / HTTP/1.1\r\nHost: a\r\nX-Real-IP: 198.51.100.1\r\n\r\n");
  EXPECT_TRUE(forwarded_client(head, t, out));
  EXPECT_EQ(out, ip("198.51.100.1"));
  head = parse("GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: unknown\r\nX-Real-IP: 198.51.100.2\r\n\r\n");
  EXPECT_TRUE(forwarded_client(head, t, out));
  EXPECT_EQ(out, ip("198.51.100.2"));
  head = parse("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_FALSE(forwarded_client(head, t, out));
}

TEST(ForwardedClient, TooManyForwardedForLinesAreIgnored) {
  const TrustedProxies t = trusted({"127.0.0.1"});
  std::string text = "GET / HTTP/1.1\r\nHost: a\r\n";
  for (int i = 0; i < 9; ++i) text += "X-Forwarded-For: 203.0.113." + std::to_string(i) + "\r\n";
  text += "\r\n";
  net::IpAddress out;
  EXPECT_FALSE(forwarded_client(parse(text), t, out));
}

}  // namespace
}  // namespace wshub::server
