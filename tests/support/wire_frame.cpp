#include "support/wire_frame.h"

#include <algorithm>
#include <cstring>

#include "base/bytes.h"
#include "proto/mask.h"

namespace wshub::test {

WireBytes encode_frame_header(const FrameSpec& spec) {
  const uint64_t length =
      spec.declared_length == UINT64_MAX ? spec.payload.size() : spec.declared_length;
  const auto opcode = proto::Opcode(spec.opcode & 0x0F);
  uint8_t header[proto::kMaxHeaderSize];
  size_t size = 0;
  const bool minimal = spec.form == LengthForm::minimal ||
                       (spec.form == LengthForm::force16 && length >= 126 && length <= 0xFFFF) ||
                       (spec.form == LengthForm::force64 && length > 0xFFFF);
  if (minimal) {
    size = spec.masked
               ? proto::write_masked_frame_header(header, opcode, length, spec.mask_key, spec.fin,
                                                  spec.rsv)
               : proto::write_frame_header(header, opcode, length, spec.fin, spec.rsv);
  } else {
    // A longer encoding than §5.2 allows; proto's writers only produce the shortest one.
    header[0] = uint8_t((spec.fin ? proto::kFin : 0) | spec.rsv | uint8_t(opcode));
    const uint8_t mask_bit = spec.masked ? proto::kMaskBit : 0;
    if (spec.form == LengthForm::force16) {
      header[1] = mask_bit | 126;
      store_be16(header + 2, uint16_t(length));
      size = 4;
    } else {
      header[1] = mask_bit | 127;
      store_be64(header + 2, length);
      size = 10;
    }
    if (spec.masked) {
      std::memcpy(header + size, &spec.mask_key, 4);
      size += 4;
    }
  }
  return WireBytes(header, header + size);
}

WireBytes encode_frame(const FrameSpec& spec) {
  WireBytes out = encode_frame_header(spec);
  const size_t header_size = out.size();
  out.insert(out.end(), spec.payload.begin(), spec.payload.end());
  if (spec.masked)
    proto::apply_mask(out.data() + header_size, spec.payload.size(), spec.mask_key);
  return out;
}

WireBytes encode_fragmented(proto::Opcode opcode, std::string_view payload, size_t fragment_size) {
  fragment_size = fragment_size ? fragment_size : 1;
  WireBytes out;
  out.reserve(payload.size() + (payload.size() / fragment_size + 1) * proto::kMaxHeaderSize);
  size_t at = 0;
  uint32_t key = 0x5a3c96e1;
  do {
    const size_t size = std::min(fragment_size, payload.size() - at);
    FrameSpec spec;
    spec.opcode = uint8_t(at == 0 ? opcode : proto::Opcode::continuation);
    spec.payload = payload.substr(at, size);
    spec.fin = at + size == payload.size();
    spec.mask_key = key;
    key = key * 2654435761u + 1;
    append(out, encode_frame(spec));
    at += size;
  } while (at < payload.size());
  return out;
}

std::string close_payload(uint16_t code, std::string_view reason) {
  std::string out;
  out.push_back(char(code >> 8));
  out.push_back(char(code & 0xFF));
  out.append(reason);
  return out;
}

void append(WireBytes& out, const WireBytes& more) { out.insert(out.end(), more.begin(), more.end()); }

}  // namespace wshub::test
