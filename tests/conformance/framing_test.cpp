// Autobahn group 1 (framing): text and binary messages at every length-encoding boundary,
// echoed byte for byte, whether the frame arrives in one write, in chunks or one byte at a
// time; plus the header rules of RFC 6455 §5.1-§5.2 a client can break (masking, minimal
// lengths, the 64-bit length's top bit) and bytes pipelined behind the upgrade request.
#include <string>
#include <vector>

#include "conformance.h"

namespace wshub::test {
namespace {

using namespace std::chrono_literals;
using proto::Opcode;

class Framing : public ConformanceTest {};

// 0 and 125: 7-bit lengths; 126..65535: 16-bit; 65536: 64-bit (§5.2).
class FramingLengths : public ConformanceTest, public ::testing::WithParamInterface<size_t> {};

// Cases 1.1.1-1.1.7.
TEST_P(FramingLengths, TextEchoedExactly) {
  auto client = connect();
  const std::string payload = utf8_text(GetParam());
  ASSERT_TRUE(client->send_text(payload));
  EXPECT_TRUE(receives_text(*client, payload));
  EXPECT_TRUE(closes_cleanly(*client));
}

// Cases 1.2.1-1.2.7.
TEST_P(FramingLengths, BinaryEchoedExactly) {
  auto client = connect();
  const std::string payload = binary_data(GetParam());
  ASSERT_TRUE(client->send_binary(payload));
  EXPECT_TRUE(receives_binary(*client, payload));
  EXPECT_TRUE(closes_cleanly(*client));
}

// The same frame with its bytes arriving in separate reads: every header split is exercised
// for the short lengths, chunks of 997 bytes (as in 1.1.8) for the long ones.
TEST_P(FramingLengths, BinarySentInChunks) {
  auto client = connect();
  const std::string payload = binary_data(GetParam());
  FrameSpec spec;
  spec.opcode = uint8_t(Opcode::binary);
  spec.payload = payload;
  ASSERT_TRUE(client->send_chunked(encode_frame(spec), GetParam() < 1000 ? 3 : 997, 1ms));
  EXPECT_TRUE(receives_binary(*client, payload));
  EXPECT_TRUE(closes_cleanly(*client));
}

INSTANTIATE_TEST_SUITE_P(Lengths, FramingLengths,
                         ::testing::Values(0, 125, 126, 127, 128, 65535, 65536),
                         [](const auto& info) { return "len" + std::to_string(info.param); });

// Case 1.1.8: 65536 bytes of text in chops of 997 octets.
TEST_F(Framing, Text64KiBInChopsOf997) {
  auto client = connect();
  const std::string payload = utf8_text(65536);
  ASSERT_TRUE(client->send_chunked(encode_frame({.payload = payload}), 997));
  EXPECT_TRUE(receives_text(*client, payload));
  EXPECT_TRUE(closes_cleanly(*client));
}

// Case 1.2.8: the same for binary.
TEST_F(Framing, Binary64KiBInChopsOf997) {
  auto client = connect();
  const std::string payload = binary_data(65536);
  ASSERT_TRUE(client->send_chunked(
      encode_frame({.opcode = uint8_t(Opcode::binary), .payload = payload}), 997));
  EXPECT_TRUE(receives_binary(*client, payload));
  EXPECT_TRUE(closes_cleanly(*client));
}

// Every byte its own TCP segment, header included, for each length encoding.
TEST_F(Framing, FramesSentByteByByte) {
  auto client = connect();
  for (size_t size : {size_t(5), size_t(126), size_t(300)}) {
    SCOPED_TRACE("payload " + std::to_string(size));
    const std::string text = utf8_text(size);
    ASSERT_TRUE(client->send_chunked(encode_frame({.payload = text}), 1));
    EXPECT_TRUE(receives_text(*client, text));
    const std::string binary = binary_data(size);
    ASSERT_TRUE(client->send_chunked(
        encode_frame({.opcode = uint8_t(Opcode::binary), .payload = binary}), 1));
    EXPECT_TRUE(receives_binary(*client, binary));
  }
  EXPECT_TRUE(closes_cleanly(*client));
}

// A 64-bit-length header split in two at every point, with a pause between the halves.
TEST_F(Framing, HeaderSplitAtEveryPoint) {
  auto client = connect();
  const std::string payload = binary_data(70000);
  const WireBytes frame = encode_frame({.opcode = uint8_t(Opcode::binary), .payload = payload});
  for (size_t cut = 1; cut <= 14; ++cut) {
    SCOPED_TRACE("cut after byte " + std::to_string(cut));
    ASSERT_TRUE(client->send_raw(Bytes(frame).first(cut)));
    std::this_thread::sleep_for(5ms);
    ASSERT_TRUE(client->send_raw(Bytes(frame).subspan(cut)));
    EXPECT_TRUE(receives_binary(*client, payload));
  }
  EXPECT_TRUE(closes_cleanly(*client));
}

// Several frames in one write are several messages, answered in order.
TEST_F(Framing, PipelinedMessagesEchoedInOrder) {
  auto client = connect();
  WireBytes burst;
  std::vector<std::string> payloads;
  for (size_t i = 0; i < 200; ++i) payloads.push_back(utf8_text(i * 7 % 300));
  for (size_t i = 0; i < payloads.size(); ++i) {
    const Opcode opcode = i % 2 ? Opcode::binary : Opcode::text;
    append(burst, encode_frame({.opcode = uint8_t(opcode), .payload = payloads[i],
                                .mask_key = uint32_t(i * 0x01010101u + 7)}));
  }
  ASSERT_TRUE(client->send_raw(burst));
  for (size_t i = 0; i < payloads.size(); ++i) {
    SCOPED_TRACE("message " + std::to_string(i));
    ASSERT_TRUE(receives_message(*client, i % 2 ? Opcode::binary : Opcode::text, payloads[i]));
  }
  EXPECT_TRUE(closes_cleanly(*client));
}

// Frame bytes sent in the same write as the upgrade request are the first frame, not lost.
TEST_F(Framing, FrameInTheUpgradeRequestsWriteIsEchoed) {
  TestClient client(server().port());
  const WireBytes frame = encode_frame({.payload = "sent with the request"});
  const HandshakeResponse response = client.handshake("/echo", {}, kDefaultWait, frame);
  ASSERT_TRUE(response.ok()) << response.error << "\n" << response.head;
  EXPECT_TRUE(receives_text(client, "sent with the request"));
  EXPECT_TRUE(closes_cleanly(client));
}

// §5.1: a server MUST close the connection on an unmasked client frame.
TEST_F(Framing, UnmaskedFrameIsProtocolError) {
  auto client = connect();
  ASSERT_TRUE(client->send_frame({.payload = "not masked", .masked = false}));
  EXPECT_TRUE(closes_with(*client, 1002));
}

// §5.2: "the minimal number of bytes MUST be used to encode the length".
TEST_F(Framing, NonMinimal16BitLengthIsProtocolError) {
  auto client = connect();
  ASSERT_TRUE(client->send_frame({.payload = "short", .form = LengthForm::force16}));
  EXPECT_TRUE(closes_with(*client, 1002));
}

TEST_F(Framing, NonMinimal64BitLengthIsProtocolError) {
  auto client = connect();
  ASSERT_TRUE(client->send_frame(
      {.opcode = uint8_t(Opcode::binary), .payload = binary_data(300), .form = LengthForm::force64}));
  EXPECT_TRUE(closes_with(*client, 1002));
}

// §5.2: "the most significant bit MUST be 0" in a 64-bit length.
TEST_F(Framing, LengthWithTopBitSetIsProtocolError) {
  auto client = connect();
  ASSERT_TRUE(client->send_raw(encode_frame_header(
      {.opcode = uint8_t(Opcode::binary), .declared_length = uint64_t(1) << 63})));
  EXPECT_TRUE(closes_with(*client, 1002));
}

}  // namespace
}  // namespace wshub::test
