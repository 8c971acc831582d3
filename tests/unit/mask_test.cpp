// apply_mask / apply_mask_copy against a byte-at-a-time reference (RFC 6455 §5.3): every length
// 0..100, every phase, unaligned buffers, and payloads unmasked piece by piece.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "proto/mask.h"

namespace wshub::proto {
namespace {

// The key as the four bytes on the wire; apply_mask takes them loaded little-endian.
constexpr uint8_t kKeys[][4] = {
    {0x37, 0xfa, 0x21, 0x3d}, {0x00, 0x00, 0x00, 0x00}, {0xff, 0xff, 0xff, 0xff},
    {0x01, 0x02, 0x03, 0x04}, {0x80, 0x00, 0x00, 0x01}};

uint32_t key_word(const uint8_t key[4]) {
  return uint32_t(key[0]) | uint32_t(key[1]) << 8 | uint32_t(key[2]) << 16 |
         uint32_t(key[3]) << 24;
}

std::vector<uint8_t> reference(const std::vector<uint8_t>& in, const uint8_t key[4],
                               uint32_t phase) {
  std::vector<uint8_t> out(in);
  for (size_t i = 0; i < out.size(); ++i) out[i] ^= key[(phase + i) % 4];
  return out;
}

std::vector<uint8_t> pattern(size_t size) {
  std::vector<uint8_t> v(size);
  for (size_t i = 0; i < size; ++i) v[i] = uint8_t(i * 37 + 11);
  return v;
}

constexpr size_t kGuard = 16;
constexpr uint8_t kGuardByte = 0xEE;

TEST(Mask, InPlaceMatchesReferenceForEveryLengthPhaseAndAlignment) {
  for (const auto& key : kKeys) {
    for (size_t length = 0; length <= 100; ++length) {
      for (uint32_t phase = 0; phase < 4; ++phase) {
        for (size_t offset = 0; offset < 8; ++offset) {
          const std::vector<uint8_t> in = pattern(length);
          // Guard bytes on both sides catch a write past either end.
          std::vector<uint8_t> buffer(kGuard + offset + length + kGuard, kGuardByte);
          std::copy(in.begin(), in.end(), buffer.begin() + kGuard + offset);
          uint8_t* data = buffer.data() + kGuard + offset;
          const uint32_t next = apply_mask(data, length, key_word(key), phase);
          ASSERT_EQ(next, (phase + length) % 4);
          ASSERT_EQ(std::vector<uint8_t>(data, data + length), reference(in, key, phase))
              << "length " << length << " phase " << phase << " offset " << offset;
          for (size_t i = 0; i < kGuard + offset; ++i) ASSERT_EQ(buffer[i], kGuardByte);
          for (size_t i = kGuard + offset + length; i < buffer.size(); ++i)
            ASSERT_EQ(buffer[i], kGuardByte);
        }
      }
    }
  }
}

TEST(Mask, CopyMatchesReferenceAndLeavesInputAlone) {
  for (const auto& key : kKeys) {
    for (size_t length = 0; length <= 100; ++length) {
      for (uint32_t phase = 0; phase < 4; ++phase) {
        const std::vector<uint8_t> in = pattern(length);
        std::vector<uint8_t> out(length + kGuard, kGuardByte);
        ASSERT_EQ(apply_mask_copy(out.data(), in.data(), length, key_word(key), phase),
                  (phase + length) % 4);
        EXPECT_EQ(std::vector<uint8_t>(out.begin(), out.begin() + length),
                  reference(in, key, phase));
        for (size_t i = length; i < out.size(); ++i) ASSERT_EQ(out[i], kGuardByte);
        EXPECT_EQ(in, pattern(length));
      }
    }
  }
}

TEST(Mask, CopyMayAliasExactly) {
  std::vector<uint8_t> data = pattern(77);
  apply_mask_copy(data.data(), data.data(), data.size(), key_word(kKeys[0]), 3);
  EXPECT_EQ(data, reference(pattern(77), kKeys[0], 3));
}

TEST(Mask, MaskingTwiceRestores) {
  std::vector<uint8_t> data = pattern(1000);
  apply_mask(data.data(), data.size(), 0xdeadbeef, 1);
  EXPECT_NE(data, pattern(1000));
  apply_mask(data.data(), data.size(), 0xdeadbeef, 1);
  EXPECT_EQ(data, pattern(1000));
}

TEST(Mask, SplitAtEveryPointContinuesWithTheReturnedPhase) {
  for (const auto& key : kKeys) {
    for (size_t length = 0; length <= 100; ++length) {
      const std::vector<uint8_t> in = pattern(length);
      const std::vector<uint8_t> expected = reference(in, key, 0);
      for (size_t cut = 0; cut <= length; ++cut) {
        std::vector<uint8_t> data = in;
        const uint32_t phase = apply_mask(data.data(), cut, key_word(key), 0);
        ASSERT_EQ(apply_mask(data.data() + cut, length - cut, key_word(key), phase), length % 4);
        ASSERT_EQ(data, expected) << "length " << length << " cut " << cut;
      }
    }
  }
}

TEST(Mask, ManySmallPiecesEqualOnePass) {
  const std::vector<uint8_t> in = pattern(4099);
  const std::vector<uint8_t> expected = reference(in, kKeys[0], 0);
  for (size_t step : {1, 2, 3, 5, 7, 9, 31, 33, 63, 65}) {
    std::vector<uint8_t> data = in;
    uint32_t phase = 0;
    for (size_t at = 0; at < data.size(); at += step)
      phase = apply_mask(data.data() + at, std::min(step, data.size() - at), key_word(kKeys[0]),
                         phase);
    EXPECT_EQ(data, expected) << "step " << step;
  }
}

TEST(Mask, LongBufferMatchesReference) {
  const std::vector<uint8_t> in = pattern((1 << 16) + 13);
  for (uint32_t phase = 0; phase < 4; ++phase) {
    std::vector<uint8_t> data = in;
    apply_mask(data.data() + 0, data.size(), key_word(kKeys[3]), phase);
    EXPECT_EQ(data, reference(in, kKeys[3], phase));
  }
}

}  // namespace
}  // namespace wshub::proto
