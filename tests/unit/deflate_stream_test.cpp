// The permessage-deflate codec (RFC 7692 §7.2): round trips at every window size, with and
// without context takeover, fed whole, at every split and in random chunks; interop with plain
// zlib both ways (sync flush and BFINAL blocks); and the limits: a bomb stops at the limit with
// memory bounded by it, corrupt and truncated data is refused, and the streams are reusable.
#include <gtest/gtest.h>
#include <zlib.h>

#include <random>
#include <string>
#include <vector>

#include "proto/deflate_stream.h"

namespace wshub::test {
namespace {

using proto::DeflateBuffer;
using proto::Deflater;
using proto::DeflateSettings;
using proto::InflateResult;
using proto::Inflater;

std::string str(Bytes b) { return std::string(as_text(b)); }

// A device report, the kind of message the hub carries, repeated with small changes.
std::string device_report(int i) {
  return "{\"device\":\"dev-" + std::to_string(1000 + i % 7) +
         "\",\"ts\":17000000" + std::to_string(10 + i) +
         ",\"gps\":{\"lat\":31.2304,\"lon\":121.4737},\"battery\":" + std::to_string(80 - i % 20) +
         ",\"place\":\"上海市浦东新区\",\"temps\":[21.5,21.7,21.6,21.9]}";
}

std::string random_bytes(size_t size, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(size, '\0');
  for (char& c : s) c = char(rng());
  return s;
}

std::string text_of(size_t size) {
  std::string s;
  for (int i = 0; s.size() < size; ++i) s += device_report(i);
  s.resize(size);
  return s;
}

// Plain zlib, as a peer would run it: raw deflate, sync flush, tail stripped.
std::string zlib_message(z_stream& z, std::string_view message, int flush = Z_SYNC_FLUSH) {
  std::string out(message.size() + 64 + message.size() / 8, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(message.data()));
  z.avail_in = uInt(message.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = uInt(out.size());
  const int rc = deflate(&z, flush);
  EXPECT_TRUE(rc == Z_OK || rc == Z_STREAM_END) << rc;
  out.resize(out.size() - z.avail_out);
  if (flush == Z_SYNC_FLUSH) {
    EXPECT_EQ(out.substr(out.size() - 4), std::string("\x00\x00\xff\xff", 4));
    out.resize(out.size() - 4);
  }
  return out;
}

struct ZlibDeflate {
  z_stream z{};
  explicit ZlibDeflate(int bits = 15, int level = 6) {
    EXPECT_EQ(deflateInit2(&z, level, Z_DEFLATED, -bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
  }
  ~ZlibDeflate() { deflateEnd(&z); }
};

// Plain zlib inflating what our Deflater produced (the tail appended, as RFC 7692 §7.2.2 says).
struct ZlibInflate {
  z_stream z{};
  explicit ZlibInflate(int bits = 15) { EXPECT_EQ(inflateInit2(&z, -bits), Z_OK); }
  ~ZlibInflate() { inflateEnd(&z); }
  bool inflate_message(std::string_view compressed, std::string& out) {
    std::string in(compressed);
    in.append("\x00\x00\xff\xff", 4);
    out.assign(1 << 22, '\0');
    z.next_in = reinterpret_cast<Bytef*>(in.data());
    z.avail_in = uInt(in.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = uInt(out.size());
    const int rc = inflate(&z, Z_SYNC_FLUSH);
    out.resize(out.size() - z.avail_out);
    return (rc == Z_OK || rc == Z_STREAM_END) && z.avail_in == 0;
  }
};

InflateResult inflate_whole(Inflater& inflater, std::string_view compressed, DeflateBuffer& out,
                            uint64_t limit = 1u << 30) {
  out.clear();
  InflateResult r = inflater.feed(as_bytes(compressed), out, limit);
  if (r != InflateResult::ok) return r;
  return inflater.finish(out, limit);
}

std::string deflate_message(Deflater& deflater, std::string_view message) {
  DeflateBuffer out;
  EXPECT_TRUE(deflater.compress(as_bytes(message), out));
  return str(out.bytes());
}

class RoundTrip : public ::testing::TestWithParam<std::tuple<size_t, int, bool>> {};

TEST_P(RoundTrip, DeflateThenInflateGivesTheMessageBack) {
  const auto [size, bits, takeover] = GetParam();
  Deflater deflater(DeflateSettings{6, uint8_t(bits), 8}, takeover);
  Inflater inflater(uint8_t(bits), takeover);
  ZlibInflate reference(bits);
  DeflateBuffer out;
  for (int round = 0; round < 3; ++round) {
    const std::string message =
        round == 1 ? random_bytes(size, uint32_t(size)) : text_of(size + size_t(round));
    const std::string compressed = deflate_message(deflater, message);
    ASSERT_EQ(inflate_whole(inflater, compressed, out), InflateResult::ok);
    EXPECT_EQ(str(out.bytes()), message);
    // Plain zlib with the same window reads it too; without takeover a fresh one must.
    std::string by_zlib;
    if (takeover) {
      ASSERT_TRUE(reference.inflate_message(compressed, by_zlib));
    } else {
      ZlibInflate fresh(bits);
      ASSERT_TRUE(fresh.inflate_message(compressed, by_zlib));
    }
    EXPECT_EQ(by_zlib, message);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Sizes, RoundTrip,
    ::testing::Combine(::testing::Values(0, 1, 16, 125, 1000, 4096, 65536, 200000),
                       ::testing::Values(9, 10, 12, 15), ::testing::Bool()));

TEST(DeflateStream, EmptyMessageIsOneZeroByte) {
  Deflater deflater({}, /*context_takeover=*/true);
  EXPECT_EQ(deflate_message(deflater, ""), std::string(1, '\0'));
  deflate_message(deflater, "something first");
  EXPECT_EQ(deflate_message(deflater, ""), std::string(1, '\0'));
  Inflater inflater;
  DeflateBuffer out;
  EXPECT_EQ(inflate_whole(inflater, std::string(1, '\0'), out), InflateResult::ok);
  EXPECT_EQ(out.size(), 0u);
  EXPECT_EQ(inflate_whole(inflater, "", out), InflateResult::ok);  // the tail alone
  EXPECT_EQ(out.size(), 0u);
}

TEST(DeflateStream, WithoutTakeoverEveryMessageStartsAfresh) {
  Deflater deflater({}, /*context_takeover=*/false);
  const std::string first = deflate_message(deflater, device_report(1));
  deflate_message(deflater, device_report(2));
  EXPECT_EQ(deflate_message(deflater, device_report(1)), first);
}

TEST(DeflateStream, TakeoverMakesSimilarMessagesSmallerAndNeedsTheContext) {
  Deflater deflater({}, /*context_takeover=*/true);
  const std::string first = deflate_message(deflater, device_report(1));
  const std::string second = deflate_message(deflater, device_report(2));
  EXPECT_LT(second.size(), first.size() / 2) << first.size() << " then " << second.size();
  Inflater with_context(15, true);
  DeflateBuffer out;
  ASSERT_EQ(inflate_whole(with_context, first, out), InflateResult::ok);
  ASSERT_EQ(inflate_whole(with_context, second, out), InflateResult::ok);
  EXPECT_EQ(str(out.bytes()), device_report(2));
  // Without the first message's window the second refers to bytes that are not there.
  Inflater fresh(15, false);
  EXPECT_EQ(inflate_whole(fresh, second, out), InflateResult::corrupt);
}

TEST(DeflateStream, InflatesPlainZlibOutputWithEveryFlushShape) {
  const std::string message = text_of(3000);
  {  // sync flush, tail stripped: what RFC 7692 §7.2.1 describes
    ZlibDeflate z;
    Inflater inflater;
    DeflateBuffer out;
    ASSERT_EQ(inflate_whole(inflater, zlib_message(z.z, message), out), InflateResult::ok);
    EXPECT_EQ(str(out.bytes()), message);
  }
  for (bool trailing_empty_block : {false, true}) {
    // BFINAL set (§7.2.3.4), optionally followed by the empty block's first byte.
    ZlibDeflate z;
    std::string compressed = zlib_message(z.z, message, Z_FINISH);
    if (trailing_empty_block) compressed.push_back('\0');
    Inflater inflater;
    DeflateBuffer out;
    ASSERT_EQ(inflate_whole(inflater, compressed, out), InflateResult::ok);
    EXPECT_EQ(str(out.bytes()), message);
    ASSERT_EQ(inflate_whole(inflater, compressed, out), InflateResult::ok) << "reusable";
  }
}

TEST(DeflateStream, TakeoverSurvivesAFinalBlock) {
  // The peer ends message 1 with BFINAL, then compresses message 2 with message 1 as its
  // dictionary: the receiver must carry its window across the end of the zlib stream.
  const std::string one = device_report(1), two = device_report(2);
  ZlibDeflate a;
  const std::string first = zlib_message(a.z, one, Z_FINISH);
  ZlibDeflate b;
  ASSERT_EQ(deflateSetDictionary(&b.z, reinterpret_cast<const Bytef*>(one.data()), uInt(one.size())),
            Z_OK);
  const std::string second = zlib_message(b.z, two);
  Inflater inflater(15, /*context_takeover=*/true);
  DeflateBuffer out;
  ASSERT_EQ(inflate_whole(inflater, first, out), InflateResult::ok);
  EXPECT_EQ(str(out.bytes()), one);
  ASSERT_EQ(inflate_whole(inflater, second, out), InflateResult::ok);
  EXPECT_EQ(str(out.bytes()), two);
}

TEST(DeflateStream, FedAtEverySplitPointAndInRandomChunks) {
  const std::string message = text_of(700) + random_bytes(300, 7) + text_of(500);
  Deflater deflater;
  const std::string compressed = deflate_message(deflater, message);
  Inflater inflater;
  DeflateBuffer out;
  for (size_t split = 0; split <= compressed.size(); ++split) {
    out.clear();
    ASSERT_EQ(inflater.feed(as_bytes(compressed).first(split), out, 1 << 20), InflateResult::ok);
    ASSERT_EQ(inflater.feed(as_bytes(compressed).subspan(split), out, 1 << 20), InflateResult::ok);
    ASSERT_EQ(inflater.finish(out, 1 << 20), InflateResult::ok) << split;
    ASSERT_EQ(str(out.bytes()), message) << split;
  }
  std::mt19937 rng(1);
  const std::string big = text_of(300000);
  const std::string big_compressed = deflate_message(deflater, big);
  for (int run = 0; run < 20; ++run) {
    out.clear();
    size_t at = 0;
    while (at < big_compressed.size()) {
      const size_t n = std::min<size_t>(big_compressed.size() - at, 1 + rng() % 3000);
      ASSERT_EQ(inflater.feed(as_bytes(big_compressed).subspan(at, n), out, 1 << 20),
                InflateResult::ok);
      at += n;
    }
    ASSERT_EQ(inflater.finish(out, 1 << 20), InflateResult::ok);
    ASSERT_EQ(str(out.bytes()), big);
  }
}

// About 1 KiB of DEFLATE that inflates to `inflated` zero bytes.
std::string bomb(size_t inflated) {
  ZlibDeflate z(15, 9);
  return zlib_message(z.z, std::string(inflated, '\0'));
}

TEST(DeflateStream, ABombStopsAtTheLimitAndMemoryStaysBoundedByIt) {
  const std::string compressed = bomb(1 << 20);
  EXPECT_LT(compressed.size(), 1100u);
  for (uint64_t limit : {0ull, 1ull, 1000ull, 65536ull, 100000ull}) {
    SCOPED_TRACE(limit);
    Inflater inflater;
    DeflateBuffer out;
    EXPECT_EQ(inflate_whole(inflater, compressed, out, limit), InflateResult::too_large);
    EXPECT_LE(out.size(), limit + 1);
    EXPECT_LE(out.capacity(), std::max<uint64_t>(limit + 1, 16 * 1024));
    // The stream is reset and serves the next message.
    ASSERT_EQ(inflate_whole(inflater, deflate_message(*std::make_unique<Deflater>(), "ok"), out),
              InflateResult::ok);
    EXPECT_EQ(str(out.bytes()), "ok");
  }
}

TEST(DeflateStream, TheLimitIsExact) {
  const std::string message = text_of(50000);
  Deflater deflater;
  const std::string compressed = deflate_message(deflater, message);
  Inflater inflater;
  DeflateBuffer out;
  EXPECT_EQ(inflate_whole(inflater, compressed, out, message.size()), InflateResult::ok);
  EXPECT_EQ(inflate_whole(inflater, compressed, out, message.size() - 1), InflateResult::too_large);
}

TEST(DeflateStream, ABombFedInSmallPiecesStopsAtTheLimitToo) {
  const std::string compressed = bomb(4 << 20);
  Inflater inflater;
  DeflateBuffer out;
  InflateResult r = InflateResult::ok;
  size_t fed = 0;
  while (r == InflateResult::ok && fed < compressed.size()) {
    const size_t n = std::min<size_t>(7, compressed.size() - fed);
    r = inflater.feed(as_bytes(compressed).subspan(fed, n), out, 100000);
    fed += n;
  }
  EXPECT_EQ(r, InflateResult::too_large);
  EXPECT_LT(fed, compressed.size()) << "refused early, not after the whole stream";
  EXPECT_LE(out.capacity(), 100001u);
}

TEST(DeflateStream, CorruptAndTruncatedDataIsRefused) {
  const std::string message = text_of(5000);
  Deflater deflater;
  const std::string good = deflate_message(deflater, message);
  Inflater inflater;
  DeflateBuffer out;
  // Block type 3 is reserved.
  EXPECT_EQ(inflate_whole(inflater, "\xff\xff\xff", out), InflateResult::corrupt);
  // A stored block whose length and complement disagree.
  EXPECT_EQ(inflate_whole(inflater, std::string("\x00\x05\x00\x05\x00", 5), out),
            InflateResult::corrupt);
  // A distance before the start of the window (nothing came before).
  ZlibDeflate z;
  z_stream& s = z.z;
  const std::string dict = "hello hello hello";
  deflateSetDictionary(&s, reinterpret_cast<const Bytef*>(dict.data()), uInt(dict.size()));
  EXPECT_EQ(inflate_whole(inflater, zlib_message(s, "hello hello"), out), InflateResult::corrupt);
  // Cut inside a block: the appended tail cannot end it on a block boundary.
  for (size_t cut : {good.size() / 2, good.size() - 3}) {
    SCOPED_TRACE(cut);
    EXPECT_EQ(inflate_whole(inflater, good.substr(0, cut), out), InflateResult::corrupt);
  }
  int corrupt = 0;
  for (uint32_t seed = 0; seed < 200; ++seed) {
    const InflateResult r = inflate_whole(inflater, random_bytes(64, seed), out, 1 << 20);
    EXPECT_NE(r, InflateResult::no_memory);
    corrupt += r == InflateResult::corrupt;
  }
  EXPECT_GT(corrupt, 150);
  // After all that, a good message still inflates.
  ASSERT_EQ(inflate_whole(inflater, good, out), InflateResult::ok);
  EXPECT_EQ(str(out.bytes()), message);
}

TEST(DeflateStream, StreamsExistOnlyOnceUsedAndReportTheirMemory) {
  Inflater inflater(15, true);
  Deflater deflater(DeflateSettings{6, 15, 8}, true);
  EXPECT_EQ(inflater.memory_bytes(), 0u);
  EXPECT_EQ(deflater.memory_bytes(), 0u);
  const std::string compressed = deflate_message(deflater, text_of(40000));
  DeflateBuffer out;
  ASSERT_EQ(inflate_whole(inflater, compressed, out), InflateResult::ok);
  // zlib's documented figures: deflate (1 << (windowBits + 2)) + (1 << (memLevel + 9)),
  // inflate 1 << windowBits, each plus its state.
  EXPECT_GE(deflater.memory_bytes(), (1u << 17) + (1u << 17));
  EXPECT_LT(deflater.memory_bytes(), (1u << 17) + (1u << 17) + 16384);
  EXPECT_GE(inflater.memory_bytes(), 1u << 15);
  EXPECT_LT(inflater.memory_bytes(), (1u << 15) + 16384);
  Deflater small(DeflateSettings{6, 10, 4}, true);
  deflate_message(small, "x");
  EXPECT_LT(small.memory_bytes(), (1u << 12) + (1u << 13) + 8192);
}

TEST(DeflateStream, BufferTrimFreesLargeMemoryOnly) {
  DeflateBuffer buffer;
  ASSERT_TRUE(buffer.reserve(1000));
  buffer.trim(4096);
  EXPECT_EQ(buffer.capacity(), 1000u);
  ASSERT_TRUE(buffer.reserve(1 << 20));
  buffer.trim(4096);
  EXPECT_EQ(buffer.capacity(), 0u);
}

}  // namespace
}  // namespace wshub::test
