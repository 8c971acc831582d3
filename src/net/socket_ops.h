// Thin wrappers over the socket calls the reactors share. Errors at start-up throw; errors on
// live sockets are returned as errno values.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>

namespace wshub::net {

struct ListenAddress {
  sockaddr_storage address{};
  socklen_t length = 0;
  std::string text;  // as configured, for messages
};

// A non-blocking listening socket with SO_REUSEPORT, so every reactor thread can have its own
// and the kernel spreads connections among them. Throws std::runtime_error naming the address.
int open_listener(const ListenAddress& where, int backlog);
// The port a listener got (useful after binding port 0).
uint16_t bound_port(int fd);
ListenAddress with_port(const ListenAddress& where, uint16_t port);

// Raises the soft RLIMIT_NOFILE to the hard limit; returns the resulting soft limit.
uint64_t raise_open_file_limit();

}  // namespace wshub::net
