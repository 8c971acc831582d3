// MessageReader on well-formed streams: single-frame and fragmented messages, control frames
// between fragments, close frames, both roles, and the memory the reader holds between reads.
// Every stream is fed whole, byte by byte and split in two at every point (sampled when big).
// The named errors live in reader_errors_test.cpp.
#include <gtest/gtest.h>

#include <string>

#include "frame_builder.h"
#include "proto/message_reader.h"

namespace wshub::test {
namespace {

using proto::MessageReader;
using proto::ReaderError;
using proto::ReaderLimits;
using proto::ReadEvent;

constexpr uint8_t kCont = 0x0, kText = 0x1, kBinary = 0x2, kClose = 0x8, kPing = 0x9,
                  kPong = 0xA;

// Valid UTF-8 of exactly `size` bytes mixing 1- to 4-byte code points, so that chunk edges
// fall inside code points.
std::string utf8_text(size_t size) {
  static constexpr std::string_view kPieces[] = {"a", "\xC3\xA9", "\xE2\x82\xAC",
                                                 "\xF0\x9D\x84\x9E", " ", "\xEF\xBF\xBF"};
  std::string out;
  for (size_t i = 0; out.size() < size; ++i) {
    std::string_view piece = kPieces[i % std::size(kPieces)];
    out.append(out.size() + piece.size() <= size ? piece : std::string_view("x"));
  }
  return out;
}

std::string binary_bytes(size_t size) {
  std::string out(size, '\0');
  for (size_t i = 0; i < size; ++i) out[i] = char(uint8_t(i * 131 + (i >> 8)));
  return out;
}

class SingleFrameSizes : public ::testing::TestWithParam<size_t> {};

TEST_P(SingleFrameSizes, TextMessage) {
  const std::string payload = utf8_text(GetParam());
  expect_events(client_frame(kText, payload), {text_message(payload)});
}

TEST_P(SingleFrameSizes, BinaryMessage) {
  const std::string payload = binary_bytes(GetParam());
  expect_events(client_frame(kBinary, payload), {binary_message(payload)});
}

TEST_P(SingleFrameSizes, TwoMessagesBackToBack) {
  const std::string first = utf8_text(GetParam()), second = binary_bytes(GetParam() / 2 + 3);
  expect_events(concat({client_frame(kText, first), client_frame(kBinary, second)}),
                {text_message(first), binary_message(second)}, {}, GetParam() <= 65536);
}

INSTANTIATE_TEST_SUITE_P(Sizes, SingleFrameSizes,
                         ::testing::Values(0, 1, 2, 3, 4, 5, 125, 126, 127, 65535, 65536,
                                           size_t(1) << 20));

TEST(MessageReader, MaskKeysOfEveryShapeUnmaskCorrectly) {
  const std::string payload = binary_bytes(77);
  for (uint32_t key : {0x00000000u, 0xFFFFFFFFu, 0x01020304u, 0x80000001u}) {
    FrameSpec spec;
    spec.opcode = kBinary;
    spec.payload = payload;
    for (int i = 0; i < 4; ++i) spec.key[i] = uint8_t(key >> (8 * i));
    expect_events(encode(spec), {binary_message(payload)});
  }
}

TEST(MessageReader, WholeFrameIsDeliveredInPlaceWithoutCopy) {
  Stream stream = client_frame(kBinary, "in place");
  MessageReader reader;
  MutableBytes input(stream);
  ReadEvent ev = reader.next(input, {});
  ASSERT_EQ(ev.kind, ReadEvent::Kind::message);
  EXPECT_EQ(ev.payload.data(), stream.data() + 6);
  EXPECT_TRUE(input.empty());
  EXPECT_FALSE(reader.holds_memory());
}

TEST(MessageReader, EmptyInputIsNeedMore) {
  MessageReader reader;
  MutableBytes input;
  EXPECT_EQ(reader.next(input, {}).kind, ReadEvent::Kind::need_more);
  EXPECT_FALSE(reader.mid_message());
  EXPECT_FALSE(reader.holds_memory());
}

TEST(MessageReader, FragmentedTextMessage) {
  expect_events(concat({client_frame(kText, "Hel", false), client_frame(kCont, "lo", false),
                        client_frame(kCont, " world")}),
                {text_message("Hello world")});
}

TEST(MessageReader, FragmentedBinaryMessage) {
  const std::string a = binary_bytes(300), b = binary_bytes(70000);
  expect_events(concat({client_frame(kBinary, a, false), client_frame(kCont, b)}),
                {binary_message(a + b)});
}

TEST(MessageReader, CodePointSplitAcrossFragmentsIsValid) {
  // U+20AC (E2 82 AC) and U+1D11E (F0 9D 84 9E) cut inside, each fragment invalid on its own.
  expect_events(concat({client_frame(kText, "a\xE2", false), client_frame(kCont, "\x82", false),
                        client_frame(kCont, "\xAC\xF0\x9D", false),
                        client_frame(kCont, "\x84\x9E")}),
                {text_message("a\xE2\x82\xAC\xF0\x9D\x84\x9E")});
}

TEST(MessageReader, EmptyFragmentsAroundData) {
  expect_events(concat({client_frame(kText, "", false), client_frame(kCont, "ab", false),
                        client_frame(kCont, "", false), client_frame(kCont, "")}),
                {text_message("ab")});
}

TEST(MessageReader, FragmentedMessageOfOnlyEmptyFragments) {
  expect_events(concat({client_frame(kText, "", false), client_frame(kCont, "")}),
                {text_message("")});
  expect_events(concat({client_frame(kBinary, "", false), client_frame(kCont, "", false),
                        client_frame(kCont, ""), client_frame(kText, "next")}),
                {binary_message(""), text_message("next")});
}

TEST(MessageReader, ControlFramesBetweenFragments) {
  expect_events(concat({client_frame(kText, "Hel", false), client_frame(kPing, "p1"),
                        client_frame(kCont, "lo", false), client_frame(kPong, ""),
                        client_frame(kPing, std::string(125, 'z')), client_frame(kCont, "!")}),
                {ping_event("p1"), pong_event(""), ping_event(std::string(125, 'z')),
                 text_message("Hello!")});
}

TEST(MessageReader, CloseBetweenFragmentsIsReported) {
  expect_events(concat({client_frame(kBinary, "ab", false),
                        client_frame(kClose, close_payload(1001, "bye"))}),
                {close_event(1001, "bye")});
}

TEST(MessageReader, MessagesAfterFragmentedMessageStartFresh) {
  const std::string big = utf8_text(5000);
  expect_events(
      concat({client_frame(kText, big.substr(0, 1000), false), client_frame(kPing, "x"),
              client_frame(kCont, big.substr(1000)), client_frame(kBinary, "\xFF\xFE"),
              client_frame(kText, "a", false), client_frame(kCont, "b")}),
      {ping_event("x"), text_message(big), binary_message("\xFF\xFE"), text_message("ab")});
}

TEST(MessageReader, PingPongPayloads) {
  const std::string_view binary("\x00\xFF\x80", 3);
  expect_events(concat({client_frame(kPing, ""), client_frame(kPing, binary),
                        client_frame(kPong, std::string(125, '\x81'))}),
                {ping_event(""), ping_event(binary),
                 pong_event(std::string(125, '\x81'))});
}

TEST(MessageReader, ControlPayloadsNeedNotBeUtf8) {
  expect_events(client_frame(kPing, "\xC0\x80"), {ping_event("\xC0\x80")});
}

TEST(MessageReader, CloseWithoutPayloadReports1005) {
  expect_events(client_frame(kClose, ""), {close_event(1005)});
}

TEST(MessageReader, CloseWithCodeOnly) {
  expect_events(client_frame(kClose, close_payload(1000)), {close_event(1000)});
}

TEST(MessageReader, CloseWithReason) {
  const std::string reason = "server \xE2\x82\xAC going down";
  expect_events(client_frame(kClose, close_payload(4000, reason)), {close_event(4000, reason)});
  const std::string longest(123, 'r');
  expect_events(client_frame(kClose, close_payload(1000, longest)), {close_event(1000, longest)});
}

TEST(MessageReader, ValidCloseCodesAreAccepted) {
  for (uint16_t code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
                        3000, 3999, 4000, 4999}) {
    SCOPED_TRACE(code);
    expect_events(client_frame(kClose, close_payload(code)), {close_event(code)});
  }
}

TEST(MessageReader, Rsv1MarksMessageCompressedWhenAllowed) {
  ReaderLimits limits;
  limits.allow_rsv1 = true;
  // A compressed text payload is not UTF-8 until inflated, so the reader must not check it.
  Event compressed = text_message("\xF2\x48\xCD\xC9\xC9\x07");
  compressed.compressed = true;
  expect_events(client_frame(kText, "\xF2\x48\xCD\xC9\xC9\x07", true, proto::kRsv1),
                {compressed}, limits);
  Event fragmented = binary_message("abcdef");
  fragmented.compressed = true;
  expect_events(concat({client_frame(kBinary, "abc", false, proto::kRsv1),
                        client_frame(kPing, "p"), client_frame(kCont, "def"),
                        client_frame(kText, "plain")}),
                {ping_event("p"), fragmented, text_message("plain")}, limits);
}

TEST(MessageReader, LimitsExactlyReachedAreAccepted) {
  ReaderLimits limits;
  limits.max_frame_bytes = 10;
  limits.max_message_bytes = 20;
  limits.max_fragments = 3;
  expect_events(concat({client_frame(kText, "0123456789", false),
                        client_frame(kCont, "abcde", false), client_frame(kCont, "fghij"),
                        client_frame(kBinary, "0123456789")}),
                {text_message("0123456789abcdefghij"), binary_message("0123456789")}, limits);
}

TEST(MessageReader, ControlFramesDoNotCountTowardsMessageLimits) {
  ReaderLimits limits;
  limits.max_frame_bytes = 4;
  limits.max_message_bytes = 4;
  limits.max_fragments = 2;
  expect_events(concat({client_frame(kText, "ab", false), client_frame(kPing, "123456789"),
                        client_frame(kPing, "123456789"), client_frame(kCont, "cd")}),
                {ping_event("123456789"), ping_event("123456789"), text_message("abcd")},
                limits);
}

TEST(MessageReader, ClientRoleReadsUnmaskedServerFrames) {
  ReaderLimits limits;
  limits.expect_masked = false;
  const std::string big = binary_bytes(70000);
  expect_events(concat({server_frame(kText, "hi", false), server_frame(kPing, "p"),
                        server_frame(kCont, "!"), server_frame(kBinary, big),
                        server_frame(kClose, close_payload(1000, "ok"))}),
                {ping_event("p"), text_message("hi!"), binary_message(big),
                 close_event(1000, "ok")},
                limits);
}

TEST(MessageReader, HoldsMemoryOnlyWhileAMessageIsSplit) {
  Stream stream = concat({client_frame(kText, "abc", false), client_frame(kCont, "def")});
  MessageReader reader;
  MutableBytes first(stream.data(), 10);  // all of frame one, then 1 byte of frame two's header
  EXPECT_EQ(reader.next(first, {}).kind, ReadEvent::Kind::need_more);
  EXPECT_TRUE(reader.mid_message());
  EXPECT_TRUE(reader.holds_memory());
  MutableBytes rest(stream.data() + 10, stream.size() - 10);
  ReadEvent ev = reader.next(rest, {});
  ASSERT_EQ(ev.kind, ReadEvent::Kind::message);
  EXPECT_EQ(as_text(ev.payload), "abcdef");
  EXPECT_EQ(reader.next(rest, {}).kind, ReadEvent::Kind::need_more);
  EXPECT_FALSE(reader.mid_message());
  EXPECT_FALSE(reader.holds_memory());
}

TEST(MessageReader, SplitControlFrameMemoryIsGivenBack) {
  Stream stream = client_frame(kPing, "0123456789");
  MessageReader reader;
  MutableBytes first(stream.data(), 8);
  EXPECT_EQ(reader.next(first, {}).kind, ReadEvent::Kind::need_more);
  EXPECT_TRUE(reader.mid_message());
  MutableBytes rest(stream.data() + 8, stream.size() - 8);
  ReadEvent ev = reader.next(rest, {});
  ASSERT_EQ(ev.kind, ReadEvent::Kind::ping);
  EXPECT_EQ(as_text(ev.payload), "0123456789");
  EXPECT_EQ(reader.next(rest, {}).kind, ReadEvent::Kind::need_more);
  EXPECT_FALSE(reader.holds_memory());
}

TEST(MessageReader, ReleaseMidMessageStartsOverAtAFrame) {
  // The header promises: after release() the reader is at the start of a frame.
  Stream partial = concat({client_frame(kText, "abc", false), client_frame(kCont, "de")});
  Stream fresh = client_frame(kBinary, "fresh");
  for (size_t cut = 1; cut < partial.size(); ++cut) {
    SCOPED_TRACE(cut);
    MessageReader reader;
    Stream copy = partial;
    MutableBytes input(copy.data(), cut);
    ReadEvent ev = reader.next(input, {});
    ASSERT_EQ(ev.kind, ReadEvent::Kind::need_more);
    reader.release();
    EXPECT_FALSE(reader.holds_memory());
    EXPECT_FALSE(reader.mid_message());
    Stream again = fresh;
    MutableBytes next_input(again);
    ev = reader.next(next_input, {});
    ASSERT_EQ(ev.kind, ReadEvent::Kind::message);
    EXPECT_EQ(ev.opcode, proto::Opcode::binary);
    EXPECT_EQ(as_text(ev.payload), "fresh");
  }
}

TEST(MessageReader, DeliveredStoreIsReusedForTheNextSplitMessage) {
  // Two split messages in a row: the second must not see bytes of the first.
  Stream stream = concat({client_frame(kText, "first message", false),
                          client_frame(kCont, " ends"), client_frame(kText, "2nd", false),
                          client_frame(kCont, "!")});
  expect_events(stream, {text_message("first message ends"), text_message("2nd!")});
}

}  // namespace
}  // namespace wshub::test
