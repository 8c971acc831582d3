#include "api/webhook_breaker.h"

namespace wshub::api {

const char* breaker_state_name(BreakerState state) {
  switch (state) {
    case BreakerState::closed: return "closed";
    case BreakerState::open: return "open";
    case BreakerState::half_open: return "half_open";
  }
  return "unknown";
}

CircuitBreaker::Admission CircuitBreaker::admit(uint64_t now_ms, BreakerTransition& transition) {
  transition = BreakerTransition::none;
  switch (state_) {
    case BreakerState::closed:
      return Admission::allowed;
    case BreakerState::open:
      if (now_ms < open_until_ms_) return Admission::refused;
      state_ = BreakerState::half_open;
      transition = BreakerTransition::half_opened;
      probe_in_flight_ = true;
      return Admission::probe;
    case BreakerState::half_open:
      if (probe_in_flight_) return Admission::refused;
      probe_in_flight_ = true;
      return Admission::probe;
  }
  return Admission::refused;
}

BreakerTransition CircuitBreaker::record(bool backend_failure, bool probe, uint64_t now_ms) {
  if (state_ == BreakerState::closed) {
    if (!backend_failure) {
      consecutive_failures_ = 0;
      return BreakerTransition::none;
    }
    if (++consecutive_failures_ < policy_.failure_threshold) return BreakerTransition::none;
    state_ = BreakerState::open;
    open_until_ms_ = now_ms + policy_.open_ms;
    return BreakerTransition::opened;
  }
  if (state_ != BreakerState::half_open || !probe) return BreakerTransition::none;
  probe_in_flight_ = false;
  if (backend_failure) {
    state_ = BreakerState::open;
    open_until_ms_ = now_ms + policy_.open_ms;
    return BreakerTransition::reopened;
  }
  state_ = BreakerState::closed;
  consecutive_failures_ = 0;
  return BreakerTransition::closed;
}

}  // namespace wshub::api
