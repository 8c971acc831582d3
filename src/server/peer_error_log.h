// Rate-limited log lines about peers' mistakes. Every mistake is counted by its caller; only
// the lines are limited, so a hostile client cannot make the log the bottleneck. Any thread.
#pragma once

#include <spdlog/spdlog.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "base/log_limiter.h"

namespace wshub::server {

class PeerErrorLog {
 public:
  explicit PeerErrorLog(uint32_t lines_per_second = 20) : limiter_(lines_per_second) {}

  // A warning about a peer's mistake.
  template <typename... Args>
  void write(fmt::format_string<Args...> format, Args&&... args) {
    write_at(spdlog::level::warn, format, std::forward<Args>(args)...);
  }
  // The same at `level`: info for what is usually the operator's setup rather than a bad peer
  // (a client that does not trust the certificate). Shares the one rate limit; a line below the
  // log level takes nothing from it.
  template <typename... Args>
  void write_at(spdlog::level::level_enum level, fmt::format_string<Args...> format, Args&&... args) {
    if (!spdlog::should_log(level) || !limiter_.allow()) return;
    const uint64_t suppressed = limiter_.take_suppressed();
    std::string line = fmt::format(format, std::forward<Args>(args)...);
    if (suppressed) spdlog::log(level, "{} ({} similar lines suppressed)", line, suppressed);
    else spdlog::log(level, "{}", line);
  }

  // Writes how many lines the limit held back since the last report (the main thread calls it
  // once a second, so a burst followed by quiet is still told). `where` names the page that
  // counts them.
  void report_suppressed(std::string_view where) {
    if (uint64_t suppressed = limiter_.take_suppressed())
      spdlog::warn("{} more peer-error lines suppressed by the log rate limit (each is counted at "
                   "{})", suppressed, where);
  }

 private:
  LogLimiter limiter_;
};

}  // namespace wshub::server
