// The sans-I/O WebSocket reader: bytes in, messages, control frames or a named error out
// (RFC 6455 §5). It owns no socket; it unmasks in place in the buffer it is handed, so a message
// that arrives whole in one read is delivered without a copy. It holds memory only while a
// message or control frame is split across reads.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/bytes.h"
#include "proto/frame.h"
#include "proto/reader_error.h"
#include "proto/utf8.h"

namespace wshub::proto {

struct ReaderLimits {
  uint64_t max_frame_bytes = 16u << 20;
  uint64_t max_message_bytes = 16u << 20;
  // Bounds the work one message can cause; generous enough for 4 MiB in 64-byte fragments.
  uint32_t max_fragments = 131072;
  bool expect_masked = true;  // true for a server reading a client, false for a client
  bool allow_rsv1 = false;    // true when permessage-deflate was negotiated
};

struct ReadEvent {
  enum class Kind : uint8_t { need_more, message, ping, pong, close, error };
  Kind kind = Kind::need_more;
  Opcode opcode = Opcode::binary;  // message: text or binary
  bool compressed = false;         // message: RSV1 was set on its first frame
  ReaderError error = ReaderError::none;
  uint16_t close_code = 0;         // close: the peer's code, 1005 when it sent none
  Bytes payload;                   // message, ping, pong payload or close reason; valid until
                                   // the next call to `next`
};

class MessageReader {
 public:
  MessageReader() = default;
  MessageReader(const MessageReader&) = delete;
  MessageReader& operator=(const MessageReader&) = delete;
  ~MessageReader() { release(); }

  // Consumes bytes from the front of `input` until it can report one event. On `need_more`
  // all of `input` has been consumed (partial frames are kept inside the reader), so the
  // caller may reuse its buffer. After `error` the reader must not be fed again.
  ReadEvent next(MutableBytes& input, const ReaderLimits& limits);

  // True while part of a frame or message is held (the connection then owns memory).
  bool mid_message() const { return header_have_ != 0 || in_payload_ || message_opcode_ != 0; }
  bool holds_memory() const { return store_ != nullptr; }
  // Frees held memory; the reader is then reset to the start of a frame.
  void release();

 private:
  struct Store;
  void free_store();  // frees the memory only, keeping the frame and message state
  enum class HeaderStatus : uint8_t { need_more, ready, error };

  HeaderStatus read_header(MutableBytes& input, const ReaderLimits& limits, ReaderError& error);
  ReaderError check_header(const uint8_t* header, const ReaderLimits& limits);
  ReaderError start_frame(const uint8_t* header, const ReaderLimits& limits);
  ReadEvent read_data_payload(MutableBytes& input, const ReaderLimits& limits);
  ReadEvent read_control_payload(MutableBytes& input);
  ReadEvent finish_control(Bytes payload);
  ReadEvent finish_message(Bytes payload, bool utf8_pending);
  bool append_to_store(const uint8_t* data, size_t size, uint64_t max_message_bytes);
  Store& store();

  Store* store_ = nullptr;
  uint64_t frame_remaining_ = 0;
  uint64_t message_size_ = 0;
  uint32_t mask_key_ = 0;
  uint32_t fragments_ = 0;
  uint8_t header_[kMaxHeaderSize];
  uint8_t header_have_ = 0;
  uint8_t frame_opcode_ = 0;
  uint8_t message_opcode_ = 0;  // 0: no data message in progress, else text or binary
  uint8_t mask_phase_ = 0;
  // The reader lives in every connection, so every byte counts (docs/capacity.md): the flags
  // of every frame are whole bytes (bit fields there cost a third of the reader's speed on
  // small messages, measured with BM_ReadMessages/16); the rarer two share one byte.
  bool in_payload_ = false;
  bool frame_fin_ = false;
  bool frame_masked_ = false;
  bool frame_started_payload_ = false;
  bool message_compressed_ : 1 = false;
  bool drop_delivered_ : 1 = false;  // the last event's payload lives in the store
  Utf8Validator utf8_;
};

}  // namespace wshub::proto
