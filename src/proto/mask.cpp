#include "proto/mask.h"

#include <cstring>

#include "base/bytes.h"

namespace wshub::proto {

namespace {

inline uint32_t rotate_key(uint32_t mask_key, uint32_t phase) {
  // The key bytes sit little-endian in the word, so starting `phase` bytes in means shifting
  // the earlier bytes out of the low end.
  return phase == 0 ? mask_key : (mask_key >> (8 * phase)) | (mask_key << (32 - 8 * phase));
}

}  // namespace

uint32_t apply_mask_copy(uint8_t* out, const uint8_t* in, size_t length, uint32_t mask_key,
                         uint32_t phase) {
  uint32_t key32 = rotate_key(mask_key, phase & 3);
  uint64_t key64 = uint64_t(key32) | uint64_t(key32) << 32;
  size_t i = 0;
  // 32 bytes per step lets the compiler keep four 64-bit lanes (or two SSE registers) busy.
  for (; i + 32 <= length; i += 32) {
    store_u64(out + i, load_u64(in + i) ^ key64);
    store_u64(out + i + 8, load_u64(in + i + 8) ^ key64);
    store_u64(out + i + 16, load_u64(in + i + 16) ^ key64);
    store_u64(out + i + 24, load_u64(in + i + 24) ^ key64);
  }
  for (; i + 8 <= length; i += 8) store_u64(out + i, load_u64(in + i) ^ key64);
  for (size_t k = 0; i < length; ++i, ++k) out[i] = in[i] ^ uint8_t(key32 >> (8 * (k & 3)));
  return uint32_t((phase + length) & 3);
}

uint32_t apply_mask(uint8_t* data, size_t length, uint32_t mask_key, uint32_t phase) {
  return apply_mask_copy(data, data, length, mask_key, phase);
}

}  // namespace wshub::proto
