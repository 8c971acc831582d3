// XOR masking of frame payloads (RFC 6455 §5.3), eight bytes or more at a time.
#pragma once

#include <cstddef>
#include <cstdint>

namespace wshub::proto {

// Applies `mask_key` (the four key bytes loaded little-endian from the wire) to `length` bytes
// in place, starting `phase` bytes (0..3) into the key. Returns the phase after the last byte,
// so a payload split across reads is unmasked piece by piece.
uint32_t apply_mask(uint8_t* data, size_t length, uint32_t mask_key, uint32_t phase = 0);

// The same, copying from `in` to `out` (which may alias exactly).
uint32_t apply_mask_copy(uint8_t* out, const uint8_t* in, size_t length, uint32_t mask_key,
                         uint32_t phase = 0);

}  // namespace wshub::proto
