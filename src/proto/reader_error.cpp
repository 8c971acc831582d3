#include "proto/reader_error.h"

#include <iterator>

namespace wshub::proto {

namespace {

struct ErrorInfo {
  CloseCode code;
  std::string_view name;
  std::string_view sentence;
};

constexpr ErrorInfo kErrors[] = {
    {CloseCode::normal, "none", ""},
    {CloseCode::protocol_error, "reserved_bits",
     "a frame has RSV bits set that no negotiated extension claims"},
    {CloseCode::protocol_error, "reserved_opcode", "a frame uses a reserved opcode"},
    {CloseCode::protocol_error, "control_too_long",
     "a control frame carries more than 125 bytes"},
    {CloseCode::protocol_error, "control_fragmented", "a control frame is fragmented"},
    {CloseCode::protocol_error, "unmasked_frame", "a client frame is not masked"},
    {CloseCode::protocol_error, "masked_frame", "a server frame is masked"},
    {CloseCode::protocol_error, "length_msb_set",
     "a 64-bit payload length has its most significant bit set"},
    {CloseCode::protocol_error, "non_minimal_length",
     "a payload length is not in its shortest encoding"},
    {CloseCode::protocol_error, "unexpected_continuation",
     "a continuation frame arrived with no message in progress"},
    {CloseCode::protocol_error, "expected_continuation",
     "a new text or binary frame arrived before the fragmented message in progress ended"},
    {CloseCode::message_too_big, "frame_too_large",
     "a frame is larger than limits.max_frame_bytes"},
    {CloseCode::message_too_big, "message_too_large",
     "a message is larger than limits.max_message_bytes"},
    {CloseCode::policy_violation, "too_many_fragments",
     "a message arrived in more frames than limits.max_fragments"},
    {CloseCode::invalid_payload, "invalid_utf8", "a text message is not valid UTF-8"},
    {CloseCode::protocol_error, "close_payload_one_byte",
     "a close frame carries a 1-byte payload"},
    {CloseCode::protocol_error, "invalid_close_code",
     "a close frame carries a code that may not be sent"},
    {CloseCode::invalid_payload, "invalid_close_reason",
     "a close frame's reason is not valid UTF-8"},
    {CloseCode::protocol_error, "compressed_continuation",
     "a continuation frame has RSV1 set; only a message's first frame may"},
    {CloseCode::protocol_error, "compressed_control", "a control frame has RSV1 set"},
    {CloseCode::message_too_big, "inflated_too_large",
     "a compressed message inflates to more than limits.max_message_bytes"},
    // 1007, not 1002: the frames were well formed and RSV1 was allowed; it is the message's
    // data that does not match what it claims to be, as with invalid UTF-8 (docs/compression.md).
    {CloseCode::invalid_payload, "corrupt_deflate",
     "a compressed message is not valid permessage-deflate data"},
    {CloseCode::internal_error, "inflate_no_memory",
     "the server could not allocate memory to inflate a compressed message"},
};
static_assert(std::size(kErrors) == size_t(ReaderError::count_));

}  // namespace

CloseCode close_code_of(ReaderError error) { return kErrors[size_t(error)].code; }
std::string_view reader_error_name(ReaderError error) { return kErrors[size_t(error)].name; }
std::string_view reader_error_sentence(ReaderError error) {
  return kErrors[size_t(error)].sentence;
}

}  // namespace wshub::proto
