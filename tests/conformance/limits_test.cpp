// Autobahn groups 9 (large messages) and 10 (the server's own framing), and the limits a
// server must enforce before allocating (docs: limits.max_frame_bytes, max_message_bytes,
// max_fragments): messages up to the default 16 MiB are echoed exactly, however fragmented;
// past a limit the connection fails with 1009 (size) or 1008 (fragment count), decided on the
// frame header, so a header declaring 2^63-1 bytes costs the server nothing.
#include <string>
#include <vector>

#include "conformance.h"

namespace wshub::test {
namespace {

using namespace std::chrono_literals;
using proto::Opcode;

constexpr size_t kKiB = 1024, kMiB = 1024 * 1024;
constexpr milliseconds kLargeMessageWait{180000};

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

// size, opcode, fragment size (0: one frame).
struct LargeCase {
  size_t size;
  Opcode opcode;
  size_t fragment;
};

std::ostream& operator<<(std::ostream& os, const LargeCase& c) {
  return os << c.size << " bytes of " << (c.opcode == Opcode::text ? "text" : "binary") << " in "
            << (c.fragment ? std::to_string(c.fragment) + "-byte fragments" : "one frame");
}

std::string large_case_name(const ::testing::TestParamInfo<LargeCase>& info) {
  const LargeCase& c = info.param;
  return std::string(c.opcode == Opcode::text ? "text" : "binary") + "_" +
         std::to_string(c.size / kMiB) + "MiB_" +
         (c.fragment >= kKiB ? "in_" + std::to_string(c.fragment / kKiB) + "KiB_fragments"
          : c.fragment       ? "in_" + std::to_string(c.fragment) + "B_fragments"
                             : std::string("one_frame"));
}

class LargeMessages : public ConformanceTest, public ::testing::WithParamInterface<LargeCase> {};

// Cases 9.1.x-9.4.x: text and binary of 1, 4 and 16 MiB (the default limit), in one frame and
// in 64 KiB and 4 KiB fragments.
TEST_P(LargeMessages, EchoedExactly) {
  const LargeCase& c = GetParam();
  auto client = connect();
  const std::string payload = c.opcode == Opcode::text ? utf8_text(c.size) : binary_data(c.size);
  const WireBytes bytes = c.fragment
                              ? encode_fragmented(c.opcode, payload, c.fragment)
                              : encode_frame({.opcode = uint8_t(c.opcode), .payload = payload});
  ASSERT_TRUE(client->send_raw(bytes)) << client->errno_text();
  // Correctness, not speed: a sanitizer build on a busy machine may take a while.
  EXPECT_TRUE(receives_message(*client, c.opcode, payload, kLargeMessageWait));
  EXPECT_TRUE(closes_cleanly(*client));
}

std::vector<LargeCase> large_cases() {
  std::vector<LargeCase> cases;
  for (size_t size : {1 * kMiB, 4 * kMiB, 16 * kMiB})
    for (Opcode opcode : {Opcode::text, Opcode::binary})
      for (size_t fragment : {size_t(0), 64 * kKiB, 4 * kKiB}) cases.push_back({size, opcode, fragment});
  // Cases 9.3.1 and 9.4.1: 4 MiB in 64-byte fragments (65536 of them, within the default
  // limits.max_fragments), and 9.3.2/9.4.2 in 256-byte fragments.
  for (Opcode opcode : {Opcode::text, Opcode::binary})
    for (size_t fragment : {size_t(64), size_t(256)}) cases.push_back({4 * kMiB, opcode, fragment});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Autobahn9, LargeMessages, ::testing::ValuesIn(large_cases()),
                         large_case_name);

class Limits : public ConformanceTest {};

// Cases 9.5.x-9.6.x: a 1 MiB message in chops of 1300 bytes (as 10.1.1 sends its message),
// and case 10.1.1: however the server frames its echo, the client gets the same message back.
TEST_F(Limits, MessageInChopsEchoedIntactWhateverTheServersFraming) {
  auto client = connect();
  for (Opcode opcode : {Opcode::text, Opcode::binary}) {
    const std::string payload = opcode == Opcode::text ? utf8_text(kMiB) : binary_data(kMiB);
    ASSERT_TRUE(client->send_chunked(encode_frame({.opcode = uint8_t(opcode), .payload = payload}),
                                     1300));
    EXPECT_TRUE(receives_message(*client, opcode, payload));
  }
  EXPECT_TRUE(closes_cleanly(*client));
}

// Cases 9.7.x-9.8.x: many small messages, each sent only after the previous echo arrived.
TEST_F(Limits, ThousandRoundTrips) {
  auto client = connect();
  for (size_t i = 0; i < 1000; ++i) {
    const std::string payload = i % 2 ? binary_data(i % 128) : utf8_text(i % 128);
    const Opcode opcode = i % 2 ? Opcode::binary : Opcode::text;
    ASSERT_TRUE(client->send_frame({.opcode = uint8_t(opcode), .payload = payload}));
    ASSERT_TRUE(receives_message(*client, opcode, payload)) << "round trip " << i;
  }
  EXPECT_TRUE(closes_cleanly(*client));
}

// One byte over the default 16 MiB: refused on the header, the payload never needed.
TEST_F(Limits, DefaultLimitRefusesOneByteMoreOnTheHeader) {
  auto client = connect();
  ASSERT_TRUE(client->send_raw(
      encode_frame_header({.opcode = uint8_t(Opcode::binary), .declared_length = 16 * kMiB + 1})));
  EXPECT_TRUE(closes_with(*client, 1009));
}

// A header declaring 2^63-1 bytes (the largest legal length): 1009 at once, and the server's
// memory does not follow the declared length.
TEST_F(Limits, HugeDeclaredLengthRefusedWithoutAllocating) {
  const uint64_t before = server().resident_bytes();
  for (Opcode opcode : {Opcode::text, Opcode::binary}) {
    auto client = connect();
    WireBytes bytes = encode_frame_header(
        {.opcode = uint8_t(opcode), .declared_length = (uint64_t(1) << 63) - 1});
    bytes.resize(bytes.size() + 64 * kKiB, 'a');  // some payload, as an attacker would send
    client->send_raw(bytes);
    EXPECT_TRUE(closes_with(*client, 1009));
  }
  const uint64_t after = server().resident_bytes();
  ASSERT_GT(before, 0u) << "cannot read the server's VmRSS";
  EXPECT_LT(after, before + 32 * kMiB) << "VmRSS grew from " << before << " to " << after;
  // And the server still serves.
  auto client = connect();
  ASSERT_TRUE(client->send_text("still serving"));
  EXPECT_TRUE(receives_text(*client, "still serving"));
  EXPECT_TRUE(closes_cleanly(*client));
}

// The same huge length as a continuation of a message in progress.
TEST_F(Limits, HugeDeclaredContinuationRefused) {
  auto client = connect();
  ASSERT_TRUE(client->send_binary("start", false));
  ASSERT_TRUE(client->send_raw(encode_frame_header(
      {.opcode = 0, .fin = false, .declared_length = (uint64_t(1) << 63) - 1})));
  EXPECT_TRUE(closes_with(*client, 1009));
}

// Small limits, so that each is reached with a few bytes.
class SmallLimits : public ConformanceTest {
 public:
  static constexpr size_t kFrame = 1024, kMessage = 4096, kFragments = 8;
  static void SetUpTestSuite() {
    start_server("[limits]\nping_interval_ms = 0\nmax_frame_bytes = 1024\nmax_message_bytes = 4096\n"
                 "max_fragments = 8\nclose_timeout_ms = 2000\n");
  }
};

TEST_F(SmallLimits, FrameAtTheLimitEchoed) {
  auto client = connect();
  const std::string payload = binary_data(kFrame);
  ASSERT_TRUE(client->send_binary(payload));
  EXPECT_TRUE(receives_binary(*client, payload));
  EXPECT_TRUE(closes_cleanly(*client));
}

TEST_F(SmallLimits, FrameOverTheLimitFailsWith1009) {
  for (Opcode opcode : {Opcode::text, Opcode::binary}) {
    auto client = connect();
    const std::string payload = utf8_text(kFrame + 1);
    client->send_frame({.opcode = uint8_t(opcode), .payload = payload});
    EXPECT_TRUE(closes_with(*client, 1009));
  }
}

// The header alone decides: the close comes before any payload byte is sent.
TEST_F(SmallLimits, FrameOverTheLimitRefusedOnItsHeader) {
  auto client = connect();
  ASSERT_TRUE(client->send_raw(
      encode_frame_header({.opcode = uint8_t(Opcode::binary), .declared_length = kFrame + 1})));
  EXPECT_TRUE(closes_with(*client, 1009));
}

TEST_F(SmallLimits, MessageAtTheLimitAcrossFragmentsEchoed) {
  auto client = connect();
  const std::string payload = utf8_text(kMessage);
  ASSERT_TRUE(client->send_raw(encode_fragmented(Opcode::text, payload, kFrame)));
  EXPECT_TRUE(receives_text(*client, payload));
  EXPECT_TRUE(closes_cleanly(*client));
}

// Four full fragments reach the message limit; one more byte fails the message, without the
// final fragment ever being sent.
TEST_F(SmallLimits, MessageOverTheLimitAcrossFragmentsFailsWith1009) {
  auto client = connect();
  const std::string fragment = binary_data(kFrame);
  ASSERT_TRUE(client->send_binary(fragment, false));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(client->send_continuation(fragment, false));
  ASSERT_TRUE(client->send_continuation("x", false));
  EXPECT_TRUE(closes_with(*client, 1009));
}

TEST_F(SmallLimits, FragmentsAtTheLimitEchoed) {
  auto client = connect();
  const std::string payload = "12345678";
  ASSERT_TRUE(client->send_raw(encode_fragmented(Opcode::text, payload, 1)));
  EXPECT_TRUE(receives_text(*client, payload));
  EXPECT_TRUE(closes_cleanly(*client));
}

// Control frames between fragments are not fragments of the message.
TEST_F(SmallLimits, PingsBetweenFragmentsDoNotCount) {
  auto client = connect();
  for (size_t i = 0; i < kFragments; ++i) {
    FrameSpec spec{.opcode = uint8_t(i ? Opcode::continuation : Opcode::binary),
                   .payload = "ab", .fin = i + 1 == kFragments};
    ASSERT_TRUE(client->send_frame(spec));
    if (spec.fin) break;
    ASSERT_TRUE(client->send_ping(std::to_string(i)));
    EXPECT_TRUE(receives_pong(*client, std::to_string(i)));
  }
  std::string expected;
  for (size_t i = 0; i < kFragments; ++i) expected += "ab";
  EXPECT_TRUE(receives_binary(*client, expected));
  EXPECT_TRUE(closes_cleanly(*client));
}

// Fragment nine fails the message with 1008 on its header, final fragment never sent; empty
// fragments count as well, or a peer could send them forever.
TEST_F(SmallLimits, TooManyFragmentsFailsWith1008) {
  for (size_t fragment_size : {size_t(1), size_t(0)}) {
    SCOPED_TRACE(fragment_size ? "1-byte fragments" : "empty fragments");
    auto client = connect();
    WireBytes bytes;
    for (size_t i = 0; i <= kFragments; ++i)
      append(bytes, encode_frame({.opcode = uint8_t(i ? Opcode::continuation : Opcode::text),
                                  .payload = std::string_view("x", fragment_size), .fin = false}));
    ASSERT_TRUE(client->send_raw(bytes));
    EXPECT_TRUE(closes_with(*client, 1008));
  }
}

}  // namespace
}  // namespace wshub::test
