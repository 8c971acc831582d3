#include "server/handshake_rate.h"

namespace wshub::server {

HandshakeRate::Verdict HandshakeRate::admit(const net::IpAddress& client, uint64_t now_ms) {
  const uint64_t second = now_ms / 1000;
  if (per_ip_ && !admit_per_ip(client, second)) return Verdict::over_per_ip;
  if (total_ && !admit_total(second)) return Verdict::over_total;
  return Verdict::admitted;
}

bool HandshakeRate::admit_total(uint64_t second) {
  uint64_t seen = total_window_.load(std::memory_order_relaxed);
  for (;;) {
    const uint64_t window = seen >> 32;
    const uint32_t count = window == (second & 0xFFFFFFFF) ? uint32_t(seen) : 0;
    if (count >= total_) return false;
    const uint64_t next = (second & 0xFFFFFFFF) << 32 | (count + 1);
    if (total_window_.compare_exchange_weak(seen, next, std::memory_order_relaxed)) return true;
  }
}

bool HandshakeRate::admit_per_ip(const net::IpAddress& client, uint64_t second) {
  std::lock_guard lock(per_ip_mutex_);
  // Windows older than this second count nothing: drop them now and then, so the map holds
  // only addresses seen in the last second or two, whatever the number of clients over time.
  if (second != last_sweep_second_ && per_ip_windows_.size() > 1024) {
    std::erase_if(per_ip_windows_, [second](const auto& entry) { return entry.second.second < second; });
  }
  last_sweep_second_ = second;
  Window& window = per_ip_windows_[client];
  if (window.second != second) window = {second, 0};
  if (window.count >= per_ip_) return false;
  ++window.count;
  return true;
}

}  // namespace wshub::server
