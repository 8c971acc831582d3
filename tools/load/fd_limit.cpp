#include "fd_limit.h"

#include <sys/resource.h>

namespace wshub::load {

uint64_t raise_open_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return limit.rlim_cur == RLIM_INFINITY ? UINT64_MAX : uint64_t(limit.rlim_cur);
}

bool fits_open_file_limit(uint64_t sockets, uint64_t limit, uint32_t threads, std::string& why) {
  // stdin/out/err, one epoll per thread, /proc reads and some slack for the libraries.
  const uint64_t reserved = 16 + threads;
  if (limit > reserved && sockets <= limit - reserved) return true;
  const uint64_t per_process = limit > reserved ? limit - reserved : 0;
  why = std::to_string(sockets) + " connections need more open files than one process may have (limit " +
        std::to_string(limit) + ", so at most " + std::to_string(per_process) +
        " connections here). Run several wshub-load processes side by side, each with --connections <= " +
        std::to_string(per_process) + " and its own --source-ips range (for example 127.0.0.1-127.0.0.4 and "
        "127.0.0.5-127.0.0.8), or raise the hard limit (ulimit -Hn) if you may.";
  return false;
}

}  // namespace wshub::load
