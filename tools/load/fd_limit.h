// The open-file budget: one socket per connection, and a process may hold only as many as
// RLIMIT_NOFILE allows (20,000 hard on the project's machines).
#pragma once

#include <cstdint>
#include <string>

namespace wshub::load {

// Raises the soft RLIMIT_NOFILE to the hard limit and returns the soft limit now in force.
uint64_t raise_open_file_limit();

// True when `sockets` simultaneous connections fit under `limit` with room for the epoll
// descriptors and stdio; otherwise `why` explains and says how to split the load.
bool fits_open_file_limit(uint64_t sockets, uint64_t limit, uint32_t threads, std::string& why);

}  // namespace wshub::load
