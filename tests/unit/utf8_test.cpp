// Utf8Validator and is_valid_utf8 (RFC 3629): valid and invalid sequences, every split point,
// the fail-fast promise, and a cross-check of both against a plain reference decoder on random
// input, short (own validator) and long (simdjson).
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "proto/utf8.h"

namespace wshub::proto {
namespace {

// Reference: the index of the first byte that no valid UTF-8 text can have at that place
// (std::string::npos when there is none), and whether the text is complete. Written from the
// RFC 3629 §4 syntax, one code point at a time.
struct ReferenceResult {
  size_t first_bad = std::string::npos;
  bool complete = true;
};

ReferenceResult reference(std::string_view s) {
  ReferenceResult r;
  size_t i = 0;
  while (i < s.size()) {
    const uint8_t b = uint8_t(s[i]);
    size_t need;
    uint8_t lo = 0x80, hi = 0xBF;  // range of the second byte
    if (b < 0x80) { ++i; continue; }
    if (b >= 0xC2 && b <= 0xDF) need = 1;
    else if (b == 0xE0) need = 2, lo = 0xA0;
    else if (b == 0xED) need = 2, hi = 0x9F;
    else if (b >= 0xE1 && b <= 0xEF) need = 2;
    else if (b == 0xF0) need = 3, lo = 0x90;
    else if (b == 0xF4) need = 3, hi = 0x8F;
    else if (b >= 0xF1 && b <= 0xF3) need = 3;
    else { r.first_bad = i; r.complete = false; return r; }
    for (size_t k = 1; k <= need; ++k) {
      if (i + k >= s.size()) { r.complete = false; return r; }
      const uint8_t c = uint8_t(s[i + k]);
      const bool ok = k == 1 ? (c >= lo && c <= hi) : (c >= 0x80 && c <= 0xBF);
      if (!ok) { r.first_bad = i + k; r.complete = false; return r; }
    }
    i += need + 1;
  }
  return r;
}

bool valid(std::string_view s) { return is_valid_utf8(as_bytes(s)); }

const std::vector<std::string> kValid = {
    "",
    "hello",
    std::string("nul\0inside", 10),
    "\x7F",
    "\xC2\x80",                  // U+0080
    "\xC3\xA9t\xC3\xA9",         // été
    "\xDF\xBF",                  // U+07FF
    "\xE0\xA0\x80",              // U+0800
    "\xE2\x82\xAC",              // €
    "\xED\x9F\xBF",              // U+D7FF, just below the surrogates
    "\xEE\x80\x80",              // U+E000, just above them
    "\xEF\xBF\xBF",              // U+FFFF
    "\xF0\x90\x80\x80",          // U+10000
    "\xF0\x9F\x98\x80 smile",    // U+1F600
    "\xF3\xBF\xBF\xBF",          // U+FFFFF
    "\xF4\x8F\xBF\xBF",          // U+10FFFF
    "\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5",  // κόσμε
};

const std::vector<std::string> kInvalid = {
    "\xC0\x80",          // overlong NUL
    "\xC1\xBF",          // overlong
    "\xE0\x80\x80",      // overlong
    "\xE0\x9F\xBF",      // overlong
    "\xF0\x80\x80\x80",  // overlong
    "\xF0\x8F\xBF\xBF",  // overlong
    "\xED\xA0\x80",      // U+D800 surrogate
    "\xED\xBF\xBF",      // U+DFFF surrogate
    "\xF4\x90\x80\x80",  // U+110000
    "\xF5\x80\x80\x80", "\xF8\x88\x80\x80\x80", "\xFC\x84\x80\x80\x80\x80", "\xFE", "\xFF",
    "\x80",              // stray continuation
    "a\xBF" "b",
    "\xC2" "a",          // lead then ASCII
    "\xE2\x82" "a",
    "\xF0\x9F\x98" "a",
    "\xC2\xC2\x80",
};

TEST(Utf8, ValidTexts) {
  for (const std::string& s : kValid) {
    EXPECT_TRUE(valid(s)) << testing::PrintToString(s);
    Utf8Validator v;
    EXPECT_TRUE(v.feed(as_bytes(s)));
    EXPECT_TRUE(v.complete());
    EXPECT_FALSE(v.failed());
    ASSERT_TRUE(reference(s).complete) << "reference disagrees on " << testing::PrintToString(s);
  }
}

TEST(Utf8, InvalidTexts) {
  for (const std::string& s : kInvalid) {
    EXPECT_FALSE(valid(s)) << testing::PrintToString(s);
    Utf8Validator v;
    EXPECT_FALSE(v.feed(as_bytes(s))) << testing::PrintToString(s);
    EXPECT_TRUE(v.failed());
    EXPECT_FALSE(v.complete());
    ASSERT_NE(reference(s).first_bad, std::string::npos);
  }
}

TEST(Utf8, TruncatedSequenceIsIncompleteNotFailed) {
  for (std::string_view s : {"\xC3", "\xE2\x82", "\xF0\x9F\x98", "ab\xF4\x8F", "\xE0"}) {
    Utf8Validator v;
    EXPECT_TRUE(v.feed(as_bytes(s))) << testing::PrintToString(std::string(s));
    EXPECT_FALSE(v.complete());
    EXPECT_FALSE(v.failed());
    EXPECT_FALSE(valid(s));
  }
}

TEST(Utf8, EverySplitOfValidTextIsAccepted) {
  std::string all;
  for (const std::string& s : kValid) all += s;
  for (const std::string& s : std::vector<std::string>(kValid.begin(), kValid.end())) {
    for (const std::string& text : {s, all}) {
      for (size_t cut = 0; cut <= text.size(); ++cut) {
        Utf8Validator v;
        const std::string_view head = std::string_view(text).substr(0, cut);
        ASSERT_TRUE(v.feed(as_bytes(head)));
        EXPECT_EQ(v.complete(), reference(head).complete) << "cut " << cut;
        ASSERT_TRUE(v.feed(as_bytes(std::string_view(text).substr(cut))));
        ASSERT_TRUE(v.complete()) << testing::PrintToString(text) << " cut " << cut;
      }
    }
  }
}

TEST(Utf8, ByteByByteFailsExactlyAtTheFirstBadByte) {
  for (const std::string& s : kInvalid) {
    const size_t bad = reference(s).first_bad;
    Utf8Validator v;
    for (size_t i = 0; i < s.size(); ++i) {
      const bool ok = v.feed(reinterpret_cast<const uint8_t*>(s.data()) + i, 1);
      EXPECT_EQ(ok, i < bad) << testing::PrintToString(s) << " byte " << i;
    }
  }
}

TEST(Utf8, ChunkHoldingTheFirstBadByteIsTheOneRefused) {
  // A valid ASCII run long enough for the 16-byte fast path, then a bad byte at each position.
  for (size_t at = 0; at < 70; ++at) {
    std::string s(80, 'a');
    s[at] = '\xFF';
    for (size_t chunk = 1; chunk <= 40; ++chunk) {
      Utf8Validator v;
      for (size_t i = 0; i < s.size(); i += chunk) {
        const size_t n = std::min(chunk, s.size() - i);
        const bool ok = v.feed(reinterpret_cast<const uint8_t*>(s.data()) + i, n);
        ASSERT_EQ(ok, at >= i + n) << "bad at " << at << " chunk " << chunk << " from " << i;
        if (!ok) break;
      }
    }
  }
}

TEST(Utf8, FailedValidatorStaysFailedUntilReset) {
  Utf8Validator v;
  EXPECT_FALSE(v.feed(as_bytes("\xC0")));
  EXPECT_FALSE(v.feed(as_bytes("plain ascii")));
  EXPECT_FALSE(v.feed(as_bytes("")));
  EXPECT_FALSE(v.feed(nullptr, 0));
  EXPECT_TRUE(v.failed());
  EXPECT_FALSE(v.complete());
  v.reset();
  EXPECT_TRUE(v.complete());
  EXPECT_TRUE(v.feed(as_bytes("ok \xE2\x82\xAC")));
  EXPECT_TRUE(v.complete());
}

// Random text built from pieces that are mostly valid code points with some damage, so that
// both valid and invalid strings are common at every length.
std::string random_text(std::mt19937& rng, size_t target) {
  static constexpr std::string_view kPieces[] = {
      "a", "Z", " ", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\xEF\xBF\xBF",
      "\xF4\x8F\xBF\xBF", "\xED\x9F\xBF", "\xE0\xA0\x80", "\xF0\x90\x80\x80", "0123456789abcdef"};
  std::string s;
  while (s.size() < target) s += kPieces[rng() % std::size(kPieces)];
  s.resize(target);
  const int damage = int(rng() % 4);  // 0: keep it valid (up to the cut at the end)
  for (int d = 0; d < damage; ++d)
    if (!s.empty()) s[rng() % s.size()] = char(rng() % 256);
  return s;
}

TEST(Utf8, RandomInputAgreesWithReference) {
  std::mt19937 rng(20240611);
  size_t valid_count = 0, invalid_count = 0;
  for (int round = 0; round < 20000; ++round) {
    // Lengths around 64 matter: is_valid_utf8 hands 64 bytes and more to simdjson.
    const size_t length =
        round % 3 == 0 ? rng() % 64 : round % 3 == 1 ? 64 + rng() % 8 : rng() % 600;
    std::string s = round % 5 == 0 ? std::string(length, '\0') : random_text(rng, length);
    if (round % 5 == 0)
      for (char& c : s) c = char(rng() % 256);
    const ReferenceResult ref = reference(s);
    const bool expected = ref.complete;
    (expected ? valid_count : invalid_count)++;
    ASSERT_EQ(valid(s), expected) << testing::PrintToString(s);
    Utf8Validator whole;
    const bool fed = whole.feed(as_bytes(s));
    ASSERT_EQ(fed, ref.first_bad == std::string::npos) << testing::PrintToString(s);
    ASSERT_EQ(fed && whole.complete(), expected);
    // Random chunking must agree too.
    Utf8Validator chunked;
    bool ok = true;
    for (size_t i = 0; i < s.size() && ok;) {
      const size_t n = std::min<size_t>(1 + rng() % 40, s.size() - i);
      ok = chunked.feed(reinterpret_cast<const uint8_t*>(s.data()) + i, n);
      if (!ok) {
        EXPECT_TRUE(ref.first_bad >= i && ref.first_bad < i + n) << "refused late or early";
      }
      i += n;
    }
    ASSERT_EQ(ok && chunked.complete(), expected);
  }
  EXPECT_GT(valid_count, 1000u);
  EXPECT_GT(invalid_count, 1000u);
}

TEST(Utf8, LongChunksAgreeWithReference) {
  // Chunks of 256 bytes and more take the vectorised path, which must stop short of a code
  // point cut at the chunk's end and still refuse exactly the chunk holding the first bad byte.
  std::mt19937 rng(7);
  for (int round = 0; round < 3000; ++round) {
    std::string s = random_text(rng, 200 + rng() % 3000);
    if (round % 4 == 0) s = std::string(s.size(), 'a');  // only the damage below
    if (round % 2 == 0) s[rng() % s.size()] = char(0x80 + rng() % 0x80);
    const ReferenceResult ref = reference(s);
    Utf8Validator v;
    bool ok = true;
    for (size_t i = 0; i < s.size() && ok;) {
      const size_t n = std::min<size_t>(round % 3 == 0 ? 256 + rng() % 8 : 1 + rng() % 1500,
                                        s.size() - i);
      ok = v.feed(reinterpret_cast<const uint8_t*>(s.data()) + i, n);
      ASSERT_EQ(ok, ref.first_bad == std::string::npos || ref.first_bad >= i + n)
          << "chunk [" << i << ", " << i + n << ") first bad " << ref.first_bad;
      i += n;
    }
    ASSERT_EQ(ok && v.complete(), ref.complete);
  }
}

TEST(Utf8, LongChunkEndingInsideACodePoint) {
  for (std::string_view sequence : {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80"}) {
    for (size_t k = 1; k < sequence.size(); ++k) {
      for (size_t before = 250; before <= 260; ++before) {
        const std::string first = std::string(before, 'x') + std::string(sequence.substr(0, k));
        const std::string rest = std::string(sequence.substr(k)) + std::string(300, 'y');
        Utf8Validator v;
        ASSERT_TRUE(v.feed(as_bytes(first))) << before;
        EXPECT_FALSE(v.complete());
        ASSERT_TRUE(v.feed(as_bytes(rest))) << before;
        EXPECT_TRUE(v.complete());
        Utf8Validator never_ends;
        ASSERT_TRUE(never_ends.feed(as_bytes(first)));
        EXPECT_FALSE(never_ends.feed(as_bytes(std::string(300, 'a'))));
      }
    }
  }
}

TEST(Utf8, LongInputsThroughSimdjson) {
  std::string base;
  while (base.size() < 5000)
    base += "\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5 ascii \xF0\x9F\x98\x80";
  EXPECT_TRUE(valid(base));
  for (size_t at : {0, 1, 63, 64, 65, 1000, 4999}) {
    std::string bad = base;
    bad.insert(at, "\xED\xA0\x80");
    EXPECT_FALSE(valid(bad)) << at;
  }
  std::string truncated = base + "\xF0\x9F\x98";
  EXPECT_FALSE(valid(truncated));
}

}  // namespace
}  // namespace wshub::proto
