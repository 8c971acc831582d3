#include "server/connection_budget.h"

namespace wshub::server {

ConnectionBudget::Verdict ConnectionBudget::admit(const net::IpAddress& ip, bool per_ip) {
  if (total_.fetch_add(1, std::memory_order_relaxed) >= max_total_) {
    total_.fetch_sub(1, std::memory_order_relaxed);
    return Verdict::over_total;
  }
  if (!per_ip || admit_ip(ip)) return Verdict::admitted;
  total_.fetch_sub(1, std::memory_order_relaxed);
  return Verdict::over_per_ip;
}

void ConnectionBudget::release(const net::IpAddress& ip, bool per_ip) {
  total_.fetch_sub(1, std::memory_order_relaxed);
  if (per_ip) release_ip(ip);
}

bool ConnectionBudget::admit_ip(const net::IpAddress& ip) {
  if (max_per_ip_ == 0) return true;
  std::lock_guard lock(per_ip_mutex_);
  uint32_t& count = per_ip_[ip];
  if (count >= max_per_ip_) {
    if (count == 0) per_ip_.erase(ip);
    return false;
  }
  ++count;
  return true;
}

void ConnectionBudget::release_ip(const net::IpAddress& ip) {
  if (max_per_ip_ == 0) return;
  std::lock_guard lock(per_ip_mutex_);
  auto it = per_ip_.find(ip);
  if (it != per_ip_.end() && --it->second == 0) per_ip_.erase(it);
}

}  // namespace wshub::server
