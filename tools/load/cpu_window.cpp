#include "cpu_window.h"

#include "proc_stats.h"

namespace wshub::load {

void CpuWindow::begin() {
  client_begin_us_ = self_cpu_us();
  if (server_pid_ > 0) server_ok_ = read_process_cpu_us(server_pid_, server_begin_us_, server_error_);
}

void CpuWindow::end() {
  if (server_pid_ > 0 && server_ok_) server_ok_ = read_process_cpu_us(server_pid_, server_end_us_, server_error_);
  client_end_us_ = self_cpu_us();
}

std::optional<double> CpuWindow::server_us_per(uint64_t units) const {
  if (!server_ok_ || units == 0) return std::nullopt;
  return double(server_end_us_ - server_begin_us_) / double(units);
}

std::optional<double> CpuWindow::client_us_per(uint64_t units) const {
  if (units == 0) return std::nullopt;
  return double(client_end_us_ - client_begin_us_) / double(units);
}

}  // namespace wshub::load
