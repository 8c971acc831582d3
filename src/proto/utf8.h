// UTF-8 validation (RFC 3629) for text messages and close reasons.
// `Utf8Validator` is incremental: a code point may be split across frames and reads, and it
// stops at the first byte that can never be valid, so a bad message is refused early.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/bytes.h"

namespace wshub::proto {

class Utf8Validator {
 public:
  // Feeds the next bytes. Returns false as soon as the input so far cannot be valid UTF-8;
  // after that the validator stays failed until `reset`.
  bool feed(const uint8_t* data, size_t length);
  bool feed(Bytes bytes) { return feed(bytes.data(), bytes.size()); }
  // True when the input so far is valid and does not end inside a code point.
  bool complete() const { return state_ == kAccept; }
  bool failed() const { return state_ == kReject; }
  void reset() { state_ = kAccept; }

  static constexpr uint8_t kAccept = 0;
  static constexpr uint8_t kReject = 1;

 private:
  uint8_t state_ = kAccept;
};

// Whole-buffer check: true when `bytes` is complete, valid UTF-8.
bool is_valid_utf8(Bytes bytes);

}  // namespace wshub::proto
