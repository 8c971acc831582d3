// The WebSocket frame format (RFC 6455 §5.2): opcodes, header layout and the header writer.
// The writer produces only the header; the payload is referenced, never copied, by the caller.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/bytes.h"
#include "base/shared_buffer.h"

namespace wshub::proto {

enum class Opcode : uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

constexpr bool is_control(Opcode op) { return (uint8_t(op) & 0x8) != 0; }
constexpr bool is_known_opcode(uint8_t op) { return op <= 2 || (op >= 8 && op <= 10); }

constexpr uint8_t kFin = 0x80;
constexpr uint8_t kRsv1 = 0x40;
constexpr uint8_t kRsv2 = 0x20;
constexpr uint8_t kRsv3 = 0x10;
constexpr uint8_t kMaskBit = 0x80;
constexpr size_t kMaxControlPayload = 125;
constexpr size_t kMaxHeaderSize = 14;  // 2 + 8 (64-bit length) + 4 (mask)

struct FrameHeader {
  bool fin = true;
  uint8_t rsv = 0;  // the RSV1..3 bits as they sit in the first byte (0x70 mask)
  Opcode opcode = Opcode::binary;
  bool masked = false;
  uint32_t mask_key = 0;  // in wire byte order, as four bytes loaded little-endian
  uint64_t payload_length = 0;
};

constexpr size_t frame_header_size(uint64_t payload_length, bool masked) {
  size_t size = payload_length < 126 ? 2 : payload_length <= 0xFFFF ? 4 : 10;
  return masked ? size + 4 : size;
}

// Writes a header for a payload of `payload_length` bytes into `out` (at least kMaxHeaderSize
// bytes) and returns its size. `rsv` is OR-ed into the first byte (kRsv1 for compressed).
size_t write_frame_header(uint8_t* out, Opcode opcode, uint64_t payload_length, bool fin = true,
                          uint8_t rsv = 0);
// The same with a masking key, as a client writes it.
size_t write_masked_frame_header(uint8_t* out, Opcode opcode, uint64_t payload_length,
                                 uint32_t mask_key, bool fin = true, uint8_t rsv = 0);

// One complete unmasked frame (header and payload) in a shared buffer that any thread may queue
// to any connection: what a message for many receivers is encoded into, once. Empty on
// allocation failure. The header is frame_header_size(payload.size(), false) bytes.
SharedBuffer encode_shared_frame(Opcode opcode, Bytes payload, uint8_t rsv = 0);

}  // namespace wshub::proto
