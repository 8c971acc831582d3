// Admission control shared by all workers: the total connection cap and the per-address cap.
// Touched once at accept and once at close, never per message.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <unordered_map>

#include "net/peer_address.h"

namespace wshub::server {

class ConnectionBudget {
 public:
  ConnectionBudget(uint32_t max_total, uint32_t max_per_ip)
      : max_total_(max_total), max_per_ip_(max_per_ip) {}

  enum class Verdict : uint8_t { admitted, over_total, over_per_ip };
  // On `admitted` the connection is counted and must later be released. With `per_ip` false
  // only the total is counted (a trusted proxy's connection: its client is known later).
  Verdict admit(const net::IpAddress& ip, bool per_ip = true);
  void release(const net::IpAddress& ip, bool per_ip = true);
  // The per-address part alone, for a client address learnt from a trusted proxy.
  bool admit_ip(const net::IpAddress& ip);
  void release_ip(const net::IpAddress& ip);
  uint64_t open() const { return total_.load(std::memory_order_relaxed); }
  uint32_t max_total() const { return max_total_; }
  uint32_t max_per_ip() const { return max_per_ip_; }

 private:
  const uint32_t max_total_;
  const uint32_t max_per_ip_;
  std::atomic<uint64_t> total_{0};
  std::mutex per_ip_mutex_;
  std::unordered_map<net::IpAddress, uint32_t, net::IpAddressHash> per_ip_;
};

}  // namespace wshub::server
