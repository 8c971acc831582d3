#include "proto/utf8.h"

#include <array>
#include <simdjson.h>

namespace wshub::proto {

namespace {

// Byte classes: which lead or continuation range a byte falls in (RFC 3629 §4 syntax).
enum : uint8_t {
  kAscii,     // 00..7F
  kCont80,    // 80..8F
  kCont90,    // 90..9F
  kContA0,    // A0..BF
  kInvalid,   // C0, C1, F5..FF
  kLead2,     // C2..DF
  kLeadE0,    // E0: next byte A0..BF (no overlong forms)
  kLead3,     // E1..EC, EE, EF
  kLeadED,    // ED: next byte 80..9F (no surrogates)
  kLeadF0,    // F0: next byte 90..BF (no overlong forms)
  kLead4,     // F1..F3
  kLeadF4,    // F4: next byte 80..8F (nothing above U+10FFFF)
  kClassCount
};

// States: 0 accept, 1 reject, then what the validator still waits for.
enum : uint8_t {
  kAcceptState,
  kRejectState,
  kNeed1,       // one continuation byte
  kNeed2,       // two continuation bytes
  kNeedA0Then1,
  kNeed80To9FThen1,
  kNeed90Then2,
  kNeed3,
  kNeed80To8FThen2,
  kStateCount
};

constexpr std::array<uint8_t, 256> make_classes() {
  std::array<uint8_t, 256> c{};
  for (int b = 0; b < 256; ++b) {
    uint8_t k = kInvalid;
    if (b < 0x80) k = kAscii;
    else if (b < 0x90) k = kCont80;
    else if (b < 0xA0) k = kCont90;
    else if (b < 0xC0) k = kContA0;
    else if (b < 0xC2) k = kInvalid;
    else if (b < 0xE0) k = kLead2;
    else if (b == 0xE0) k = kLeadE0;
    else if (b == 0xED) k = kLeadED;
    else if (b < 0xF0) k = kLead3;
    else if (b == 0xF0) k = kLeadF0;
    else if (b < 0xF4) k = kLead4;
    else if (b == 0xF4) k = kLeadF4;
    c[b] = k;
  }
  return c;
}

constexpr std::array<std::array<uint8_t, kClassCount>, kStateCount> make_transitions() {
  std::array<std::array<uint8_t, kClassCount>, kStateCount> t{};
  for (auto& row : t) row.fill(kRejectState);
  auto& a = t[kAcceptState];
  a[kAscii] = kAcceptState;
  a[kLead2] = kNeed1;
  a[kLeadE0] = kNeedA0Then1;
  a[kLead3] = kNeed2;
  a[kLeadED] = kNeed80To9FThen1;
  a[kLeadF0] = kNeed90Then2;
  a[kLead4] = kNeed3;
  a[kLeadF4] = kNeed80To8FThen2;
  for (uint8_t k : {kCont80, kCont90, kContA0}) {
    t[kNeed1][k] = kAcceptState;
    t[kNeed2][k] = kNeed1;
    t[kNeed3][k] = kNeed2;
  }
  t[kNeedA0Then1][kContA0] = kNeed1;
  t[kNeed80To9FThen1][kCont80] = kNeed1;
  t[kNeed80To9FThen1][kCont90] = kNeed1;
  t[kNeed90Then2][kCont90] = kNeed2;
  t[kNeed90Then2][kContA0] = kNeed2;
  t[kNeed80To8FThen2][kCont80] = kNeed2;
  return t;
}

constexpr auto kClasses = make_classes();
constexpr auto kTransitions = make_transitions();
constexpr uint64_t kHighBits = 0x8080808080808080ull;

}  // namespace

namespace {

// Where a complete-sequence prefix of `data` ends: the start of a trailing sequence that is
// cut short, or `length` when none is.
size_t complete_prefix(const uint8_t* data, size_t length) {
  for (size_t back = 1; back <= 4 && back <= length; ++back) {
    const uint8_t byte = data[length - back];
    if ((byte & 0xC0) == 0x80) continue;  // a continuation byte: keep looking for its lead
    const size_t needed = byte < 0x80 ? 1 : byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : 2;
    return needed > back ? length - back : length;
  }
  return length;  // four continuation bytes: invalid, and simdjson will say so
}

}  // namespace

bool Utf8Validator::feed(const uint8_t* data, size_t length) {
  uint8_t state = state_;
  size_t i = 0;
  // Finish a sequence left open by the previous piece, byte by byte.
  while (i < length && state != kAcceptState && state != kRejectState)
    state = kTransitions[state][kClasses[data[i++]]];
  if (state == kRejectState) {
    state_ = state;
    return false;
  }
  // Long runs of whole sequences go to simdjson's vectorised validator; the DFA below only
  // sees the short tail that may stop inside a sequence.
  if (length - i >= 256) {
    const size_t end = i + complete_prefix(data + i, length - i);
    if (!simdjson::validate_utf8(reinterpret_cast<const char*>(data + i), end - i)) {
      state_ = kRejectState;
      return false;
    }
    i = end;
  }
  while (i < length) {
    if (state == kAcceptState) {
      // ASCII runs are the common case in JSON: skip them 16 bytes at a time.
      while (i + 16 <= length && ((load_u64(data + i) | load_u64(data + i + 8)) & kHighBits) == 0)
        i += 16;
      while (i < length && data[i] < 0x80) ++i;
      if (i == length) break;
    }
    state = kTransitions[state][kClasses[data[i]]];
    if (state == kRejectState) {
      state_ = state;
      return false;
    }
    ++i;
  }
  state_ = state;
  return state != kRejectState;  // an empty feed must not hide an earlier failure
}

bool is_valid_utf8(Bytes bytes) {
  if (bytes.size() < 64) {
    Utf8Validator validator;
    return validator.feed(bytes) && validator.complete();
  }
  return simdjson::validate_utf8(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

}  // namespace wshub::proto
