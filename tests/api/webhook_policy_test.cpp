// The pure parts of the webhook client: the circuit breaker's state machine, the retry
// schedule's bounds, the latency histogram's buckets, outcome classes and config checks.
#include <gtest/gtest.h>

#include <algorithm>

#include "api/webhook_breaker.h"
#include "api/webhook_counters.h"
#include "api/webhook_retry.h"
#include "api/webhook_types.h"

namespace {

using namespace wshub::api;
using Admission = CircuitBreaker::Admission;

Admission admit(CircuitBreaker& breaker, uint64_t now, BreakerTransition expected = BreakerTransition::none) {
  BreakerTransition transition;
  Admission admission = breaker.admit(now, transition);
  EXPECT_EQ(transition, expected);
  return admission;
}

TEST(CircuitBreaker, OpensAfterThresholdConsecutiveFailuresOnly) {
  CircuitBreaker breaker({.failure_threshold = 3, .open_ms = 1000});
  EXPECT_EQ(breaker.record(true, false, 0), BreakerTransition::none);
  EXPECT_EQ(breaker.record(true, false, 0), BreakerTransition::none);
  EXPECT_EQ(breaker.record(false, false, 0), BreakerTransition::none);  // resets the run
  EXPECT_EQ(breaker.record(true, false, 0), BreakerTransition::none);
  EXPECT_EQ(breaker.record(true, false, 0), BreakerTransition::none);
  EXPECT_EQ(breaker.state(), BreakerState::closed);
  EXPECT_EQ(admit(breaker, 10), Admission::allowed);
  EXPECT_EQ(breaker.record(true, false, 100), BreakerTransition::opened);
  EXPECT_EQ(breaker.state(), BreakerState::open);
  EXPECT_EQ(breaker.open_until_ms(), 1100u);
}

TEST(CircuitBreaker, RefusesWhileOpenThenLetsOneProbeThrough) {
  CircuitBreaker breaker({.failure_threshold = 1, .open_ms = 1000});
  breaker.record(true, false, 0);
  EXPECT_EQ(admit(breaker, 999), Admission::refused);
  EXPECT_EQ(admit(breaker, 1000, BreakerTransition::half_opened), Admission::probe);
  EXPECT_EQ(breaker.state(), BreakerState::half_open);
  EXPECT_EQ(admit(breaker, 1001), Admission::refused);  // the probe is in flight
  // A late result of a call admitted before the breaker opened does not decide.
  EXPECT_EQ(breaker.record(false, false, 1002), BreakerTransition::none);
  EXPECT_EQ(breaker.state(), BreakerState::half_open);
  EXPECT_EQ(breaker.record(false, true, 1003), BreakerTransition::closed);
  EXPECT_EQ(breaker.state(), BreakerState::closed);
  EXPECT_EQ(admit(breaker, 1004), Admission::allowed);
}

TEST(CircuitBreaker, AFailedProbeOpensItAgainForAnotherCoolDown) {
  CircuitBreaker breaker({.failure_threshold = 2, .open_ms = 500});
  breaker.record(true, false, 0);
  breaker.record(true, false, 0);
  EXPECT_EQ(admit(breaker, 500, BreakerTransition::half_opened), Admission::probe);
  EXPECT_EQ(breaker.record(true, true, 600), BreakerTransition::reopened);
  EXPECT_EQ(breaker.state(), BreakerState::open);
  EXPECT_EQ(admit(breaker, 1099), Admission::refused);
  EXPECT_EQ(admit(breaker, 1100, BreakerTransition::half_opened), Admission::probe);
  // After closing, the threshold counts from zero again.
  EXPECT_EQ(breaker.record(false, true, 1101), BreakerTransition::closed);
  EXPECT_EQ(breaker.record(true, false, 1102), BreakerTransition::none);
  EXPECT_EQ(breaker.state(), BreakerState::closed);
}

TEST(CircuitBreaker, AnAbandonedProbeLetsTheNextCallProbe) {
  CircuitBreaker breaker({.failure_threshold = 1, .open_ms = 10});
  breaker.record(true, false, 0);
  EXPECT_EQ(admit(breaker, 10, BreakerTransition::half_opened), Admission::probe);
  EXPECT_EQ(admit(breaker, 11), Admission::refused);
  breaker.abandon_probe();
  EXPECT_EQ(admit(breaker, 12), Admission::probe);
}

TEST(RetrySchedule, FullJitterStaysWithinTheDoublingCap) {
  WebhookRetryPolicy policy{.max_attempts = 20, .base_delay_ms = 100, .max_delay_ms = 1000,
                            .max_total_ms = 1'000'000};
  RetrySchedule schedule(42);
  for (uint32_t attempts = 1; attempts <= 8; ++attempts) {
    uint64_t cap = std::min<uint64_t>(100ull << (attempts - 1), 1000);
    uint32_t low = UINT32_MAX, high = 0;
    for (int i = 0; i < 2000; ++i) {
      uint32_t d = schedule.backoff_ms(policy, attempts);
      low = std::min(low, d);
      high = std::max(high, d);
    }
    EXPECT_LE(high, cap) << "attempt " << attempts;
    // Full jitter spreads over the whole range, not just near the cap.
    EXPECT_LT(low, cap / 4) << "attempt " << attempts;
    EXPECT_GT(high, cap * 3 / 4) << "attempt " << attempts;
  }
}

TEST(RetrySchedule, StopsAtMaxAttemptsAndMaxTotalTime) {
  WebhookRetryPolicy policy{.max_attempts = 3, .base_delay_ms = 10, .max_delay_ms = 10,
                            .max_total_ms = 1000};
  RetrySchedule schedule(7);
  EXPECT_TRUE(schedule.next_attempt_ms(policy, 1, 0, 0).has_value());
  EXPECT_TRUE(schedule.next_attempt_ms(policy, 2, 0, 0).has_value());
  EXPECT_FALSE(schedule.next_attempt_ms(policy, 3, 0, 0).has_value());
  // An attempt may not start after submitted + max_total_ms.
  EXPECT_FALSE(schedule.next_attempt_ms(policy, 1, 0, 1001).has_value());
  auto due = schedule.next_attempt_ms(policy, 1, 0, 100);
  ASSERT_TRUE(due.has_value());
  EXPECT_GE(*due, 100u);
  EXPECT_LE(*due, 110u);
  // An open breaker's end pushes the attempt later, and past the budget it is dropped.
  EXPECT_EQ(schedule.next_attempt_ms(policy, 1, 0, 100, 700), std::optional<uint64_t>(700));
  EXPECT_FALSE(schedule.next_attempt_ms(policy, 1, 0, 100, 1001).has_value());
}

TEST(WebhookOutcomes, BackendFailuresAndRetryableOutcomes) {
  EXPECT_TRUE(is_backend_failure(WebhookOutcome::timeout, 0));
  EXPECT_TRUE(is_backend_failure(WebhookOutcome::connect_failed, 0));
  EXPECT_TRUE(is_backend_failure(WebhookOutcome::transport_error, 0));
  EXPECT_TRUE(is_backend_failure(WebhookOutcome::http_status_error, 503));
  EXPECT_FALSE(is_backend_failure(WebhookOutcome::http_status_error, 404));
  EXPECT_FALSE(is_backend_failure(WebhookOutcome::ok, 200));
  EXPECT_FALSE(is_backend_failure(WebhookOutcome::response_too_large, 200));
  EXPECT_FALSE(is_backend_failure(WebhookOutcome::queue_full, 0));
  EXPECT_TRUE(is_retryable(WebhookOutcome::http_status_error, 429));
  EXPECT_TRUE(is_retryable(WebhookOutcome::http_status_error, 408));
  EXPECT_TRUE(is_retryable(WebhookOutcome::circuit_open, 0));
  EXPECT_FALSE(is_retryable(WebhookOutcome::http_status_error, 400));
  EXPECT_FALSE(is_retryable(WebhookOutcome::response_too_large, 200));
  for (size_t i = 0; i < kWebhookOutcomeCount; ++i)
    EXPECT_STRNE(webhook_outcome_name(WebhookOutcome(i)), "unknown");
}

TEST(LatencyHistogram, BucketsAreInclusiveUpperBounds) {
  LatencyHistogram histogram;
  histogram.observe(0);
  histogram.observe(1'000);      // exactly 1 ms: first bucket
  histogram.observe(1'001);      // second
  histogram.observe(5'000'000);  // last finite bucket
  histogram.observe(5'000'001);  // +Inf
  EXPECT_EQ(histogram.bucket(0), 2u);
  EXPECT_EQ(histogram.bucket(1), 1u);
  EXPECT_EQ(histogram.bucket(kWebhookLatencyBoundsUs.size() - 1), 1u);
  EXPECT_EQ(histogram.bucket(kWebhookLatencyBoundsUs.size()), 1u);
  EXPECT_EQ(histogram.count(), 5u);
  EXPECT_EQ(histogram.sum_us(), 0u + 1'000 + 1'001 + 5'000'000 + 5'000'001);
}

TEST(WebhookConfig, ValidationNamesTheBadKey) {
  WebhookEndpointConfig c;
  c.name = "main";
  c.url = "http://127.0.0.1:9000/hook";
  c.secret = "0123456789abcdef";
  EXPECT_EQ(validate_webhook_endpoint(c), "");
  auto broken = [&](auto change) {
    WebhookEndpointConfig copy = c;
    change(copy);
    return validate_webhook_endpoint(copy);
  };
  EXPECT_NE(broken([](auto& x) { x.url = "ftp://x"; }).find("url"), std::string::npos);
  EXPECT_NE(broken([](auto& x) { x.secret = "short"; }).find("secret"), std::string::npos);
  EXPECT_NE(broken([](auto& x) { x.timeout_ms = 0; }).find("timeout_ms"), std::string::npos);
  EXPECT_NE(broken([](auto& x) { x.max_concurrent = 0; }).find("max_concurrent"), std::string::npos);
  EXPECT_NE(broken([](auto& x) { x.retry.max_attempts = 0; }).find("max_attempts"), std::string::npos);
  EXPECT_NE(broken([](auto& x) { x.breaker.failure_threshold = 0; }).find("failure_threshold"),
            std::string::npos);
}

}  // namespace
