// libFuzzer target for UTF-8 validation: the incremental Utf8Validator fed in chunks, the
// whole-buffer is_valid_utf8 (its own table under 64 bytes, simdjson from 64 on) and a plain
// RFC 3629 reference must agree, and the validator must refuse exactly the chunk that holds the
// first bad byte. Input layout: byte 0 seeds the chunk sizes; the rest is the text.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>

#include "proto/utf8.h"

namespace {

#define FUZZ_CHECK(cond)                                                            \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

constexpr size_t kNone = SIZE_MAX;

// Index of the first byte no UTF-8 text can have there (kNone: none); `complete` when the text
// does not end inside a code point.
size_t first_bad(const uint8_t* s, size_t n, bool* complete) {
  *complete = true;
  size_t i = 0;
  while (i < n) {
    const uint8_t b = s[i];
    if (b < 0x80) {
      ++i;
      continue;
    }
    size_t need = 0;
    uint8_t lo = 0x80, hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF)
      need = 1;
    else if (b == 0xE0)
      need = 2, lo = 0xA0;
    else if (b == 0xED)
      need = 2, hi = 0x9F;
    else if (b >= 0xE1 && b <= 0xEF)
      need = 2;
    else if (b == 0xF0)
      need = 3, lo = 0x90;
    else if (b == 0xF4)
      need = 3, hi = 0x8F;
    else if (b >= 0xF1 && b <= 0xF3)
      need = 3;
    else {
      *complete = false;
      return i;
    }
    for (size_t k = 1; k <= need; ++k) {
      if (i + k >= n) {
        *complete = false;
        return kNone;
      }
      const uint8_t c = s[i + k];
      if (k == 1 ? (c < lo || c > hi) : (c < 0x80 || c > 0xBF)) {
        *complete = false;
        return i + k;
      }
    }
    i += need + 1;
  }
  return kNone;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t seed = data[0];
  const uint8_t* text = data + 1;
  const size_t n = size - 1;

  bool complete;
  const size_t bad = first_bad(text, n, &complete);
  // An exact-size copy so a read past the end is an ASan report.
  auto copy = std::make_unique<uint8_t[]>(n ? n : 1);
  std::memcpy(copy.get(), text, n);
  FUZZ_CHECK(wshub::proto::is_valid_utf8({copy.get(), n}) == complete);

  wshub::proto::Utf8Validator validator;
  uint32_t rng = 0x85EBCA6Bu ^ seed;
  // Chunks of 256 bytes and more take the validator's vectorised path.
  const size_t max_step = seed % 4 == 0 ? 1 : seed % 4 == 1 ? 5 : seed % 4 == 2 ? 70 : 2000;
  size_t at = 0;
  bool ok = true;
  while (at < n) {
    rng = rng * 1664525u + 1013904223u;
    const size_t step = std::min(n - at, 1 + (rng >> 16) % max_step);
    auto chunk = std::make_unique<uint8_t[]>(step);
    std::memcpy(chunk.get(), text + at, step);
    ok = validator.feed(chunk.get(), step);
    FUZZ_CHECK(ok == (bad == kNone || bad >= at + step));
    if (!ok) break;
    at += step;
  }
  FUZZ_CHECK(validator.failed() == (bad != kNone));
  FUZZ_CHECK(validator.complete() == complete);
  if (!ok) FUZZ_CHECK(!validator.feed(nullptr, 0));
  return 0;
}
