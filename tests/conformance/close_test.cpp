// Autobahn group 7 (the close handshake, RFC 6455 §5.5.1, §7): the server answers a close with
// a close carrying the same code (or none when ours had none), ignores whatever follows our
// close, refuses malformed close frames (1-byte payload, codes that may not be sent, reasons
// that are not UTF-8, payloads over 125 bytes) and then closes TCP itself; and when it closes
// first, it waits only limits.close_timeout_ms for the answer.
#include <string>

#include "conformance.h"

namespace wshub::test {
namespace {

using namespace std::chrono_literals;
using proto::Opcode;

class Close : public ConformanceTest {};

// Case 7.1.1: a message, then a normal close.
TEST_F(Close, EchoThenNormalClose) {
  auto client = connect();
  ASSERT_TRUE(client->send_text("Hello World!"));
  EXPECT_TRUE(receives_text(*client, "Hello World!"));
  EXPECT_TRUE(closes_cleanly(*client));
}

// Case 7.1.2: a second close after the first is ignored.
TEST_F(Close, SecondCloseIgnored) {
  auto client = connect();
  WireBytes bytes = encode_frame({.opcode = uint8_t(Opcode::close), .payload = close_payload(1000)});
  append(bytes, encode_frame({.opcode = uint8_t(Opcode::close), .payload = close_payload(1001)}));
  ASSERT_TRUE(client->send_raw(bytes));
  EXPECT_TRUE(closes_with(*client, 1000));
}

// Case 7.1.3: a ping after our close gets no pong.
TEST_F(Close, PingAfterCloseIgnored) {
  auto client = connect();
  WireBytes bytes = encode_frame({.opcode = uint8_t(Opcode::close), .payload = close_payload(1000)});
  append(bytes, encode_frame({.opcode = uint8_t(Opcode::ping), .payload = "Hello World!"}));
  ASSERT_TRUE(client->send_raw(bytes));
  EXPECT_TRUE(closes_with(*client, 1000));
}

// Case 7.1.4: a text message after our close is not echoed.
TEST_F(Close, TextAfterCloseIgnored) {
  auto client = connect();
  WireBytes bytes = encode_frame({.opcode = uint8_t(Opcode::close), .payload = close_payload(1000)});
  append(bytes, encode_frame({.payload = "Hello World!"}));
  ASSERT_TRUE(client->send_raw(bytes));
  EXPECT_TRUE(closes_with(*client, 1000));
}

// The same when the data frame comes after the server's answering close arrived.
TEST_F(Close, TextAfterTheServersCloseIgnored) {
  auto client = connect();
  ASSERT_TRUE(client->send_close(1000));
  const Incoming close = client->next();
  ASSERT_EQ(close.kind, Incoming::Kind::close) << close;
  client->send_text("too late");
  EXPECT_TRUE(server_closes_tcp(*client));
}

// Case 7.1.5: a close between the fragments of a message: the message is never delivered.
TEST_F(Close, CloseInsideFragmentedMessage) {
  auto client = connect();
  WireBytes bytes = encode_frame({.payload = "fragment1", .fin = false});
  append(bytes, encode_frame({.opcode = uint8_t(Opcode::close), .payload = close_payload(1000)}));
  append(bytes, encode_frame({.opcode = 0, .payload = "fragment2"}));
  ASSERT_TRUE(client->send_raw(bytes));
  EXPECT_TRUE(closes_with(*client, 1000));
}

// Case 7.1.6: a large message, a ping and a close in one write: each is answered in order.
TEST_F(Close, LargeMessagePingCloseAnsweredInOrder) {
  auto client = connect();
  const std::string text = utf8_text(256 * 1024);
  WireBytes bytes = encode_frame({.payload = text});
  append(bytes, encode_frame({.opcode = uint8_t(Opcode::ping), .payload = "Hello World!"}));
  append(bytes, encode_frame({.opcode = uint8_t(Opcode::close), .payload = close_payload(1000)}));
  ASSERT_TRUE(client->send_raw(bytes));
  EXPECT_TRUE(receives_text(*client, text));
  EXPECT_TRUE(receives_pong(*client, "Hello World!"));
  EXPECT_TRUE(closes_with(*client, 1000));
}

// Case 7.3.1: a close without payload is answered by a close without payload.
TEST_F(Close, EmptyCloseAnsweredWithEmptyClose) {
  auto client = connect();
  ASSERT_TRUE(client->send_close());
  const Incoming close = client->next();
  ASSERT_EQ(close.kind, Incoming::Kind::close) << close;
  EXPECT_EQ(close.close_code, kNoCloseCode) << "the answer carried a code";
  EXPECT_EQ(close.payload, "");
  EXPECT_TRUE(server_closes_tcp(*client));
}

// Case 7.3.2: a close payload of one byte cannot hold a code.
TEST_F(Close, OneBytePayloadIsProtocolError) {
  auto client = connect();
  ASSERT_TRUE(client->send_frame({.opcode = uint8_t(Opcode::close), .payload = "\x03"}));
  EXPECT_TRUE(closes_with(*client, 1002));
}

// Case 7.3.3: code 1000 and no reason.
TEST_F(Close, CodeWithoutReasonEchoed) {
  auto client = connect();
  ASSERT_TRUE(client->send_close(1000));
  EXPECT_TRUE(closes_with(*client, 1000));
}

// Case 7.3.4: code 1000 and a reason.
TEST_F(Close, CodeWithReasonEchoed) {
  auto client = connect();
  ASSERT_TRUE(client->send_close(1000, "Hello World!"));
  EXPECT_TRUE(closes_with(*client, 1000));
}

// Case 7.3.5: the longest reason that fits (125 - 2 bytes), multi-byte characters included.
TEST_F(Close, Reason123BytesEchoesCode) {
  auto client = connect();
  const std::string reason = utf8_text(123);
  ASSERT_EQ(close_payload(1000, reason).size(), 125u);
  ASSERT_TRUE(client->send_close(1000, reason));
  EXPECT_TRUE(closes_with(*client, 1000));
}

// Case 7.3.6: a reason of 124 bytes makes the close frame too long for a control frame.
TEST_F(Close, Reason124BytesIsProtocolError) {
  auto client = connect();
  ASSERT_TRUE(client->send_close(1000, std::string(124, '*')));
  EXPECT_TRUE(closes_with(*client, 1002));
}

// Case 7.5.1: a reason that is not UTF-8 (a surrogate, then a truncated sequence).
TEST_F(Close, InvalidUtf8ReasonFailsWith1007) {
  for (std::string reason : {std::string("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"
                                         "edited"),
                             std::string("truncated \xe2\x82")}) {
    auto client = connect();
    ASSERT_TRUE(client->send_close(1000, reason));
    EXPECT_TRUE(closes_with(*client, 1007));
  }
}

// Cases 7.7.1-7.7.13: codes a peer may send (§7.4.1 and the IANA registry, which assigned
// 1012-1014 since the RFC) are echoed.
class CloseValidCode : public ConformanceTest, public ::testing::WithParamInterface<uint16_t> {};

TEST_P(CloseValidCode, Echoed) {
  auto client = connect();
  ASSERT_TRUE(client->send_close(GetParam(), "reason"));
  EXPECT_TRUE(closes_with(*client, GetParam()));
}

INSTANTIATE_TEST_SUITE_P(Autobahn7_7, CloseValidCode,
                         ::testing::Values(1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011,
                                           1012, 1013, 1014, 3000, 3999, 4000, 4999),
                         [](const auto& info) { return "code" + std::to_string(info.param); });

// Cases 7.9.1-7.9.13 and 7.13.1-7.13.2: codes that may not be sent: unassigned, reserved,
// or meaningful only locally (1005, 1006, 1015).
class CloseInvalidCode : public ConformanceTest, public ::testing::WithParamInterface<uint16_t> {};

TEST_P(CloseInvalidCode, IsProtocolError) {
  auto client = connect();
  ASSERT_TRUE(client->send_close(GetParam()));
  EXPECT_TRUE(closes_with(*client, 1002));
}

INSTANTIATE_TEST_SUITE_P(Autobahn7_9, CloseInvalidCode,
                         ::testing::Values(0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999,
                                           5000, 65535),
                         [](const auto& info) { return "code" + std::to_string(info.param); });

// When the server closes first (here: limits.idle_timeout_ms), it sends its close, waits for
// ours, then closes TCP; a client that never answers is cut after limits.close_timeout_ms.
class ServerInitiatedClose : public ConformanceTest {
 public:
  static void SetUpTestSuite() {
    start_server("[limits]\nping_interval_ms = 0\nidle_timeout_ms = 500\nclose_timeout_ms = 1000\n");
  }
};

TEST_F(ServerInitiatedClose, HandshakeCompletesWhenClientAnswers) {
  auto client = connect();
  const Incoming close = client->next();
  ASSERT_EQ(close.kind, Incoming::Kind::close) << close;
  EXPECT_EQ(close.close_code, 1001) << close;
  ASSERT_TRUE(client->send_close(close.close_code));
  EXPECT_TRUE(server_closes_tcp(*client));
}

TEST_F(ServerInitiatedClose, ClientThatNeverAnswersIsCutAfterCloseTimeout) {
  auto client = connect();
  const Incoming close = client->next();
  ASSERT_EQ(close.kind, Incoming::Kind::close) << close;
  EXPECT_EQ(close.close_code, 1001) << close;
  // No answer: the server must not wait forever.
  EXPECT_TRUE(server_closes_tcp(*client));
}

// Data the client sends after the server's close (before answering it) is discarded.
TEST_F(ServerInitiatedClose, MessagesAfterTheServersCloseAreNotEchoed) {
  auto client = connect();
  const Incoming close = client->next();
  ASSERT_EQ(close.kind, Incoming::Kind::close) << close;
  ASSERT_TRUE(client->send_text("after the server's close"));
  ASSERT_TRUE(client->send_close(1001));
  EXPECT_TRUE(server_closes_tcp(*client));
}

}  // namespace
}  // namespace wshub::test
