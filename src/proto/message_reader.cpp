#include "proto/message_reader.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "proto/close_code.h"
#include "proto/mask.h"

namespace wshub::proto {

// Memory held only while a frame or message spans reads.
struct MessageReader::Store {
  uint8_t* data = nullptr;  // the data message assembled so far
  size_t size = 0;
  size_t capacity = 0;
  uint8_t control[kMaxControlPayload];
  uint8_t control_size = 0;
  ~Store() { std::free(data); }
};

namespace {

ReadEvent error_event(ReaderError error) {
  ReadEvent event;
  event.kind = ReadEvent::Kind::error;
  event.error = error;
  return event;
}

size_t header_size_from(uint8_t second_byte) {
  uint8_t len7 = second_byte & 0x7F;
  size_t size = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0);
  return (second_byte & kMaskBit) ? size + 4 : size;
}

}  // namespace

void MessageReader::free_store() {
  delete store_;
  store_ = nullptr;
  drop_delivered_ = false;
}

void MessageReader::release() {
  free_store();
  // Whatever frame or message was in progress went with the memory that held it.
  header_have_ = 0;
  in_payload_ = false;
  frame_remaining_ = 0;
  frame_started_payload_ = false;
  message_opcode_ = 0;
  message_compressed_ = false;
  message_size_ = 0;
  fragments_ = 0;
  utf8_.reset();
}

MessageReader::Store& MessageReader::store() {
  if (!store_) store_ = new Store;
  return *store_;
}

ReaderError MessageReader::check_header(const uint8_t* h, const ReaderLimits& limits) {
  const uint8_t opcode = h[0] & 0x0F;
  const uint8_t rsv = h[0] & (kRsv1 | kRsv2 | kRsv3);
  const bool fin = h[0] & kFin;
  const bool control = opcode & 0x8;
  if (!is_known_opcode(opcode)) return ReaderError::reserved_opcode;
  if (rsv & (kRsv2 | kRsv3)) return ReaderError::reserved_bits;
  if (rsv & kRsv1) {
    if (!limits.allow_rsv1) return ReaderError::reserved_bits;
    if (control) return ReaderError::compressed_control;
    if (opcode == 0) return ReaderError::compressed_continuation;
  }
  if (bool(h[1] & kMaskBit) != limits.expect_masked)
    return limits.expect_masked ? ReaderError::unmasked_frame : ReaderError::masked_frame;
  if (control) {
    if (!fin) return ReaderError::control_fragmented;
    if ((h[1] & 0x7F) > kMaxControlPayload) return ReaderError::control_too_long;
  } else if (opcode == 0 && message_opcode_ == 0) {
    return ReaderError::unexpected_continuation;
  } else if (opcode != 0 && message_opcode_ != 0) {
    return ReaderError::expected_continuation;
  }
  return ReaderError::none;
}

ReaderError MessageReader::start_frame(const uint8_t* h, const ReaderLimits& limits) {
  const uint8_t len7 = h[1] & 0x7F;
  uint64_t length = len7;
  size_t at = 2;
  if (len7 == 126) {
    length = load_be16(h + 2);
    if (length < 126) return ReaderError::non_minimal_length;
    at = 4;
  } else if (len7 == 127) {
    length = load_be64(h + 2);
    if (length >> 63) return ReaderError::length_msb_set;
    if (length <= 0xFFFF) return ReaderError::non_minimal_length;
    at = 10;
  }
  frame_masked_ = h[1] & kMaskBit;
  mask_key_ = 0;
  if (frame_masked_) std::memcpy(&mask_key_, h + at, 4);
  frame_opcode_ = h[0] & 0x0F;
  frame_fin_ = h[0] & kFin;
  if (!is_control(Opcode(frame_opcode_))) {
    // Every size limit is checked here, on the declared length, before a byte is stored.
    if (length > limits.max_frame_bytes) return ReaderError::frame_too_large;
    if (length > limits.max_message_bytes - message_size_) return ReaderError::message_too_large;
    if (++fragments_ > limits.max_fragments) return ReaderError::too_many_fragments;
    if (frame_opcode_ != 0) {
      message_opcode_ = frame_opcode_;
      message_compressed_ = h[0] & kRsv1;
      utf8_.reset();
    }
    message_size_ += length;
  }
  frame_remaining_ = length;
  mask_phase_ = 0;
  in_payload_ = true;
  frame_started_payload_ = false;
  return ReaderError::none;
}

