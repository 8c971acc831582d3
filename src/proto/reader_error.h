// Every way a peer's frames can break RFC 6455 or a configured limit, each with exactly one
// close code and one sentence for the log.
#pragma once

#include <cstdint>
#include <string_view>

#include "proto/close_code.h"

namespace wshub::proto {

enum class ReaderError : uint8_t {
  none,
  reserved_bits,            // RSV1-3 set and no extension claims them (§5.2)
  reserved_opcode,          // opcodes 3-7 and 11-15 (§5.2)
  control_too_long,         // control frame payload over 125 bytes (§5.5)
  control_fragmented,       // control frame without FIN (§5.5)
  unmasked_frame,           // client frame without mask (§5.1)
  masked_frame,             // server frame with mask, seen by a client (§5.1)
  length_msb_set,           // 64-bit length with the most significant bit set (§5.2)
  non_minimal_length,       // length not in its shortest encoding (§5.2)
  unexpected_continuation,  // continuation frame with no message in progress (§5.4)
  expected_continuation,    // new data frame while a fragmented message is in progress (§5.4)
  frame_too_large,          // frame payload over limits.max_frame_bytes
  message_too_large,        // message over limits.max_message_bytes
  too_many_fragments,       // message in more frames than limits.max_fragments
  invalid_utf8,             // text message that is not UTF-8 (§8.1)
  close_payload_one_byte,   // close frame with a 1-byte payload (§5.5.1)
  invalid_close_code,       // close code not allowed on the wire (§7.4)
  invalid_close_reason,     // close reason that is not UTF-8 (§5.5.1)
  compressed_continuation,  // RSV1 on a continuation frame (RFC 7692 §6)
  compressed_control,       // RSV1 on a control frame (RFC 7692 §6)
  inflated_too_large,       // a compressed message inflates past limits.max_message_bytes
  corrupt_deflate,          // a compressed message is not a DEFLATE stream (RFC 7692 §7.2.2)
  inflate_no_memory,        // the server could not allocate the memory to inflate a message
  count_
};

CloseCode close_code_of(ReaderError error);
std::string_view reader_error_name(ReaderError error);
std::string_view reader_error_sentence(ReaderError error);

}  // namespace wshub::proto
