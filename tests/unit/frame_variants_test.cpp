// FrameVariants: one message framed once plain and compressed once per window size, shared by
// every receiver without context takeover and by every thread.
#include <gtest/gtest.h>
#include <zlib.h>

#include <random>
#include <string>
#include <thread>
#include <vector>

#include "proto/frame_variants.h"

namespace wshub::test {
namespace {

using proto::FrameVariants;
using proto::SharedDeflaters;

std::string report_stream(size_t size) {
  std::string s;
  for (int i = 0; s.size() < size; ++i)
    s += "{\"device\":\"d" + std::to_string(i % 13) + "\",\"battery\":" + std::to_string(i % 100) +
         ",\"place\":\"深圳市南山区\"}";
  s.resize(size);
  return s;
}

struct Frame {
  uint8_t first = 0;
  std::string payload;
};

Frame parse(Bytes frame) {
  Frame f;
  f.first = frame[0];
  size_t len = frame[1] & 0x7F, at = 2;
  if (len == 126) len = load_be16(frame.data() + 2), at = 4;
  else if (len == 127) len = size_t(load_be64(frame.data() + 2)), at = 10;
  EXPECT_EQ(at + len, frame.size());
  f.payload.assign(reinterpret_cast<const char*>(frame.data()) + at, len);
  return f;
}

// Inflates one compressed message as a receiver with a window of `bits` would.
bool inflate_with(int bits, std::string compressed, std::string& out) {
  z_stream z{};
  if (inflateInit2(&z, -bits) != Z_OK) return false;
  compressed.append("\x00\x00\xff\xff", 4);
  out.assign(1 << 21, '\0');
  z.next_in = reinterpret_cast<Bytef*>(compressed.data());
  z.avail_in = uInt(compressed.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = uInt(out.size());
  const int rc = inflate(&z, Z_SYNC_FLUSH);
  out.resize(out.size() - z.avail_out);
  inflateEnd(&z);
  return rc == Z_OK && z.avail_in == 0;
}

TEST(FrameVariants, PlainFrameIsHeaderAndPayload) {
  auto v = FrameVariants::make(proto::Opcode::text, as_bytes("hello"));
  ASSERT_TRUE(v);
  EXPECT_EQ(as_text(v->plain().bytes()), std::string_view("\x81\x05hello", 7));
  EXPECT_EQ(as_text(v->payload()), "hello");
  EXPECT_EQ(v->opcode(), proto::Opcode::text);
}

TEST(FrameVariants, CompressedOnceAndSharedBetweenReceivers) {
  const std::string message = report_stream(5000);
  auto v = FrameVariants::make(proto::Opcode::binary, as_bytes(message));
  SharedDeflaters deflaters;
  const SharedBuffer* first = v->compressed(15, deflaters);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(v->compressed(15, deflaters), first) << "the second receiver gets the same frame";
  const Frame f = parse(first->bytes());
  EXPECT_EQ(f.first, 0x80 | proto::kRsv1 | 0x2);
  std::string inflated;
  ASSERT_TRUE(inflate_with(15, f.payload, inflated));
  EXPECT_EQ(inflated, message);
  EXPECT_LT(first->size(), v->plain().size() / 3);
}

TEST(FrameVariants, SmallerWindowsGetTheirOwnFrameOnlyWhenTheMessageIsLonger) {
  // 900 bytes: no distance can exceed the 1 KiB window of a 10-bit receiver.
  auto short_one = FrameVariants::make(proto::Opcode::text, as_bytes(report_stream(900)));
  SharedDeflaters deflaters;
  EXPECT_EQ(short_one->compressed(10, deflaters), short_one->compressed(15, deflaters));
  // 5000 bytes: a 10-bit receiver needs a frame made with a 1 KiB window.
  const std::string message = report_stream(5000);
  auto long_one = FrameVariants::make(proto::Opcode::text, as_bytes(message));
  const SharedBuffer* wide = long_one->compressed(15, deflaters);
  const SharedBuffer* narrow = long_one->compressed(10, deflaters);
  ASSERT_TRUE(wide && narrow);
  EXPECT_NE(wide, narrow);
  std::string inflated;
  ASSERT_TRUE(inflate_with(10, parse(narrow->bytes()).payload, inflated));
  EXPECT_EQ(inflated, message);
  // A 12-bit receiver can take the 10-bit frame: nothing more is compressed.
  EXPECT_EQ(long_one->compressed(12, deflaters), narrow);
  // A 15-bit receiver still gets the 15-bit frame.
  EXPECT_EQ(long_one->compressed(15, deflaters), wide);
}

TEST(FrameVariants, IncompressibleMessagesAreSentPlain) {
  std::mt19937 rng(3);
  std::string noise(2000, '\0');
  for (char& c : noise) c = char(rng());
  auto v = FrameVariants::make(proto::Opcode::binary, as_bytes(noise));
  SharedDeflaters deflaters;
  EXPECT_EQ(v->compressed(15, deflaters), nullptr);
  EXPECT_EQ(v->compressed(15, deflaters), nullptr);
}

TEST(FrameVariants, ThreadsRacingShareOneFrame) {
  const std::string message = report_stream(20000);
  for (int round = 0; round < 20; ++round) {
    auto v = FrameVariants::make(proto::Opcode::text, as_bytes(message));
    std::vector<const SharedBuffer*> seen(6);
    std::vector<std::thread> threads;
    for (size_t t = 0; t < seen.size(); ++t)
      threads.emplace_back([&, t] {
        SharedDeflaters deflaters;
        seen[t] = v->compressed(15, deflaters);
      });
    for (auto& t : threads) t.join();
    for (const SharedBuffer* s : seen) EXPECT_EQ(s, seen[0]);
    ASSERT_NE(seen[0], nullptr);
    std::string inflated;
    ASSERT_TRUE(inflate_with(15, parse(seen[0]->bytes()).payload, inflated));
    EXPECT_EQ(inflated, message);
  }
}

TEST(FrameVariants, SharedDeflatersResetBetweenMessages) {
  SharedDeflaters deflaters;
  Bytes out;
  const std::string a = report_stream(3000);
  ASSERT_TRUE(deflaters.compress(as_bytes(a), 15, out));
  const std::string first(as_text(out));
  ASSERT_TRUE(deflaters.compress(as_bytes(report_stream(2000)), 15, out));
  ASSERT_TRUE(deflaters.compress(as_bytes(a), 15, out));
  EXPECT_EQ(std::string(as_text(out)), first);
  EXPECT_GT(deflaters.memory_bytes(), 0u);
}

}  // namespace
}  // namespace wshub::test
