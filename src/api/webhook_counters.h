// What the webhook client counts per endpoint, for metrics: calls by outcome, in flight,
// queued, retries, breaker state and transitions, and a latency histogram with fixed buckets.
// Every field is an atomic another thread may read at any time (relaxed: each value is exact,
// a set of them is not a snapshot). Knows nothing about how metrics are rendered.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "api/webhook_breaker.h"
#include "api/webhook_types.h"

namespace wshub::api {

// Bucket upper bounds, inclusive, in microseconds (1, 2.5, 5, ... 5000 ms), plus +Inf.
inline constexpr std::array<uint64_t, 12> kWebhookLatencyBoundsUs = {
    1'000, 2'500, 5'000, 10'000, 25'000, 50'000, 100'000, 250'000, 500'000, 1'000'000,
    2'500'000, 5'000'000};

// The duration of HTTP attempts (from the transfer's start to its end, whatever the outcome),
// written by the client's thread only.
class LatencyHistogram {
 public:
  void observe(uint64_t micros);
  // Non-cumulative count of bucket i; i == kWebhookLatencyBoundsUs.size() is the +Inf bucket.
  uint64_t bucket(size_t i) const { return buckets_[i].load(std::memory_order_relaxed); }
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  uint64_t sum_us() const { return sum_us_.load(std::memory_order_relaxed); }

 private:
  std::array<std::atomic<uint64_t>, kWebhookLatencyBoundsUs.size() + 1> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_us_{0};
};

struct WebhookEndpointCounters {
  // Calls by final outcome (one per submitted call, whatever the number of attempts). Bumped by
  // submitting threads too (queue_full, circuit_open, shutting_down at submit).
  std::array<std::atomic<uint64_t>, kWebhookOutcomeCount> calls{};
  std::atomic<uint64_t> attempts{0};          // HTTP attempts started
  std::atomic<uint64_t> retries{0};           // attempts after the first
  std::atomic<uint64_t> in_flight{0};         // HTTP attempts running now
  std::atomic<uint64_t> queued{0};            // accepted calls not in flight (waiting or retrying)
  std::atomic<uint64_t> breaker_opened{0};    // closed -> open and half-open -> open
  std::atomic<uint64_t> breaker_closed{0};    // half-open -> closed
  std::atomic<uint8_t> breaker_state{uint8_t(BreakerState::closed)};
  // While open: the monotonic ms at which a probe may pass. Submitters fail fast before it.
  std::atomic<uint64_t> breaker_open_until_ms{0};
  LatencyHistogram latency;

  uint64_t calls_with(WebhookOutcome outcome) const {
    return calls[size_t(outcome)].load(std::memory_order_relaxed);
  }
  BreakerState breaker() const {
    return BreakerState(breaker_state.load(std::memory_order_relaxed));
  }
};

}  // namespace wshub::api
