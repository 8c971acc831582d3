#include "api/webhook_retry.h"

#include <algorithm>

namespace wshub::api {

bool is_retryable(WebhookOutcome outcome, uint16_t http_status) {
  if (outcome == WebhookOutcome::circuit_open) return true;
  if (outcome == WebhookOutcome::http_status_error && (http_status == 408 || http_status == 429))
    return true;
  return is_backend_failure(outcome, http_status);
}

uint64_t RetrySchedule::next_random() {
  // xorshift64*: plenty for spreading retries; not for anything secret.
  state_ ^= state_ >> 12;
  state_ ^= state_ << 25;
  state_ ^= state_ >> 27;
  return state_ * 0x2545F4914F6CDD1Dull;
}

uint32_t RetrySchedule::backoff_ms(const WebhookRetryPolicy& policy, uint32_t attempts_made) {
  uint32_t doublings = std::min<uint32_t>(attempts_made > 0 ? attempts_made - 1 : 0, 31);
  uint64_t cap = std::min<uint64_t>(uint64_t(policy.base_delay_ms) << doublings,
                                    policy.max_delay_ms);
  return uint32_t(next_random() % (cap + 1));
}

std::optional<uint64_t> RetrySchedule::next_attempt_ms(const WebhookRetryPolicy& policy,
                                                       uint32_t attempts_made,
                                                       uint64_t submitted_ms, uint64_t now_ms,
                                                       uint64_t not_before_ms) {
  if (attempts_made >= policy.max_attempts) return std::nullopt;
  uint64_t due = std::max(now_ms + backoff_ms(policy, attempts_made), not_before_ms);
  if (due > submitted_ms + policy.max_total_ms) return std::nullopt;
  return due;
}

}  // namespace wshub::api
