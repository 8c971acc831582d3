// The frame header writer (RFC 6455 §5.2): exact bytes at every length-encoding boundary, and
// frames written with it read back by MessageReader in both roles.
#include <gtest/gtest.h>

#include <vector>

#include "frame_builder.h"
#include "proto/frame.h"
#include "proto/mask.h"

namespace wshub::proto {
namespace {

using test::Event;
using test::Stream;

std::vector<uint8_t> header(Opcode op, uint64_t length, bool fin = true, uint8_t rsv = 0) {
  uint8_t out[kMaxHeaderSize + 4];
  std::fill(std::begin(out), std::end(out), 0xEE);
  const size_t size = write_frame_header(out, op, length, fin, rsv);
  EXPECT_EQ(size, frame_header_size(length, false));
  for (size_t i = size; i < sizeof out; ++i) EXPECT_EQ(out[i], 0xEE) << "wrote past the header";
  return {out, out + size};
}

std::vector<uint8_t> masked_header(Opcode op, uint64_t length, uint32_t key, bool fin = true,
                                   uint8_t rsv = 0) {
  uint8_t out[kMaxHeaderSize + 4];
  std::fill(std::begin(out), std::end(out), 0xEE);
  const size_t size = write_masked_frame_header(out, op, length, key, fin, rsv);
  EXPECT_EQ(size, frame_header_size(length, true));
  for (size_t i = size; i < sizeof out; ++i) EXPECT_EQ(out[i], 0xEE) << "wrote past the header";
  return {out, out + size};
}

using V = std::vector<uint8_t>;

TEST(Frame, HeaderSizes) {
  EXPECT_EQ(frame_header_size(0, false), 2u);
  EXPECT_EQ(frame_header_size(125, false), 2u);
  EXPECT_EQ(frame_header_size(126, false), 4u);
  EXPECT_EQ(frame_header_size(65535, false), 4u);
  EXPECT_EQ(frame_header_size(65536, false), 10u);
  EXPECT_EQ(frame_header_size(uint64_t(1) << 32, false), 10u);
  EXPECT_EQ(frame_header_size(0, true), 6u);
  EXPECT_EQ(frame_header_size(65536, true), 14u);
  EXPECT_EQ(kMaxHeaderSize, 14u);
}

TEST(Frame, UnmaskedHeaderBytes) {
  EXPECT_EQ(header(Opcode::text, 0), (V{0x81, 0x00}));
  EXPECT_EQ(header(Opcode::binary, 125), (V{0x82, 0x7D}));
  EXPECT_EQ(header(Opcode::binary, 126), (V{0x82, 0x7E, 0x00, 0x7E}));
  EXPECT_EQ(header(Opcode::text, 65535), (V{0x81, 0x7E, 0xFF, 0xFF}));
  EXPECT_EQ(header(Opcode::text, 65536), (V{0x81, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}));
  EXPECT_EQ(header(Opcode::binary, uint64_t(1) << 32), (V{0x82, 0x7F, 0, 0, 0, 1, 0, 0, 0, 0}));
  EXPECT_EQ(header(Opcode::binary, 0x0102030405060708), (V{0x82, 0x7F, 1, 2, 3, 4, 5, 6, 7, 8}));
}

TEST(Frame, FirstByteFlagsAndOpcodes) {
  EXPECT_EQ(header(Opcode::continuation, 1, false)[0], 0x00);
  EXPECT_EQ(header(Opcode::continuation, 1, true)[0], 0x80);
  EXPECT_EQ(header(Opcode::text, 1, false, kRsv1)[0], 0x41);
  EXPECT_EQ(header(Opcode::binary, 1, true, kRsv1)[0], 0xC2);
  EXPECT_EQ(header(Opcode::close, 2)[0], 0x88);
  EXPECT_EQ(header(Opcode::ping, 0)[0], 0x89);
  EXPECT_EQ(header(Opcode::pong, 0)[0], 0x8A);
}

TEST(Frame, MaskedHeaderBytesKeepTheKeyInWireOrder) {
  const uint32_t key = 0x3D21FA37;  // wire bytes 37 FA 21 3D, loaded little-endian
  EXPECT_EQ(masked_header(Opcode::text, 0, key), (V{0x81, 0x80, 0x37, 0xFA, 0x21, 0x3D}));
  EXPECT_EQ(masked_header(Opcode::text, 125, key), (V{0x81, 0xFD, 0x37, 0xFA, 0x21, 0x3D}));
  EXPECT_EQ(masked_header(Opcode::binary, 126, key),
            (V{0x82, 0xFE, 0x00, 0x7E, 0x37, 0xFA, 0x21, 0x3D}));
  EXPECT_EQ(masked_header(Opcode::binary, 65535, key),
            (V{0x82, 0xFE, 0xFF, 0xFF, 0x37, 0xFA, 0x21, 0x3D}));
  EXPECT_EQ(masked_header(Opcode::binary, 65536, key),
            (V{0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0, 0x37, 0xFA, 0x21, 0x3D}));
  EXPECT_EQ(masked_header(Opcode::binary, uint64_t(1) << 32, key),
            (V{0x82, 0xFF, 0, 0, 0, 1, 0, 0, 0, 0, 0x37, 0xFA, 0x21, 0x3D}));
}

TEST(Frame, OpcodeClassification) {
  EXPECT_FALSE(is_control(Opcode::continuation));
  EXPECT_FALSE(is_control(Opcode::text));
  EXPECT_FALSE(is_control(Opcode::binary));
  EXPECT_TRUE(is_control(Opcode::close));
  EXPECT_TRUE(is_control(Opcode::ping));
  EXPECT_TRUE(is_control(Opcode::pong));
  for (uint8_t op = 0; op < 16; ++op)
    EXPECT_EQ(is_known_opcode(op), op <= 2 || (op >= 8 && op <= 10)) << int(op);
}

// A frame as write_*_frame_header and apply_mask produce it.
Stream written_frame(Opcode op, const std::string& payload, bool masked, bool fin = true,
                     uint8_t rsv = 0, uint32_t key = 0xA1B2C3D4) {
  uint8_t head[kMaxHeaderSize];
  const size_t size = masked ? write_masked_frame_header(head, op, payload.size(), key, fin, rsv)
                             : write_frame_header(head, op, payload.size(), fin, rsv);
  Stream out(head, head + size);
  const size_t at = out.size();
  out.insert(out.end(), payload.begin(), payload.end());
  if (masked) apply_mask(out.data() + at, payload.size(), key);
  return out;
}

TEST(Frame, RoundTripThroughTheReader) {
  for (size_t size : {0, 1, 125, 126, 65535, 65536}) {
    SCOPED_TRACE(size);
    std::string payload(size, '\0');
    for (size_t i = 0; i < size; ++i) payload[i] = char('a' + i % 26);
    // Masked for the server role, unmasked for the client role.
    test::expect_events(written_frame(Opcode::text, payload, true), {test::text_message(payload)},
                        {}, size <= 4096);
    ReaderLimits client;
    client.expect_masked = false;
    test::expect_events(written_frame(Opcode::binary, payload, false),
                        {test::binary_message(payload)}, client, size <= 4096);
  }
}

TEST(Frame, FragmentedAndControlRoundTrip) {
  ReaderLimits limits;
  limits.allow_rsv1 = true;
  Event compressed = test::binary_message("abcdef");
  compressed.compressed = true;
  test::expect_events(
      test::concat({written_frame(Opcode::binary, "abc", true, false, kRsv1),
                    written_frame(Opcode::ping, "hi", true),
                    written_frame(Opcode::continuation, "def", true),
                    written_frame(Opcode::close, test::close_payload(1000, "done"), true)}),
      {test::ping_event("hi"), compressed, test::close_event(1000, "done")}, limits);
}

}  // namespace
}  // namespace wshub::proto
