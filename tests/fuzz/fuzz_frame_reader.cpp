// libFuzzer target for MessageReader.
// Input layout: byte 0 role and flags, byte 1 frame limit, byte 2 message limit, byte 3 chunk
// seed, then the stream. The stream is read three ways that must agree event for event: in
// chunks (each a fresh heap block of exactly its size, scribbled over after use), whole, and by
// a plain reference decoder written from RFC 6455 §5 below. Every event is also checked against
// the limits and the RFC on its own.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "proto/close_code.h"
#include "proto/message_reader.h"
#include "proto/utf8.h"

namespace {

using wshub::MutableBytes;
using wshub::proto::ReaderError;
using wshub::proto::ReaderLimits;
using wshub::proto::ReadEvent;
using Kind = ReadEvent::Kind;

#define FUZZ_CHECK(cond)                                                            \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

struct Event {
  Kind kind;
  uint8_t opcode;  // message only
  bool compressed;
  ReaderError error;
  uint16_t close_code;
  std::string payload;
  bool operator==(const Event&) const = default;
};

// Index of the first byte no UTF-8 text can have there (npos: none); `complete` when the text
// does not end inside a code point. RFC 3629 §4, one code point at a time.
size_t utf8_first_bad(std::string_view s, bool* complete) {
  *complete = true;
  size_t i = 0;
  while (i < s.size()) {
    const uint8_t b = uint8_t(s[i]);
    if (b < 0x80) {
      ++i;
      continue;
    }
    size_t need = 0;
    uint8_t lo = 0x80, hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF)
      need = 1;
    else if (b == 0xE0)
      need = 2, lo = 0xA0;
    else if (b == 0xED)
      need = 2, hi = 0x9F;
    else if (b >= 0xE1 && b <= 0xEF)
      need = 2;
    else if (b == 0xF0)
      need = 3, lo = 0x90;
    else if (b == 0xF4)
      need = 3, hi = 0x8F;
    else if (b >= 0xF1 && b <= 0xF3)
      need = 3;
    else {
      *complete = false;
      return i;
    }
    for (size_t k = 1; k <= need; ++k) {
      if (i + k >= s.size()) {
        *complete = false;
        return std::string::npos;
      }
      const uint8_t c = uint8_t(s[i + k]);
      if (k == 1 ? (c < lo || c > hi) : (c < 0x80 || c > 0xBF)) {
        *complete = false;
        return i + k;
      }
    }
    i += need + 1;
  }
  return std::string::npos;
}

Event error_event(ReaderError e) { return {Kind::error, 0, false, e, 0, {}}; }

