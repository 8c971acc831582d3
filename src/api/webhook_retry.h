// When a notice that must arrive is tried again: exponential backoff with full jitter (each
// delay uniform in [0, min(max_delay, base * 2^(n-1))]), bounded by max_attempts and by
// max_total_ms after submit. Pure, with its own seeded generator; the caller passes the time.
#pragma once

#include <cstdint>
#include <optional>

#include "api/webhook_types.h"

namespace wshub::api {

// Whether another attempt could succeed: backend failures, 408 and 429, and calls refused by
// an open breaker. Other answers (4xx, a body too large) are the backend's final word.
bool is_retryable(WebhookOutcome outcome, uint16_t http_status);

class RetrySchedule {
 public:
  explicit RetrySchedule(uint64_t seed) : state_(seed | 1) {}

  // The backoff before attempt `attempts_made + 1`, for attempts_made >= 1.
  uint32_t backoff_ms(const WebhookRetryPolicy& policy, uint32_t attempts_made);

  // When the next attempt should start, or nothing when the policy is spent: attempts_made has
  // reached max_attempts, or the attempt would start after submitted_ms + max_total_ms.
  // `not_before_ms` moves the attempt later (an open breaker's end), never earlier.
  std::optional<uint64_t> next_attempt_ms(const WebhookRetryPolicy& policy,
                                          uint32_t attempts_made, uint64_t submitted_ms,
                                          uint64_t now_ms, uint64_t not_before_ms = 0);

 private:
  uint64_t next_random();
  uint64_t state_;
};

}  // namespace wshub::api
