// A circuit breaker for one webhook endpoint: closed until `failure_threshold` consecutive
// backend failures, then open (calls fail at once) for `open_ms`, then half-open, where one
// probe call may pass; its success closes the breaker, its failure opens it again. Pure state:
// the caller passes the time and owns the thread (the webhook client's).
#pragma once

#include <cstdint>

#include "api/webhook_types.h"

namespace wshub::api {

enum class BreakerState : uint8_t { closed, open, half_open };
const char* breaker_state_name(BreakerState state);

enum class BreakerTransition : uint8_t { none, opened, half_opened, closed, reopened };

class CircuitBreaker {
 public:
  explicit CircuitBreaker(const WebhookBreakerPolicy& policy) : policy_(policy) {}

  enum class Admission : uint8_t { refused, allowed, probe };
  // May a call go to the backend now? Moving from open to half-open happens here, when the
  // first call after the cool-down asks; that call is the probe, and others are refused until
  // its result is recorded (or it is abandoned). `transition` reports a state change.
  Admission admit(uint64_t now_ms, BreakerTransition& transition);

  // The result of a call that `admit` let through; `probe` is whether it was the probe.
  // Results of calls admitted before the breaker opened do not move an open or half-open
  // breaker: only the probe decides there.
  BreakerTransition record(bool backend_failure, bool probe, uint64_t now_ms);

  // The probe ended without an answer from the backend (the client is shutting down): the
  // next call may probe instead.
  void abandon_probe() { probe_in_flight_ = false; }

  BreakerState state() const { return state_; }
  // When an open breaker lets its probe through; meaningful while open.
  uint64_t open_until_ms() const { return open_until_ms_; }
  uint32_t consecutive_failures() const { return consecutive_failures_; }

 private:
  WebhookBreakerPolicy policy_;
  BreakerState state_ = BreakerState::closed;
  uint32_t consecutive_failures_ = 0;
  uint64_t open_until_ms_ = 0;
  bool probe_in_flight_ = false;
};

}  // namespace wshub::api
