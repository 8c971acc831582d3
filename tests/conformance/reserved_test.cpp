// Autobahn groups 3 and 4: reserved header bits and reserved opcodes (RFC 6455 §5.2). With no
// extension negotiated, any RSV bit or any opcode in 3-7 or 11-15 fails the connection with
// 1002, whether the frame comes first, after a valid exchange, or one byte at a time; a ping
// queued behind the bad frame is never answered.
#include <string>

#include "conformance.h"

namespace wshub::test {
namespace {

using namespace std::chrono_literals;
using proto::Opcode;

// The RSV bits as Autobahn numbers them (1..7) placed in the first header byte.
class ReservedBits : public ConformanceTest, public ::testing::WithParamInterface<uint8_t> {
 protected:
  uint8_t rsv() const { return uint8_t(GetParam() << 4); }
};

// Case 3.1 (text), 3.5 (binary), 3.6 (ping), 3.7 (close) for every combination of bits.
TEST_P(ReservedBits, OnTextFrame) {
  auto client = connect();
  ASSERT_TRUE(client->send_frame({.payload = "Hello, world!", .rsv = rsv()}));
  EXPECT_TRUE(closes_with(*client, 1002));
}

TEST_P(ReservedBits, OnBinaryFrame) {
  auto client = connect();
  ASSERT_TRUE(client->send_frame(
      {.opcode = uint8_t(Opcode::binary), .payload = binary_data(8), .rsv = rsv()}));
  EXPECT_TRUE(closes_with(*client, 1002));
}

TEST_P(ReservedBits, OnPingGetsNoPong) {
  auto client = connect();
  ASSERT_TRUE(client->send_frame(
      {.opcode = uint8_t(Opcode::ping), .payload = "Hello, world!", .rsv = rsv()}));
  EXPECT_TRUE(closes_with(*client, 1002));
}

TEST_P(ReservedBits, OnCloseFrame) {
  auto client = connect();
  const std::string payload = close_payload(1000);
  ASSERT_TRUE(client->send_frame(
      {.opcode = uint8_t(Opcode::close), .payload = payload, .rsv = rsv()}));
  EXPECT_TRUE(closes_with(*client, 1002));
}

TEST_P(ReservedBits, OnContinuationFrame) {
  auto client = connect();
  ASSERT_TRUE(client->send_text("first ", /*fin=*/false));
  ASSERT_TRUE(client->send_frame(
      {.opcode = uint8_t(Opcode::continuation), .payload = "second", .rsv = rsv()}));
  EXPECT_TRUE(closes_with(*client, 1002));
}

// The bad frame, a valid echo before it and a ping after it, all in one write.
WireBytes echo_bad_frame_ping(uint8_t rsv) {
  WireBytes bytes = encode_frame({.payload = "Hello, world!"});
  append(bytes, encode_frame({.payload = "Hello, world!", .rsv = rsv}));
  append(bytes, encode_frame({.opcode = uint8_t(Opcode::ping), .payload = "ping"}));
  return bytes;
}

// Case 3.2: the valid message is echoed, the ping after the bad frame is not answered.
TEST_P(ReservedBits, AfterValidEchoInOneWrite) {
  auto client = connect();
  ASSERT_TRUE(client->send_raw(echo_bad_frame_ping(rsv())));
  EXPECT_TRUE(receives_text(*client, "Hello, world!"));
  EXPECT_TRUE(closes_with(*client, 1002));
}

// Case 3.3: the same, in chops of one octet.
TEST_P(ReservedBits, AfterValidEchoByteByByte) {
  auto client = connect();
  // The server may close before the last bytes are written: only the answer matters.
  client->send_chunked(echo_bad_frame_ping(rsv()), 1);
  EXPECT_TRUE(receives_text(*client, "Hello, world!"));
  EXPECT_TRUE(closes_with(*client, 1002));
}

// Case 3.4: the same, frame by frame with pauses, after the echo arrived.
TEST_P(ReservedBits, AfterValidEchoWithPauses) {
  auto client = connect();
  ASSERT_TRUE(client->send_text("Hello, world!"));
  EXPECT_TRUE(receives_text(*client, "Hello, world!"));
  // Chopped so the bad bits arrive before the rest of the frame; the server may stop reading
  // at once, so the sends' results do not matter, only the answer does.
  client->send_chunked(encode_frame({.payload = "Hello, world!", .rsv = rsv()}), 3, 5ms);
  client->send_ping("ping");
  EXPECT_TRUE(closes_with(*client, 1002));
}

INSTANTIATE_TEST_SUITE_P(Rsv, ReservedBits, ::testing::Range(uint8_t(1), uint8_t(8)),
                         [](const auto& info) { return "rsv" + std::to_string(info.param); });

class ReservedOpcodes : public ConformanceTest, public ::testing::WithParamInterface<uint8_t> {};

// Cases 4.1.1 and 4.2.1: the reserved opcode with no payload.
TEST_P(ReservedOpcodes, EmptyFrame) {
  auto client = connect();
  ASSERT_TRUE(client->send_frame({.opcode = GetParam()}));
  EXPECT_TRUE(closes_with(*client, 1002));
}

// Cases 4.1.2 and 4.2.2: with a payload.
TEST_P(ReservedOpcodes, FrameWithPayload) {
  auto client = connect();
  ASSERT_TRUE(client->send_frame({.opcode = GetParam(), .payload = "reserved opcode payload"}));
  EXPECT_TRUE(closes_with(*client, 1002));
}

// Cases 4.1.3 and 4.2.3: after a valid echo, followed by a ping that gets no pong.
TEST_P(ReservedOpcodes, AfterValidEchoThenPing) {
  auto client = connect();
  WireBytes bytes = encode_frame({.payload = "Hello, world!"});
  append(bytes, encode_frame({.opcode = GetParam()}));
  append(bytes, encode_frame({.opcode = uint8_t(Opcode::ping), .payload = "ping"}));
  ASSERT_TRUE(client->send_raw(bytes));
  EXPECT_TRUE(receives_text(*client, "Hello, world!"));
  EXPECT_TRUE(closes_with(*client, 1002));
}

// Cases 4.1.4-4.1.5 and 4.2.4-4.2.5: the same in chops of one octet.
TEST_P(ReservedOpcodes, AfterValidEchoByteByByte) {
  auto client = connect();
  WireBytes bytes = encode_frame({.payload = "Hello, world!"});
  append(bytes, encode_frame({.opcode = GetParam(), .payload = "reserved opcode payload"}));
  append(bytes, encode_frame({.opcode = uint8_t(Opcode::ping), .payload = "ping"}));
  client->send_chunked(bytes, 1);
  EXPECT_TRUE(receives_text(*client, "Hello, world!"));
  EXPECT_TRUE(closes_with(*client, 1002));
}

// Inside a fragmented message the reserved opcode is just as fatal.
TEST_P(ReservedOpcodes, BetweenFragments) {
  auto client = connect();
  ASSERT_TRUE(client->send_text("first ", /*fin=*/false));
  ASSERT_TRUE(client->send_frame({.opcode = GetParam(), .payload = "x"}));
  EXPECT_TRUE(closes_with(*client, 1002));
}

INSTANTIATE_TEST_SUITE_P(Opcodes, ReservedOpcodes,
                         ::testing::Values(3, 4, 5, 6, 7, 11, 12, 13, 14, 15),
                         [](const auto& info) { return "op" + std::to_string(info.param); });

}  // namespace
}  // namespace wshub::test
