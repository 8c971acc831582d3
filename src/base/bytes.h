// Byte-view vocabulary shared by every layer.
// Knows nothing about sockets, threads or WebSocket.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

namespace wshub {

using Bytes = std::span<const uint8_t>;
using MutableBytes = std::span<uint8_t>;

inline Bytes as_bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

inline std::string_view as_text(Bytes bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// Loads and stores that compile to single moves on x86 and are safe on any alignment.
inline uint64_t load_u64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store_u64(uint8_t* p, uint64_t v) { std::memcpy(p, &v, sizeof v); }

inline uint16_t load_be16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
inline uint64_t load_be64(const uint8_t* p) { return __builtin_bswap64(load_u64(p)); }
inline void store_be16(uint8_t* p, uint16_t v) {
  p[0] = uint8_t(v >> 8);
  p[1] = uint8_t(v);
}
inline void store_be64(uint8_t* p, uint64_t v) { store_u64(p, __builtin_bswap64(v)); }

}  // namespace wshub