// The reference: RFC 6455 §5 rules over the whole stream, checks in the order check_header and
// start_frame document. Stops at the first error or where the stream runs out.
std::vector<Event> reference(std::string_view s, const ReaderLimits& limits) {
  std::vector<Event> events;
  auto fail = [&events](ReaderError e) {
    events.push_back(error_event(e));
    return events;
  };
  uint8_t message_opcode = 0;
  bool compressed = false;
  uint64_t message_size = 0;
  uint32_t fragments = 0;
  std::string message;
  size_t at = 0;
  for (;;) {
    if (s.size() - at < 2) return events;
    const uint8_t b0 = uint8_t(s[at]), b1 = uint8_t(s[at + 1]);
    const uint8_t op = b0 & 0x0F, rsv = b0 & 0x70;
    const bool fin = b0 & 0x80, masked = b1 & 0x80, control = op & 0x08;
    ReaderError e = ReaderError::none;
    if (!(op <= 2 || (op >= 8 && op <= 10)))
      e = ReaderError::reserved_opcode;
    else if (rsv & 0x30)
      e = ReaderError::reserved_bits;
    else if (rsv && !limits.allow_rsv1)
      e = ReaderError::reserved_bits;
    else if (rsv && control)
      e = ReaderError::compressed_control;
    else if (rsv && op == 0)
      e = ReaderError::compressed_continuation;
    else if (masked != limits.expect_masked)
      e = limits.expect_masked ? ReaderError::unmasked_frame : ReaderError::masked_frame;
    else if (control && !fin)
      e = ReaderError::control_fragmented;
    else if (control && (b1 & 0x7F) > 125)
      e = ReaderError::control_too_long;
    else if (!control && op == 0 && message_opcode == 0)
      e = ReaderError::unexpected_continuation;
    else if (!control && op != 0 && message_opcode != 0)
      e = ReaderError::expected_continuation;
    if (e != ReaderError::none) return fail(e);

    const uint8_t len7 = b1 & 0x7F;
    const size_t header = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + (masked ? 4 : 0);
    if (s.size() - at < header) return events;
    uint64_t length = len7;
    if (len7 == 126) {
      length = uint64_t(uint8_t(s[at + 2])) << 8 | uint8_t(s[at + 3]);
      if (length < 126) e = ReaderError::non_minimal_length;
    } else if (len7 == 127) {
      length = 0;
      for (int i = 0; i < 8; ++i) length = length << 8 | uint8_t(s[at + 2 + i]);
      if (length >> 63)
        e = ReaderError::length_msb_set;
      else if (length <= 0xFFFF)
        e = ReaderError::non_minimal_length;
    }
    if (e == ReaderError::none && !control) {
      if (length > limits.max_frame_bytes)
        e = ReaderError::frame_too_large;
      else if (length > limits.max_message_bytes - message_size)
        e = ReaderError::message_too_large;
      else if (fragments + 1 > limits.max_fragments)
        e = ReaderError::too_many_fragments;
    }
    if (e != ReaderError::none) return fail(e);

    uint8_t key[4] = {0, 0, 0, 0};
    if (masked) std::memcpy(key, s.data() + at + header - 4, 4);
    at += header;
    const size_t available = size_t(std::min<uint64_t>(length, s.size() - at));
    std::string payload(s.substr(at, available));
    for (size_t i = 0; i < payload.size(); ++i) payload[i] = char(payload[i] ^ key[i % 4]);

    if (control) {
      if (available < length) return events;
      at += available;
      Event ev{Kind::close, 0, false, ReaderError::none, 0, payload};
      if (op == 0x9) ev.kind = Kind::ping;
      if (op == 0xA) ev.kind = Kind::pong;
      if (ev.kind == Kind::close) {
        bool complete;
        if (payload.empty())
          ev.close_code = 1005;
        else if (payload.size() == 1)
          return fail(ReaderError::close_payload_one_byte);
        else {
          ev.close_code = uint16_t(uint8_t(payload[0]) << 8 | uint8_t(payload[1]));
          if (!wshub::proto::is_valid_wire_close_code(ev.close_code))
            return fail(ReaderError::invalid_close_code);
          ev.payload = payload.substr(2);
          if (utf8_first_bad(ev.payload, &complete) != std::string::npos || !complete)
            return fail(ReaderError::invalid_close_reason);
        }
      }
      events.push_back(ev);
      continue;
    }
    if (op != 0) {
      message_opcode = op;
      compressed = rsv != 0;
      message.clear();
    }
    ++fragments;
    message_size += length;
    message += payload;
    const bool text = message_opcode == 0x1 && !compressed;
    bool complete;
    // The reader refuses bad UTF-8 at the byte, even before the frame or message ends.
    if (text && utf8_first_bad(message, &complete) != std::string::npos)
      return fail(ReaderError::invalid_utf8);
    if (available < length) return events;
    at += available;
    if (!fin) continue;
    if (text && !complete) return fail(ReaderError::invalid_utf8);
    events.push_back({Kind::message, message_opcode, compressed, ReaderError::none, 0, message});
    message_opcode = 0;
    compressed = false;
    message_size = 0;
    fragments = 0;
  }
}

