#include "proto/frame.h"

#include <cstring>

#include "base/bytes.h"

namespace wshub::proto {

size_t write_frame_header(uint8_t* out, Opcode opcode, uint64_t payload_length, bool fin,
                          uint8_t rsv) {
  out[0] = uint8_t((fin ? kFin : 0) | rsv | uint8_t(opcode));
  if (payload_length < 126) {
    out[1] = uint8_t(payload_length);
    return 2;
  }
  if (payload_length <= 0xFFFF) {
    out[1] = 126;
    store_be16(out + 2, uint16_t(payload_length));
    return 4;
  }
  out[1] = 127;
  store_be64(out + 2, payload_length);
  return 10;
}

size_t write_masked_frame_header(uint8_t* out, Opcode opcode, uint64_t payload_length,
                                 uint32_t mask_key, bool fin, uint8_t rsv) {
  size_t size = write_frame_header(out, opcode, payload_length, fin, rsv);
  out[1] |= kMaskBit;
  std::memcpy(out + size, &mask_key, 4);
  return size + 4;
}

SharedBuffer encode_shared_frame(Opcode opcode, Bytes payload, uint8_t rsv) {
  uint8_t header[kMaxHeaderSize];
  const size_t header_size = write_frame_header(header, opcode, payload.size(), /*fin=*/true, rsv);
  SharedBuffer frame = SharedBuffer::allocate(header_size + payload.size());
  if (!frame) return frame;
  std::memcpy(frame.writable_data(), header, header_size);
  if (!payload.empty()) std::memcpy(frame.writable_data() + header_size, payload.data(), payload.size());
  frame.set_size(header_size + payload.size());
  return frame;
}

}  // namespace wshub::proto
