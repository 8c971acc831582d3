// MessageReader: every ReaderError, each reported at the frame (and, fed byte by byte, at the
// byte) that breaks the rule, never later, and the same however the stream is split.
#include <gtest/gtest.h>

#include <string>

#include "frame_builder.h"
#include "proto/message_reader.h"
#include "proto/reader_error.h"

namespace wshub::test {
namespace {

using proto::ReaderError;
using proto::ReaderLimits;

constexpr uint8_t kCont = 0x0, kText = 0x1, kBinary = 0x2, kClose = 0x8, kPing = 0x9,
                  kPong = 0xA;

// Checks `stream` ends in `error` after `before` in every feeding, and that fed byte by byte
// the error comes exactly when byte `at` (0-based) arrives.
void expect_error_at(const Stream& stream, ReaderError error, size_t at,
                     std::vector<Event> before = {}, const ReaderLimits& limits = {}) {
  before.push_back(error_event(error));
  expect_events(stream, before, limits);
  ReaderRun run = run_reader(stream, byte_by_byte(stream.size()), limits);
  EXPECT_EQ(run.error_fed_up_to, at + 1) << "error reported late or early";
}

TEST(ReaderErrors, EveryErrorHasNameSentenceAndCloseCode) {
  for (size_t i = 0; i < size_t(ReaderError::count_); ++i) {
    const auto error = ReaderError(i);
    EXPECT_FALSE(proto::reader_error_name(error).empty()) << i;
    if (error != ReaderError::none) {
      EXPECT_FALSE(proto::reader_error_sentence(error).empty()) << i;
      EXPECT_TRUE(proto::is_valid_wire_close_code(uint16_t(proto::close_code_of(error)))) << i;
      EXPECT_NE(proto::close_code_of(error), proto::CloseCode::normal) << i;
    }
  }
  EXPECT_EQ(proto::close_code_of(ReaderError::invalid_utf8), proto::CloseCode::invalid_payload);
  EXPECT_EQ(proto::close_code_of(ReaderError::message_too_large),
            proto::CloseCode::message_too_big);
  EXPECT_EQ(proto::close_code_of(ReaderError::reserved_opcode), proto::CloseCode::protocol_error);
}

TEST(ReaderErrors, ReservedBits) {
  for (uint8_t rsv : {proto::kRsv1, proto::kRsv2, proto::kRsv3, uint8_t(0x70)}) {
    SCOPED_TRACE(int(rsv));
    expect_error_at(client_frame(kText, "hi", true, rsv), ReaderError::reserved_bits, 1);
  }
  ReaderLimits deflate;
  deflate.allow_rsv1 = true;
  for (uint8_t rsv : {proto::kRsv2, proto::kRsv3, uint8_t(proto::kRsv1 | proto::kRsv2)})
    expect_error_at(client_frame(kBinary, "x", true, rsv), ReaderError::reserved_bits, 1, {},
                    deflate);
}

TEST(ReaderErrors, ReservedOpcodes) {
  for (uint8_t op : {3, 4, 5, 6, 7, 11, 12, 13, 14, 15}) {
    SCOPED_TRACE(int(op));
    const Stream ok = client_frame(kText, "ok");
    expect_error_at(concat({ok, client_frame(op, "")}), ReaderError::reserved_opcode,
                    ok.size() + 1, {text_message("ok")});
  }
}

TEST(ReaderErrors, ControlFrameOver125Bytes) {
  for (uint8_t op : {kClose, kPing, kPong}) {
    SCOPED_TRACE(int(op));
    expect_error_at(client_frame(op, std::string(126, 'x')), ReaderError::control_too_long, 1);
    FrameSpec huge;
    huge.opcode = op;
    huge.declared_length = uint64_t(1) << 40;  // header only: nothing may be read or reserved
    expect_error_at(encode(huge), ReaderError::control_too_long, 1);
  }
}

TEST(ReaderErrors, FragmentedControlFrame) {
  for (uint8_t op : {kClose, kPing, kPong})
    expect_error_at(client_frame(op, "x", false), ReaderError::control_fragmented, 1);
}

TEST(ReaderErrors, UnmaskedClientFrame) {
  expect_error_at(server_frame(kText, "hi"), ReaderError::unmasked_frame, 1);
  const Stream ok = client_frame(kText, "a", false);
  expect_error_at(concat({ok, server_frame(kPing, "")}), ReaderError::unmasked_frame,
                  ok.size() + 1);
}

TEST(ReaderErrors, MaskedServerFrameSeenByClient) {
  ReaderLimits client;
  client.expect_masked = false;
  expect_error_at(client_frame(kBinary, "x"), ReaderError::masked_frame, 1, {}, client);
  const Stream ok = server_frame(kText, "fine");
  expect_error_at(concat({ok, client_frame(kClose, "")}), ReaderError::masked_frame,
                  ok.size() + 1, {text_message("fine")}, client);
}

TEST(ReaderErrors, LengthWithMostSignificantBitSet) {
  FrameSpec spec;
  spec.opcode = kBinary;
  spec.declared_length = uint64_t(1) << 63;
  expect_error_at(encode(spec), ReaderError::length_msb_set, 13);  // 2 + 8 + 4 mask bytes
  spec.declared_length = UINT64_MAX - 1;
  expect_error_at(encode(spec), ReaderError::length_msb_set, 13);
}

TEST(ReaderErrors, NonMinimalLengths) {
  for (size_t size : {0, 1, 125}) {
    SCOPED_TRACE(size);
    const std::string payload(size, 'p');
    FrameSpec spec;
    spec.opcode = kBinary;
    spec.payload = payload;
    spec.form = LengthForm::force16;
    expect_error_at(encode(spec), ReaderError::non_minimal_length, 7);
    spec.form = LengthForm::force64;
    expect_error_at(encode(spec), ReaderError::non_minimal_length, 13);
  }
  for (size_t size : {126, 65535}) {
    const std::string payload(size, 'p');
    FrameSpec spec;
    spec.opcode = kBinary;
    spec.payload = payload;
    spec.form = LengthForm::force64;
    expect_error_at(encode(spec), ReaderError::non_minimal_length, 13);
  }
}

TEST(ReaderErrors, ContinuationWithNoMessageInProgress) {
  expect_error_at(client_frame(kCont, "x"), ReaderError::unexpected_continuation, 1);
  const Stream whole = concat({client_frame(kText, "a", false), client_frame(kCont, "b")});
  expect_error_at(concat({whole, client_frame(kCont, "c")}),
                  ReaderError::unexpected_continuation, whole.size() + 1, {text_message("ab")});
}

TEST(ReaderErrors, NewDataFrameWhileFragmentedMessageInProgress) {
  for (uint8_t op : {kText, kBinary}) {
    const Stream first = concat({client_frame(kText, "a", false), client_frame(kPing, "")});
    expect_error_at(concat({first, client_frame(op, "b")}), ReaderError::expected_continuation,
                    first.size() + 1, {ping_event("")});
  }
}

TEST(ReaderErrors, FrameTooLargeIsRefusedAtTheHeader) {
  ReaderLimits limits;
  limits.max_frame_bytes = 10;
  expect_error_at(client_frame(kBinary, "0123456789a"), ReaderError::frame_too_large, 5, {},
                  limits);
  FrameSpec huge;  // header only: the error must not wait for the payload
  huge.opcode = kText;
  huge.declared_length = uint64_t(1) << 40;
  expect_error_at(encode(huge), ReaderError::frame_too_large, 13, {}, limits);
  const Stream first = client_frame(kText, "0123456789", false);
  expect_error_at(concat({first, client_frame(kCont, "0123456789a")}),
                  ReaderError::frame_too_large, first.size() + 5, {}, limits);
}

TEST(ReaderErrors, DefaultFrameLimitIs16MiB) {
  FrameSpec spec;
  spec.opcode = kBinary;
  spec.declared_length = (uint64_t(16) << 20) + 1;
  expect_error_at(encode(spec), ReaderError::frame_too_large, 13);
}

TEST(ReaderErrors, MessageTooLargeIsRefusedAtTheFragmentHeader) {
  ReaderLimits limits;
  limits.max_message_bytes = 10;
  const Stream first = client_frame(kText, "012345", false);
  expect_error_at(concat({first, client_frame(kCont, "6789a")}), ReaderError::message_too_large,
                  first.size() + 5, {}, limits);
  expect_error_at(client_frame(kBinary, "0123456789a"), ReaderError::message_too_large, 5, {},
                  limits);
}

TEST(ReaderErrors, TooManyFragments) {
  ReaderLimits limits;
  limits.max_fragments = 3;
  const Stream three = concat({client_frame(kBinary, "a", false), client_frame(kCont, "", false),
                               client_frame(kCont, "b", false)});
  expect_error_at(concat({three, client_frame(kCont, "c")}), ReaderError::too_many_fragments,
                  three.size() + 5, {}, limits);
  // The count starts again with each message.
  const Stream ok = concat({client_frame(kText, "a", false), client_frame(kCont, "b", false),
                            client_frame(kCont, "c"), client_frame(kText, "d", false),
                            client_frame(kCont, "e", false), client_frame(kCont, "f")});
  expect_events(ok, {text_message("abc"), text_message("def")}, limits);
}

TEST(ReaderErrors, InvalidUtf8InASingleFrame) {
  expect_events(client_frame(kText, "ab\xC0\x80"), {error_event(ReaderError::invalid_utf8)});
  expect_events(client_frame(kText, "\xED\xA0\x80"), {error_event(ReaderError::invalid_utf8)});
  // Truncated at the end of the message: only the message end can tell.
  expect_error_at(client_frame(kText, "ab\xE2\x82"), ReaderError::invalid_utf8, 9);
}

TEST(ReaderErrors, InvalidUtf8IsReportedOnTheFrameHoldingTheBadByte) {
  // The stream stops after the offending frame: no later frame may be needed to see it.
  const Stream first = client_frame(kText, "ok \xE2\x82", false);
  const Stream bad = client_frame(kCont, "\x28tail", false);
  expect_error_at(concat({first, bad}), ReaderError::invalid_utf8, first.size() + 6);
  const Stream bad_in_middle = client_frame(kCont, "abc\xFFmore", false);
  expect_error_at(concat({client_frame(kText, "x", false), bad_in_middle}),
                  ReaderError::invalid_utf8, 7 + 6 + 3);
  // A ping between the fragments is still delivered before the error.
  const Stream head = concat({client_frame(kText, "\xF0\x9F", false), client_frame(kPing, "p")});
  expect_error_at(concat({head, client_frame(kCont, "\x98\x80\xF4\x90", false)}),
                  ReaderError::invalid_utf8, head.size() + 6 + 3, {ping_event("p")});
}

TEST(ReaderErrors, FragmentedTextEndingInsideACodePoint) {
  const Stream stream = concat({client_frame(kText, "ab\xE2", false), client_frame(kCont, "\x82")});
  expect_error_at(stream, ReaderError::invalid_utf8, stream.size() - 1);
}

TEST(ReaderErrors, CloseWithOneBytePayload) {
  expect_error_at(client_frame(kClose, "\x03"), ReaderError::close_payload_one_byte, 6);
}

TEST(ReaderErrors, InvalidCloseCodes) {
  for (uint16_t code : {0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
    SCOPED_TRACE(code);
    expect_error_at(client_frame(kClose, close_payload(code, "r")),
                    ReaderError::invalid_close_code, 8);
  }
}

TEST(ReaderErrors, CloseReasonNotUtf8) {
  expect_error_at(client_frame(kClose, close_payload(1000, "bad \xFF")),
                  ReaderError::invalid_close_reason, 12);
  expect_error_at(client_frame(kClose, close_payload(1000, "cut \xE2\x82")),
                  ReaderError::invalid_close_reason, 13);
}

TEST(ReaderErrors, Rsv1OnContinuationOrControlWithDeflate) {
  ReaderLimits deflate;
  deflate.allow_rsv1 = true;
  const Stream first = client_frame(kText, "a", false, proto::kRsv1);
  expect_error_at(concat({first, client_frame(kCont, "b", true, proto::kRsv1)}),
                  ReaderError::compressed_continuation, first.size() + 1, {}, deflate);
  for (uint8_t op : {kClose, kPing, kPong})
    expect_error_at(client_frame(op, "", true, proto::kRsv1), ReaderError::compressed_control, 1,
                    {}, deflate);
  // Without deflate the same bits are just reserved.
  expect_error_at(client_frame(kPing, "", true, proto::kRsv1), ReaderError::reserved_bits, 1);
}

}  // namespace
}  // namespace wshub::test
