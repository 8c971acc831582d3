// Test support for the WebSocket reader: builds frames byte by byte from RFC 6455 §5.2 (never
// through proto/frame.h, so a writer bug cannot hide a reader bug) and drives a MessageReader
// over a stream cut into chunks, recording every event it reports.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "proto/message_reader.h"
#include "proto/reader_error.h"

namespace wshub::test {

using Stream = std::vector<uint8_t>;

// How the payload length is written: the shortest form, or forced into a longer one.
enum class LengthForm { minimal, force16, force64 };

struct FrameSpec {
  uint8_t opcode = 0x1;
  std::string_view payload;
  bool fin = true;
  uint8_t rsv = 0;  // RSV bits as they sit in the first byte
  bool masked = true;
  uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
  LengthForm form = LengthForm::minimal;
  uint64_t declared_length = UINT64_MAX;  // UINT64_MAX: the payload's own size
};

inline Stream encode(const FrameSpec& spec) {
  Stream out;
  out.push_back(uint8_t((spec.fin ? 0x80 : 0) | spec.rsv | spec.opcode));
  const uint64_t length =
      spec.declared_length == UINT64_MAX ? spec.payload.size() : spec.declared_length;
  const uint8_t mask_bit = spec.masked ? 0x80 : 0;
  LengthForm form = spec.form;
  if (form == LengthForm::minimal && length >= 126)
    form = length <= 0xFFFF ? LengthForm::force16 : LengthForm::force64;
  if (form == LengthForm::minimal) {
    out.push_back(uint8_t(mask_bit | length));
  } else if (form == LengthForm::force16) {
    out.push_back(mask_bit | 126);
    out.push_back(uint8_t(length >> 8));
    out.push_back(uint8_t(length));
  } else {
    out.push_back(mask_bit | 127);
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(uint8_t(length >> shift));
  }
  if (spec.masked) out.insert(out.end(), spec.key, spec.key + 4);
  for (size_t i = 0; i < spec.payload.size(); ++i)
    out.push_back(uint8_t(spec.payload[i]) ^ (spec.masked ? spec.key[i % 4] : 0));
  return out;
}

// A masked frame as a client sends it.
inline Stream client_frame(uint8_t opcode, std::string_view payload, bool fin = true,
                           uint8_t rsv = 0) {
  FrameSpec spec;
  spec.opcode = opcode;
  spec.payload = payload;
  spec.fin = fin;
  spec.rsv = rsv;
  return encode(spec);
}

// An unmasked frame as a server sends it.
inline Stream server_frame(uint8_t opcode, std::string_view payload, bool fin = true) {
  FrameSpec spec;
  spec.opcode = opcode;
  spec.payload = payload;
  spec.fin = fin;
  spec.masked = false;
  return encode(spec);
}

inline std::string close_payload(uint16_t code, std::string_view reason = {}) {
  std::string out;
  out.push_back(char(code >> 8));
  out.push_back(char(code & 0xFF));
  out.append(reason);
  return out;
}

inline Stream concat(std::initializer_list<Stream> parts) {
  Stream out;
  for (const Stream& part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}

// One reader event with its payload copied out (the reader's view dies at the next call).
struct Event {
  proto::ReadEvent::Kind kind = proto::ReadEvent::Kind::need_more;
  proto::Opcode opcode = proto::Opcode::binary;
  bool compressed = false;
  proto::ReaderError error = proto::ReaderError::none;
  uint16_t close_code = 0;
  std::string payload;

  bool operator==(const Event&) const = default;
};

inline Event text_message(std::string_view payload) {
  return {proto::ReadEvent::Kind::message, proto::Opcode::text, false, {}, 0, std::string(payload)};
}
inline Event binary_message(std::string_view payload) {
  return {proto::ReadEvent::Kind::message, proto::Opcode::binary, false, {}, 0,
          std::string(payload)};
}
inline Event ping_event(std::string_view payload) {
  return {proto::ReadEvent::Kind::ping, proto::Opcode::binary, false, {}, 0, std::string(payload)};
}
inline Event pong_event(std::string_view payload) {
  return {proto::ReadEvent::Kind::pong, proto::Opcode::binary, false, {}, 0, std::string(payload)};
}
inline Event close_event(uint16_t code, std::string_view reason = {}) {
  return {proto::ReadEvent::Kind::close, proto::Opcode::binary, false, {}, code,
          std::string(reason)};
}
inline Event error_event(proto::ReaderError error) {
  return {proto::ReadEvent::Kind::error, proto::Opcode::binary, false, error, 0, {}};
}

inline std::ostream& operator<<(std::ostream& os, const Event& e) {
  static constexpr const char* kKinds[] = {"need_more", "message", "ping", "pong", "close",
                                           "error"};
  os << kKinds[size_t(e.kind)];
  if (e.kind == proto::ReadEvent::Kind::message)
    os << (e.opcode == proto::Opcode::text ? " text" : " binary") << (e.compressed ? " rsv1" : "");
  if (e.kind == proto::ReadEvent::Kind::error) os << ' ' << proto::reader_error_name(e.error);
  if (e.kind == proto::ReadEvent::Kind::close) os << ' ' << e.close_code;
  os << " [" << e.payload.size() << " bytes";
  if (e.payload.size() <= 32) os << ": \"" << e.payload << '"';
  return os << ']';
}

struct ReaderRun {
  std::vector<Event> events;
  // Stream offset one past the chunk whose feeding produced the error, or SIZE_MAX.
  size_t error_fed_up_to = SIZE_MAX;
};

// Feeds `stream` in chunks ending at `cuts` (increasing offsets; the stream end is implied).
// Each chunk lives in its own allocation that is scribbled over and freed after use, so a
// reader that keeps a pointer into an old read buffer trips AddressSanitizer or the checks.
// Asserts the reader's contract on the way: need_more consumes the whole chunk, and once the
// stream ends between messages the reader holds no memory.
inline ReaderRun run_reader(const Stream& stream, const std::vector<size_t>& cuts,
                            const proto::ReaderLimits& limits) {
  ReaderRun run;
  proto::MessageReader reader;
  size_t begin = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(stream.size());
  for (size_t end : ends) {
    if (end < begin) continue;
    auto* chunk = new uint8_t[end - begin + 1];  // never zero-sized
    std::copy(stream.begin() + std::ptrdiff_t(begin), stream.begin() + std::ptrdiff_t(end), chunk);
    MutableBytes input(chunk, end - begin);
    bool failed = false;
    for (;;) {
      const size_t before = input.size();
      proto::ReadEvent ev = reader.next(input, limits);
      EXPECT_LE(input.size(), before);
      if (ev.kind == proto::ReadEvent::Kind::need_more) {
        EXPECT_TRUE(input.empty()) << "need_more left " << input.size() << " bytes unconsumed";
        EXPECT_TRUE(ev.payload.empty());
        break;
      }
      Event e{ev.kind, ev.opcode, ev.compressed, ev.error, ev.close_code,
              std::string(reinterpret_cast<const char*>(ev.payload.data()), ev.payload.size())};
      if (ev.kind != proto::ReadEvent::Kind::message) e.opcode = proto::Opcode::binary;
      run.events.push_back(std::move(e));
      if (ev.kind == proto::ReadEvent::Kind::error) {
        run.error_fed_up_to = end;
        failed = true;
        break;
      }
    }
    std::fill(chunk, chunk + (end - begin + 1), 0xA5);
    delete[] chunk;
    if (failed) return run;
    begin = end;
  }
  if (!reader.mid_message()) {
    MutableBytes empty;
    EXPECT_EQ(reader.next(empty, limits).kind, proto::ReadEvent::Kind::need_more);
    EXPECT_FALSE(reader.holds_memory()) << "an idle reader still holds memory";
  }
  return run;
}

inline std::vector<size_t> byte_by_byte(size_t size) {
  std::vector<size_t> cuts;
  for (size_t i = 1; i < size; ++i) cuts.push_back(i);
  return cuts;
}

// Split points worth trying on `size` bytes: all of them for small streams, and for big ones
// the first and last 40, every header-sized neighbourhood and an even spread in between.
inline std::vector<size_t> split_points(size_t size, size_t exhaustive_up_to = 4096) {
  std::vector<size_t> points;
  if (size <= exhaustive_up_to) {
    for (size_t i = 0; i <= size; ++i) points.push_back(i);
    return points;
  }
  for (size_t i = 0; i <= 40; ++i) points.push_back(i);
  for (size_t i = 1; i <= 97; ++i) points.push_back(size * i / 98);
  for (size_t i = size - 40; i <= size; ++i) points.push_back(i);
  return points;
}

// Runs `stream` whole, byte by byte (when `byte_feed`) and split in two at each of
// split_points(), and checks every run reports `expected`.
inline void expect_events(const Stream& stream, const std::vector<Event>& expected,
                          const proto::ReaderLimits& limits = {}, bool byte_feed = true) {
  EXPECT_EQ(run_reader(stream, {}, limits).events, expected) << "fed whole";
  if (byte_feed) {
    EXPECT_EQ(run_reader(stream, byte_by_byte(stream.size()), limits).events, expected)
        << "fed byte by byte";
  }
  for (size_t cut : split_points(stream.size())) {
    ReaderRun run = run_reader(stream, {cut}, limits);
    EXPECT_EQ(run.events, expected) << "split at " << cut;
    if (run.events != expected) break;  // one failing split point says enough
  }
}

}  // namespace wshub::test
