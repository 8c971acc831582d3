// CPU time spent by the server (from /proc/PID/stat) and by this process (getrusage) between
// two instants, so modes can report CPU per unit of work over their measured window only.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

namespace wshub::load {

class CpuWindow {
 public:
  explicit CpuWindow(pid_t server_pid) : server_pid_(server_pid) {}

  void begin();
  void end();

  // Microseconds per unit; empty when there was no --server-pid or /proc could not be read
  // (then server_error() says why), or when `units` is 0.
  std::optional<double> server_us_per(uint64_t units) const;
  std::optional<double> client_us_per(uint64_t units) const;
  const std::string& server_error() const { return server_error_; }

 private:
  pid_t server_pid_;
  bool server_ok_ = false;
  uint64_t server_begin_us_ = 0;
  uint64_t server_end_us_ = 0;
  uint64_t client_begin_us_ = 0;
  uint64_t client_end_us_ = 0;
  std::string server_error_;
};

}  // namespace wshub::load
