// Client frames as bytes on the wire, for tests that must send what a correct client never
// would: any opcode, RSV bits, FIN, with or without a mask, in a longer length encoding than
// needed, or with a declared length that differs from the payload. Knows nothing about sockets.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proto/frame.h"

namespace wshub::test {

using WireBytes = std::vector<uint8_t>;

// How the payload length is written: the shortest form (RFC 6455 §5.2), or forced longer.
enum class LengthForm : uint8_t { minimal, force16, force64 };

// Everything a frame header can say. The defaults describe a valid, masked, final text frame.
struct FrameSpec {
  uint8_t opcode = uint8_t(proto::Opcode::text);  // any 4-bit value, reserved ones included
  std::string_view payload = {};
  bool fin = true;
  uint8_t rsv = 0;            // RSV bits as they sit in the first byte (proto::kRsv1..kRsv3)
  bool masked = true;         // clients must mask (§5.3); false sends an illegal frame
  uint32_t mask_key = 0x3d21fa37;  // the four key bytes as loaded little-endian from the wire
  LengthForm form = LengthForm::minimal;
  // The length written in the header; UINT64_MAX means the payload's size. Only the header
  // changes: exactly `payload` follows it either way.
  uint64_t declared_length = UINT64_MAX;
};

// The frame's bytes: header, then the payload masked with `mask_key` when `masked`.
// Minimal-form headers come from proto::write_frame_header / write_masked_frame_header.
WireBytes encode_frame(const FrameSpec& spec);

// Only the header of `spec` (no payload bytes), e.g. to announce a frame and send its payload
// separately or never.
WireBytes encode_frame_header(const FrameSpec& spec);

// `payload` as one message in fragments of `fragment_size` bytes (the last may be shorter; an
// empty payload is one empty frame): `opcode` first, then continuations, FIN on the last.
// Each frame gets its own mask key.
WireBytes encode_fragmented(proto::Opcode opcode, std::string_view payload, size_t fragment_size);

// A close frame payload: the code in network order, then the reason bytes as given.
std::string close_payload(uint16_t code, std::string_view reason = {});

// Appends `more` to `out`, e.g. to send several frames in one write.
void append(WireBytes& out, const WireBytes& more);

}  // namespace wshub::test
