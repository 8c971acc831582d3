#include "source_ips.h"

#include <gtest/gtest.h>

namespace wshub::load {
namespace {

constexpr uint32_t ip(uint32_t a, uint32_t b, uint32_t c, uint32_t d) { return a << 24 | b << 16 | c << 8 | d; }

TEST(SourceIps, Range) {
  std::vector<uint32_t> out;
  std::string why;
  ASSERT_TRUE(parse_source_ips("127.0.0.1-127.0.0.8", out, why)) << why;
  ASSERT_EQ(out.size(), 8u);
  EXPECT_EQ(out.front(), ip(127, 0, 0, 1));
  EXPECT_EQ(out.back(), ip(127, 0, 0, 8));
}

TEST(SourceIps, SingleAddressesListsAndRangesAcrossOctets) {
  std::vector<uint32_t> out;
  std::string why;
  ASSERT_TRUE(parse_source_ips("127.0.0.9, 127.0.0.255-127.0.1.1,127.1.2.3", out, why)) << why;
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(out[0], ip(127, 0, 0, 9));
  EXPECT_EQ(out[1], ip(127, 0, 0, 255));
  EXPECT_EQ(out[2], ip(127, 0, 1, 0));
  EXPECT_EQ(out[3], ip(127, 0, 1, 1));
  EXPECT_EQ(out[4], ip(127, 1, 2, 3));
}

TEST(SourceIps, RefusesNonLoopback) {
  std::vector<uint32_t> out;
  std::string why;
  EXPECT_FALSE(parse_source_ips("10.0.0.1", out, why));
  EXPECT_NE(why.find("127.0.0.0/8"), std::string::npos) << why;
  EXPECT_FALSE(parse_source_ips("127.0.0.1-128.0.0.1", out, why));
}

TEST(SourceIps, RefusesMalformed) {
  std::vector<uint32_t> out;
  std::string why;
  for (const char* bad : {"", " ", "127.0.0", "127.0.0.1.2", "127.0.0.256", "127.0.0.01", "127.0.0.1-",
                          "127.0.0.8-127.0.0.1", "127.0.0.1,", "localhost", "127.0.0.-1", "127.0.0.1--127.0.0.2"}) {
    out.clear();
    EXPECT_FALSE(parse_source_ips(bad, out, why)) << bad;
  }
}

TEST(SourceIps, CapsTheCount) {
  std::vector<uint32_t> out;
  std::string why;
  EXPECT_FALSE(parse_source_ips("127.0.0.0-127.255.255.255", out, why));
  EXPECT_NE(why.find("more than"), std::string::npos);
}

TEST(Ipv4, RoundTrip) {
  uint32_t address = 0;
  ASSERT_TRUE(parse_ipv4("127.10.20.30", address));
  EXPECT_EQ(format_ipv4(address), "127.10.20.30");
  EXPECT_FALSE(parse_ipv4("1.2.3.4 ", address));
}

}  // namespace
}  // namespace wshub::load
