// A xorshift64* generator for masking keys, WebSocket keys and payload patterns in the load
// generator. Not cryptographic: RFC 6455 §10.3 wants unpredictable masks against proxy cache
// poisoning by hostile scripts, which does not apply to a benchmark talking to loopback.
#pragma once

#include <cstdint>

namespace wshub::load {

class Xorshift64 {
 public:
  // Any seed works; zero (the one fixed point of xorshift) is replaced.
  explicit Xorshift64(uint64_t seed) : state_(seed ? seed : 0x9E3779B97F4A7C15ull) {}

  uint64_t next() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545F4914F6CDD1Dull;
  }
  uint32_t next_u32() { return uint32_t(next() >> 32); }

 private:
  uint64_t state_;
};

}  // namespace wshub::load