MessageReader::HeaderStatus MessageReader::read_header(MutableBytes& input,
                                                       const ReaderLimits& limits,
                                                       ReaderError& error) {
  // Fast path: the whole header is in the input, nothing half-read before it.
  if (header_have_ == 0 && input.size() >= 2) {
    const size_t need = header_size_from(input[1]);
    if (input.size() >= need) {
      error = check_header(input.data(), limits);
      if (error == ReaderError::none) error = start_frame(input.data(), limits);
      if (error != ReaderError::none) return HeaderStatus::error;
      input = input.subspan(need);
      return HeaderStatus::ready;
    }
  }
  // Slow path: gather the header in `header_` across reads, checking as soon as 2 bytes are in.
  while (!input.empty()) {
    const size_t need = header_have_ < 2 ? 2 : header_size_from(header_[1]);
    const size_t take = std::min(need - header_have_, input.size());
    std::memcpy(header_ + header_have_, input.data(), take);
    header_have_ = uint8_t(header_have_ + take);
    input = input.subspan(take);
    if (header_have_ == 2) {
      error = check_header(header_, limits);
      if (error != ReaderError::none) return HeaderStatus::error;
    }
    if (header_have_ >= 2 && header_have_ == header_size_from(header_[1])) {
      header_have_ = 0;
      error = start_frame(header_, limits);
      return error == ReaderError::none ? HeaderStatus::ready : HeaderStatus::error;
    }
  }
  return HeaderStatus::need_more;
}

bool MessageReader::append_to_store(const uint8_t* data, size_t size, uint64_t max_message_bytes) {
  Store& s = store();
  if (s.size + size > s.capacity) {
    // Grow by what arrived, never by what the peer declared: a header claiming 16 MiB costs
    // nothing until the bytes come. Doubling keeps a message sent in many small fragments
    // linear (each byte is copied O(1) times on average); the configured limit caps the
    // doubling, so the buffer never exceeds the largest message allowed.
    size_t capacity = std::max<size_t>({s.size + size, s.capacity * 2, 4096});
    capacity = size_t(std::min<uint64_t>(capacity, std::max<uint64_t>(max_message_bytes, s.size + size)));
    auto* grown = static_cast<uint8_t*>(std::realloc(s.data, capacity));
    if (!grown) return false;
    s.data = grown;
    s.capacity = capacity;
  }
  std::memcpy(s.data + s.size, data, size);
  s.size += size;
  return true;
}

ReadEvent MessageReader::finish_message(Bytes payload, bool utf8_pending) {
  ReadEvent event;
  if (utf8_pending && message_opcode_ == uint8_t(Opcode::text) && !message_compressed_ &&
      !utf8_.complete())
    return error_event(ReaderError::invalid_utf8);
  event.kind = ReadEvent::Kind::message;
  event.opcode = Opcode(message_opcode_);
  event.compressed = message_compressed_;
  event.payload = payload;
  message_opcode_ = 0;
  message_compressed_ = false;
  message_size_ = 0;
  fragments_ = 0;
  return event;
}

