// Autobahn group 5 (fragmentation, RFC 6455 §5.4): fragmented text and binary messages are
// echoed whole; control frames may sit between fragments and are answered at once, before
// the message completes; control frames may not be fragmented; a continuation with nothing to
// continue, or a new data frame inside a fragmented message, is a protocol error.
#include <string>

#include "conformance.h"

namespace wshub::test {
namespace {

using namespace std::chrono_literals;
using proto::Opcode;

class Fragmentation : public ConformanceTest {};

WireBytes frame(Opcode opcode, std::string_view payload, bool fin = true) {
  return encode_frame({.opcode = uint8_t(opcode), .payload = payload, .fin = fin});
}

// Case 5.1: a ping split into a ping without FIN and a continuation.
TEST_F(Fragmentation, FragmentedPingIsProtocolError) {
  auto client = connect();
  WireBytes bytes = frame(Opcode::ping, "fragment1", false);
  append(bytes, frame(Opcode::continuation, "fragment2"));
  ASSERT_TRUE(client->send_raw(bytes));
  EXPECT_TRUE(closes_with(*client, 1002));
}

// Case 5.2: the same for a pong.
TEST_F(Fragmentation, FragmentedPongIsProtocolError) {
  auto client = connect();
  WireBytes bytes = frame(Opcode::pong, "fragment1", false);
  append(bytes, frame(Opcode::continuation, "fragment2"));
  ASSERT_TRUE(client->send_raw(bytes));
  EXPECT_TRUE(closes_with(*client, 1002));
}

// A close frame without FIN: control frames are never fragmented (§5.5).
TEST_F(Fragmentation, FragmentedCloseIsProtocolError) {
  auto client = connect();
  ASSERT_TRUE(client->send_raw(frame(Opcode::close, close_payload(1000), false)));
  EXPECT_TRUE(closes_with(*client, 1002));
}

// The two-fragment text message of cases 5.3-5.5, sent three ways.
WireBytes two_fragments() {
  WireBytes bytes = frame(Opcode::text, "fragment1", false);
  append(bytes, frame(Opcode::continuation, "fragment2"));
  return bytes;
}

// Case 5.3: in one write.
TEST_F(Fragmentation, TextInTwoFragments) {
  auto client = connect();
  ASSERT_TRUE(client->send_raw(two_fragments()));
  EXPECT_TRUE(receives_text(*client, "fragment1fragment2"));
  EXPECT_TRUE(closes_cleanly(*client));
}

// Case 5.4: in chops of one octet.
TEST_F(Fragmentation, TextInTwoFragmentsByteByByte) {
  auto client = connect();
  ASSERT_TRUE(client->send_chunked(two_fragments(), 1));
  EXPECT_TRUE(receives_text(*client, "fragment1fragment2"));
  EXPECT_TRUE(closes_cleanly(*client));
}

// Case 5.5: one fragment at a time with a pause between.
TEST_F(Fragmentation, TextInTwoFragmentsWithPause) {
  auto client = connect();
  ASSERT_TRUE(client->send_text("fragment1", false));
  std::this_thread::sleep_for(200ms);
  ASSERT_TRUE(client->send_continuation("fragment2"));
  EXPECT_TRUE(receives_text(*client, "fragment1fragment2"));
  EXPECT_TRUE(closes_cleanly(*client));
}

TEST_F(Fragmentation, BinaryInManyFragmentsOfEverySize) {
  auto client = connect();
  const std::string payload = binary_data(3000);
  for (size_t fragment : {size_t(1), size_t(2), size_t(7), size_t(125), size_t(126),
                          size_t(1000), size_t(2999)}) {
    SCOPED_TRACE("fragments of " + std::to_string(fragment));
    ASSERT_TRUE(client->send_raw(encode_fragmented(Opcode::binary, payload, fragment)));
    EXPECT_TRUE(receives_binary(*client, payload));
  }
  EXPECT_TRUE(closes_cleanly(*client));
}

TEST_F(Fragmentation, EmptyFragmentsMakeOneMessage) {
  auto client = connect();
  WireBytes bytes = frame(Opcode::text, "", false);
  append(bytes, frame(Opcode::continuation, "", false));
  append(bytes, frame(Opcode::continuation, ""));
  append(bytes, frame(Opcode::binary, "", false));
  append(bytes, frame(Opcode::continuation, "middle", false));
  append(bytes, frame(Opcode::continuation, ""));
  ASSERT_TRUE(client->send_raw(bytes));
  EXPECT_TRUE(receives_text(*client, ""));
  EXPECT_TRUE(receives_binary(*client, "middle"));
  EXPECT_TRUE(closes_cleanly(*client));
}

// Cases 5.6-5.8: a ping between the fragments, answered before the message is echoed.
WireBytes fragments_around_ping() {
  WireBytes bytes = frame(Opcode::text, "fragment1", false);
  append(bytes, frame(Opcode::ping, "ping payload"));
  append(bytes, frame(Opcode::continuation, "fragment2"));
  return bytes;
}

TEST_F(Fragmentation, PingBetweenFragments) {
  auto client = connect();
  ASSERT_TRUE(client->send_raw(fragments_around_ping()));
  EXPECT_TRUE(receives_pong(*client, "ping payload"));
  EXPECT_TRUE(receives_text(*client, "fragment1fragment2"));
  EXPECT_TRUE(closes_cleanly(*client));
}

TEST_F(Fragmentation, PingBetweenFragmentsByteByByte) {
  auto client = connect();
  ASSERT_TRUE(client->send_chunked(fragments_around_ping(), 1));
  EXPECT_TRUE(receives_pong(*client, "ping payload"));
  EXPECT_TRUE(receives_text(*client, "fragment1fragment2"));
  EXPECT_TRUE(closes_cleanly(*client));
}

// The pong must not wait for the message: it arrives while the final fragment is unsent.
TEST_F(Fragmentation, PongArrivesBeforeTheMessageCompletes) {
  auto client = connect();
  for (Opcode opcode : {Opcode::text, Opcode::binary}) {
    ASSERT_TRUE(client->send_raw(frame(opcode, "fragment1", false)));
    ASSERT_TRUE(client->send_ping("mid-message"));
    EXPECT_TRUE(receives_pong(*client, "mid-message"));
    ASSERT_TRUE(client->send_continuation("fragment2"));
    EXPECT_TRUE(receives_message(*client, opcode, "fragment1fragment2"));
  }
  EXPECT_TRUE(closes_cleanly(*client));
}

// An unsolicited pong between fragments is ignored and does not disturb the message.
TEST_F(Fragmentation, PongBetweenFragmentsIgnored) {
  auto client = connect();
  WireBytes bytes = frame(Opcode::text, "fragment1", false);
  append(bytes, frame(Opcode::pong, "unsolicited"));
  append(bytes, frame(Opcode::continuation, "fragment2"));
  ASSERT_TRUE(client->send_raw(bytes));
  EXPECT_TRUE(receives_text(*client, "fragment1fragment2"));
  EXPECT_TRUE(closes_cleanly(*client));
}

// Cases 5.19-5.20: five fragments with a ping after the first and the fourth, sent one frame
// at a time with pauses (5.19) and each frame in small chops (5.20).
TEST_F(Fragmentation, FiveFragmentsWithPingsAndPauses) {
  for (size_t chop : {size_t(0), size_t(3)}) {
    SCOPED_TRACE(chop ? "chopped" : "frame by frame");
    auto client = connect();
    const char* parts[] = {"fragment1", "fragment2", "fragment3", "fragment4", "fragment5"};
    for (int i = 0; i < 5; ++i) {
      const WireBytes fragment = frame(i == 0 ? Opcode::text : Opcode::continuation, parts[i], i == 4);
      ASSERT_TRUE(chop ? client->send_chunked(fragment, chop, 2ms) : client->send_raw(fragment));
      if (i == 0 || i == 3) {
        const std::string ping = "pongme " + std::to_string(i);
        ASSERT_TRUE(client->send_ping(ping));
        EXPECT_TRUE(receives_pong(*client, ping));
      }
      std::this_thread::sleep_for(50ms);
    }
    EXPECT_TRUE(receives_text(*client, "fragment1fragment2fragment3fragment4fragment5"));
    EXPECT_TRUE(closes_cleanly(*client));
  }
}

// Cases 5.9-5.11: a final continuation with nothing to continue, then a valid text message,
// in one write, frame by frame, and byte by byte. Nothing is echoed.
WireBytes orphan_continuation(bool fin) {
  WireBytes bytes = frame(Opcode::continuation, "non-continuation payload", fin);
  append(bytes, frame(Opcode::text, "Hello, world!"));
  return bytes;
}

TEST_F(Fragmentation, FinalContinuationWithoutStart) {
  auto client = connect();
  ASSERT_TRUE(client->send_raw(orphan_continuation(true)));
  EXPECT_TRUE(closes_with(*client, 1002));
}

TEST_F(Fragmentation, FinalContinuationWithoutStartByteByByte) {
  auto client = connect();
  client->send_chunked(orphan_continuation(true), 1);
  EXPECT_TRUE(closes_with(*client, 1002));
}

// Cases 5.12-5.14: the same with a non-final continuation.
TEST_F(Fragmentation, NonFinalContinuationWithoutStart) {
  auto client = connect();
  ASSERT_TRUE(client->send_raw(orphan_continuation(false)));
  EXPECT_TRUE(closes_with(*client, 1002));
}

TEST_F(Fragmentation, NonFinalContinuationWithoutStartFrameByFrame) {
  auto client = connect();
  ASSERT_TRUE(client->send_continuation("non-continuation payload", false));
  std::this_thread::sleep_for(20ms);
  client->send_text("Hello, world!");
  EXPECT_TRUE(closes_with(*client, 1002));
}

// Case 5.15: a complete fragmented message, then an orphan continuation: the first message is
// echoed, then the connection fails.
TEST_F(Fragmentation, OrphanContinuationAfterCompleteMessage) {
  auto client = connect();
  WireBytes bytes = frame(Opcode::text, "fragment1", false);
  append(bytes, frame(Opcode::continuation, "fragment2"));
  append(bytes, frame(Opcode::continuation, "fragment3", false));
  append(bytes, frame(Opcode::text, "fragment4"));
  ASSERT_TRUE(client->send_raw(bytes));
  EXPECT_TRUE(receives_text(*client, "fragment1fragment2"));
  EXPECT_TRUE(closes_with(*client, 1002));
}

// Cases 5.16-5.17: orphan continuations in a row, final and not.
TEST_F(Fragmentation, RepeatedOrphanContinuations) {
  for (bool fin : {false, true}) {
    SCOPED_TRACE(fin ? "final" : "non-final");
    auto client = connect();
    WireBytes bytes;
    for (int i = 0; i < 2; ++i) {
      append(bytes, frame(Opcode::continuation, "fragment1", fin));
      append(bytes, frame(Opcode::text, "fragment2", false));
      append(bytes, frame(Opcode::continuation, "fragment3"));
    }
    ASSERT_TRUE(client->send_raw(bytes));
    EXPECT_TRUE(closes_with(*client, 1002));
  }
}

// Case 5.18: a second text frame while the first message is unfinished.
TEST_F(Fragmentation, NewTextFrameInsideFragmentedMessage) {
  auto client = connect();
  WireBytes bytes = frame(Opcode::text, "fragment1", false);
  append(bytes, frame(Opcode::text, "fragment2"));
  ASSERT_TRUE(client->send_raw(bytes));
  EXPECT_TRUE(closes_with(*client, 1002));
}

TEST_F(Fragmentation, NewBinaryFrameInsideFragmentedText) {
  auto client = connect();
  ASSERT_TRUE(client->send_text("fragment1", false));
  ASSERT_TRUE(client->send_binary("fragment2", false));
  EXPECT_TRUE(closes_with(*client, 1002));
}

// Fragments and their bytes arrive slowly and unevenly; the message is still one message.
TEST_F(Fragmentation, FragmentsSentInChunksWithDelays) {
  auto client = connect();
  const std::string payload = utf8_text(4000);
  const WireBytes bytes = encode_fragmented(Opcode::text, payload, 333);
  ASSERT_TRUE(client->send_chunked(bytes, 101, 1ms));
  EXPECT_TRUE(receives_text(*client, payload));
  EXPECT_TRUE(closes_cleanly(*client));
}

}  // namespace
}  // namespace wshub::test
