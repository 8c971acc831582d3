// Autobahn group 2 (pings and pongs, RFC 6455 §5.5.2-§5.5.3): every ping is answered by a pong
// with the same payload, in order, however its bytes arrive; a ping over 125 bytes is a
// protocol error; an unsolicited pong is ignored. Also the server's own keep-alive ping.
#include <string>

#include "conformance.h"

namespace wshub::test {
namespace {

using namespace std::chrono_literals;
using proto::Opcode;

class PingPong : public ConformanceTest {};

// Case 2.1.
TEST_F(PingPong, EmptyPingGetsEmptyPong) {
  auto client = connect();
  ASSERT_TRUE(client->send_ping());
  EXPECT_TRUE(receives_pong(*client, ""));
  EXPECT_TRUE(closes_cleanly(*client));
}

// Case 2.2.
TEST_F(PingPong, TextPayloadReturnedInPong) {
  auto client = connect();
  ASSERT_TRUE(client->send_ping("Hello, world!"));
  EXPECT_TRUE(receives_pong(*client, "Hello, world!"));
  EXPECT_TRUE(closes_cleanly(*client));
}

// Case 2.3: a ping payload is binary, not UTF-8.
TEST_F(PingPong, BinaryPayloadReturnedInPong) {
  auto client = connect();
  const std::string payload("\x00\xff\xfe\xfd\xfc\xfb\x00\xff", 8);
  ASSERT_TRUE(client->send_ping(payload));
  EXPECT_TRUE(receives_pong(*client, payload));
  EXPECT_TRUE(closes_cleanly(*client));
}

// Case 2.4: 125 bytes is the largest control payload (§5.5).
TEST_F(PingPong, Ping125BytesGetsPong125Bytes) {
  auto client = connect();
  const std::string payload = binary_data(125);
  ASSERT_TRUE(client->send_ping(payload));
  EXPECT_TRUE(receives_pong(*client, payload));
  EXPECT_TRUE(closes_cleanly(*client));
}

// Case 2.5: a 126-byte ping needs the 16-bit length form, which control frames may not use.
TEST_F(PingPong, Ping126BytesIsProtocolError) {
  auto client = connect();
  ASSERT_TRUE(client->send_ping(binary_data(126)));
  EXPECT_TRUE(closes_with(*client, 1002));
}

// The same limit when the length is written in the 64-bit form.
TEST_F(PingPong, PingWith64BitLengthIsProtocolError) {
  auto client = connect();
  ASSERT_TRUE(client->send_frame(
      {.opcode = uint8_t(Opcode::ping), .payload = binary_data(70000)}));
  EXPECT_TRUE(closes_with(*client, 1002));
}

// Case 2.6: a 125-byte ping in chops of one byte.
TEST_F(PingPong, Ping125BytesSentByteByByte) {
  auto client = connect();
  const std::string payload = binary_data(125);
  ASSERT_TRUE(client->send_chunked(
      encode_frame({.opcode = uint8_t(Opcode::ping), .payload = payload}), 1, 1ms));
  EXPECT_TRUE(receives_pong(*client, payload));
  EXPECT_TRUE(closes_cleanly(*client));
}

// Case 2.7: an unsolicited pong gets no answer; the echo that follows is the next event.
TEST_F(PingPong, UnsolicitedEmptyPongIgnored) {
  auto client = connect();
  ASSERT_TRUE(client->send_pong());
  ASSERT_TRUE(client->send_text("after the pong"));
  EXPECT_TRUE(receives_text(*client, "after the pong"));
  EXPECT_TRUE(closes_cleanly(*client));
}

// Case 2.8.
TEST_F(PingPong, UnsolicitedPongWithPayloadIgnored) {
  auto client = connect();
  ASSERT_TRUE(client->send_pong("unsolicited pong payload"));
  ASSERT_TRUE(client->send_binary(binary_data(10)));
  EXPECT_TRUE(receives_binary(*client, binary_data(10)));
  EXPECT_TRUE(closes_cleanly(*client));
}

// Case 2.9: the pong answers the ping only, not the pong before it.
TEST_F(PingPong, UnsolicitedPongThenPingGetsOnePong) {
  auto client = connect();
  ASSERT_TRUE(client->send_pong("unsolicited pong payload"));
  ASSERT_TRUE(client->send_ping("ping payload"));
  EXPECT_TRUE(receives_pong(*client, "ping payload"));
  ASSERT_TRUE(client->send_text("next"));
  EXPECT_TRUE(receives_text(*client, "next"));
  EXPECT_TRUE(closes_cleanly(*client));
}

// Case 2.10: ten pings in one write, ten pongs in the same order.
TEST_F(PingPong, TenPingsInOneWriteGetTenPongsInOrder) {
  auto client = connect();
  WireBytes burst;
  std::string payloads[10];
  for (int i = 0; i < 10; ++i) {
    payloads[i] = "payload-" + std::to_string(i);
    append(burst, encode_frame({.opcode = uint8_t(Opcode::ping), .payload = payloads[i]}));
  }
  ASSERT_TRUE(client->send_raw(burst));
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(receives_pong(*client, payloads[i])) << "pong " << i;
  EXPECT_TRUE(closes_cleanly(*client));
}

// Case 2.11: the same ten pings in chops of one byte.
TEST_F(PingPong, TenPingsByteByByteGetTenPongsInOrder) {
  auto client = connect();
  WireBytes burst;
  std::string payloads[10];
  for (int i = 0; i < 10; ++i) {
    payloads[i] = "payload-" + std::to_string(i);
    append(burst, encode_frame({.opcode = uint8_t(Opcode::ping), .payload = payloads[i]}));
  }
  ASSERT_TRUE(client->send_chunked(burst, 1));
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(receives_pong(*client, payloads[i])) << "pong " << i;
  EXPECT_TRUE(closes_cleanly(*client));
}

// Pings and messages interleaved in one write keep their order.
TEST_F(PingPong, PingsAndMessagesAnsweredInOrder) {
  auto client = connect();
  WireBytes burst;
  append(burst, encode_frame({.payload = "one"}));
  append(burst, encode_frame({.opcode = uint8_t(Opcode::ping), .payload = "p1"}));
  append(burst, encode_frame({.opcode = uint8_t(Opcode::binary), .payload = "two"}));
  append(burst, encode_frame({.opcode = uint8_t(Opcode::ping), .payload = "p2"}));
  ASSERT_TRUE(client->send_raw(burst));
  EXPECT_TRUE(receives_text(*client, "one"));
  EXPECT_TRUE(receives_pong(*client, "p1"));
  EXPECT_TRUE(receives_binary(*client, "two"));
  EXPECT_TRUE(receives_pong(*client, "p2"));
  EXPECT_TRUE(closes_cleanly(*client));
}

// The server's keep-alive: a quiet connection is pinged after limits.ping_interval_ms, and a
// client that answers with a pong stays open.
class ServerPing : public ConformanceTest {
 public:
  static void SetUpTestSuite() {
    start_server("[limits]\nping_interval_ms = 1000\nidle_timeout_ms = 60000\n");
  }
};

TEST_F(ServerPing, QuietConnectionIsPingedAndStaysOpenAfterPong) {
  auto client = connect();
  const Incoming ping = client->next();
  ASSERT_EQ(ping.kind, Incoming::Kind::ping) << ping;
  ASSERT_TRUE(client->send_pong(ping.payload));
  ASSERT_TRUE(client->send_text("still here"));
  // On a loaded machine this client may be descheduled past the next interval: the server then
  // pings again, which is right; each ping is answered, and the echo must still come.
  Incoming next = client->next();
  for (int pings = 0; next.kind == Incoming::Kind::ping && pings < 5; ++pings) {
    ASSERT_TRUE(client->send_pong(next.payload));
    next = client->next();
  }
  EXPECT_TRUE(next.is_text("still here")) << next;
  EXPECT_TRUE(closes_cleanly(*client));
}

}  // namespace
}  // namespace wshub::test