ReadEvent MessageReader::read_data_payload(MutableBytes& input, const ReaderLimits& limits) {
  const bool text = message_opcode_ == uint8_t(Opcode::text) && !message_compressed_;
  // Fast path: a whole single-frame message in the input is handed out where it lies.
  if (!frame_started_payload_ && frame_fin_ && frame_opcode_ != 0 &&
      frame_remaining_ <= input.size()) {
    const size_t n = size_t(frame_remaining_);
    uint8_t* data = input.data();
    if (frame_masked_) apply_mask(data, n, mask_key_);
    input = input.subspan(n);
    in_payload_ = false;
    frame_remaining_ = 0;
    if (text && !is_valid_utf8({data, n})) return error_event(ReaderError::invalid_utf8);
    return finish_message({data, n}, /*utf8_pending=*/false);
  }
  const size_t n = size_t(std::min<uint64_t>(frame_remaining_, input.size()));
  uint8_t* data = input.data();
  if (frame_masked_) mask_phase_ = uint8_t(apply_mask(data, n, mask_key_, mask_phase_));
  input = input.subspan(n);
  frame_remaining_ -= n;
  frame_started_payload_ = true;
  // Checking each piece as it arrives refuses a bad message at its first bad byte.
  if (text && !utf8_.feed(data, n)) return error_event(ReaderError::invalid_utf8);
  if (n && !append_to_store(data, n, limits.max_message_bytes))
    return error_event(ReaderError::message_too_large);
  if (frame_remaining_ != 0) return {};
  in_payload_ = false;
  if (!frame_fin_) {
    return {};
  }
  // An empty message has no store; deliver it as empty.
  Bytes payload = store_ ? Bytes{store_->data, store_->size} : Bytes{};
  drop_delivered_ = true;
  return finish_message(payload, /*utf8_pending=*/true);
}

ReadEvent MessageReader::finish_control(Bytes payload) {
  ReadEvent event;
  switch (Opcode(frame_opcode_)) {
    case Opcode::ping: event.kind = ReadEvent::Kind::ping; break;
    case Opcode::pong: event.kind = ReadEvent::Kind::pong; break;
    default: {
      event.kind = ReadEvent::Kind::close;
      if (payload.empty()) {
        event.close_code = uint16_t(CloseCode::no_status);
        break;
      }
      if (payload.size() == 1) return error_event(ReaderError::close_payload_one_byte);
      event.close_code = load_be16(payload.data());
      if (!is_valid_wire_close_code(event.close_code))
        return error_event(ReaderError::invalid_close_code);
      payload = payload.subspan(2);
      if (!is_valid_utf8(payload)) return error_event(ReaderError::invalid_close_reason);
    }
  }
  event.payload = payload;
  return event;
}

ReadEvent MessageReader::read_control_payload(MutableBytes& input) {
  // Fast path: the whole control frame payload is in the input.
  if (!frame_started_payload_ && frame_remaining_ <= input.size()) {
    const size_t n = size_t(frame_remaining_);
    uint8_t* data = input.data();
    if (frame_masked_) apply_mask(data, n, mask_key_);
    input = input.subspan(n);
    in_payload_ = false;
    frame_remaining_ = 0;
    return finish_control({data, n});
  }
  Store& s = store();
  if (!frame_started_payload_) s.control_size = 0;
  frame_started_payload_ = true;
  const size_t n = size_t(std::min<uint64_t>(frame_remaining_, input.size()));
  mask_phase_ = uint8_t(
      apply_mask_copy(s.control + s.control_size, input.data(), n,
                      frame_masked_ ? mask_key_ : 0, mask_phase_));
  s.control_size = uint8_t(s.control_size + n);
  input = input.subspan(n);
  frame_remaining_ -= n;
  if (frame_remaining_ != 0) return {};
  in_payload_ = false;
  return finish_control({s.control, s.control_size});
}

ReadEvent MessageReader::next(MutableBytes& input, const ReaderLimits& limits) {
  if (drop_delivered_) {
    drop_delivered_ = false;
    // A message made only of empty fragments is delivered without a store ever existing.
    if (store_) store_->size = 0;
  }
  for (;;) {
    if (!in_payload_) {
      // Between frames: if nothing is held any more, give the memory back.
      if (store_ && message_opcode_ == 0 && store_->size == 0) free_store();
      if (input.empty()) return {};
      ReaderError error = ReaderError::none;
      switch (read_header(input, limits, error)) {
        case HeaderStatus::need_more: return {};
        case HeaderStatus::error: return error_event(error);
        case HeaderStatus::ready: break;
      }
    }
    const bool control = is_control(Opcode(frame_opcode_));
    if (input.empty() && frame_remaining_ != 0) return {};
    ReadEvent event = control ? read_control_payload(input) : read_data_payload(input, limits);
    if (event.kind != ReadEvent::Kind::need_more) return event;
    if (input.empty() && in_payload_) return {};
  }
}

}  // namespace wshub::proto