void check_event(const Event& ev, const ReaderLimits& limits) {
  switch (ev.kind) {
    case Kind::message: {
      FUZZ_CHECK(ev.opcode == 1 || ev.opcode == 2);
      FUZZ_CHECK(ev.payload.size() <= limits.max_message_bytes);
      FUZZ_CHECK(!ev.compressed || limits.allow_rsv1);
      if (ev.opcode == 1 && !ev.compressed)
        FUZZ_CHECK(wshub::proto::is_valid_utf8(wshub::as_bytes(ev.payload)));
      break;
    }
    case Kind::ping:
    case Kind::pong:
      FUZZ_CHECK(ev.payload.size() <= 125);
      break;
    case Kind::close:
      FUZZ_CHECK(ev.payload.size() <= 123);
      FUZZ_CHECK(ev.close_code == 1005 ? ev.payload.empty()
                                       : wshub::proto::is_valid_wire_close_code(ev.close_code));
      FUZZ_CHECK(wshub::proto::is_valid_utf8(wshub::as_bytes(ev.payload)));
      break;
    case Kind::error:
      FUZZ_CHECK(ev.error != ReaderError::none && ev.error < ReaderError::count_);
      FUZZ_CHECK(!wshub::proto::reader_error_sentence(ev.error).empty());
      break;
    case Kind::need_more:
      FUZZ_CHECK(false);
      break;
  }
}

// Reads `stream` in chunks ending at `ends`; returns the events up to and including an error.
std::vector<Event> read_in_chunks(std::string_view stream, const std::vector<size_t>& ends,
                                  const ReaderLimits& limits) {
  std::vector<Event> events;
  wshub::proto::MessageReader reader;
  size_t begin = 0;
  for (size_t end : ends) {
    const size_t size = end - begin;
    auto chunk = std::make_unique<uint8_t[]>(size ? size : 1);
    std::memcpy(chunk.get(), stream.data() + begin, size);
    MutableBytes input(chunk.get(), size);
    for (;;) {
      const size_t before = input.size();
      ReadEvent ev = reader.next(input, limits);
      FUZZ_CHECK(input.size() <= before);
      if (ev.kind == Kind::need_more) {
        FUZZ_CHECK(input.empty());
        break;
      }
      Event e{ev.kind,
              ev.kind == Kind::message ? uint8_t(ev.opcode) : uint8_t(0),
              ev.compressed,
              ev.error,
              ev.close_code,
              std::string(reinterpret_cast<const char*>(ev.payload.data()), ev.payload.size())};
      check_event(e, limits);
      events.push_back(std::move(e));
      if (ev.kind == Kind::error) return events;
    }
    std::memset(chunk.get(), 0xA5, size);
    begin = end;
  }
  if (!reader.mid_message()) {
    MutableBytes empty;
    FUZZ_CHECK(reader.next(empty, limits).kind == Kind::need_more);
    FUZZ_CHECK(!reader.holds_memory());
  }
  return events;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  ReaderLimits limits;
  limits.expect_masked = !(data[0] & 0x01);
  limits.allow_rsv1 = data[0] & 0x02;
  limits.max_fragments = 1 + (data[0] >> 3);  // 1..32
  // Small limits so the fuzzer reaches them; 0 means the default (16 MiB).
  if (data[1]) limits.max_frame_bytes = uint64_t(data[1]) * 4;
  if (data[2]) limits.max_message_bytes = uint64_t(data[2]) * 8;
  const uint8_t seed = data[3];
  const std::string_view stream(reinterpret_cast<const char*>(data + 4), size - 4);

  std::vector<size_t> ends;
  uint32_t rng = 0x2545F491u ^ seed;
  const size_t max_step = seed % 4 == 0 ? 1 : seed % 4 == 1 ? 3 : seed % 4 == 2 ? 17 : 200;
  for (size_t at = 0; at < stream.size();) {
    rng = rng * 1664525u + 1013904223u;
    at = std::min(stream.size(), at + 1 + (rng >> 16) % max_step);
    ends.push_back(at);
  }
  const std::vector<Event> chunked = read_in_chunks(stream, ends, limits);
  const std::vector<Event> whole = read_in_chunks(stream, {stream.size()}, limits);
  FUZZ_CHECK(chunked == whole);
  FUZZ_CHECK(reference(stream, limits) == whole);
  return 0;
}
