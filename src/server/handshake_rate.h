// Handshake rate limits shared by all workers: per client address and in total, each a count
// per one-second window. Checked once per request head, never per message.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <unordered_map>

#include "net/peer_address.h"

namespace wshub::server {

class HandshakeRate {
 public:
  // 0 turns a limit off.
  HandshakeRate(uint32_t per_ip_per_second, uint32_t total_per_second)
      : per_ip_(per_ip_per_second), total_(total_per_second) {}

  enum class Verdict : uint8_t { admitted, over_total, over_per_ip };
  Verdict admit(const net::IpAddress& client, uint64_t now_ms);

  uint32_t per_ip_limit() const { return per_ip_; }
  uint32_t total_limit() const { return total_; }

 private:
  struct Window {
    uint64_t second = 0;
    uint32_t count = 0;
  };
  bool admit_total(uint64_t second);
  bool admit_per_ip(const net::IpAddress& client, uint64_t second);

  const uint32_t per_ip_;
  const uint32_t total_;
  std::atomic<uint64_t> total_window_{0};  // second << 32 | count, updated with one CAS
  std::mutex per_ip_mutex_;
  std::unordered_map<net::IpAddress, Window, net::IpAddressHash> per_ip_windows_;
  uint64_t last_sweep_second_ = 0;
};

}  // namespace wshub::server
