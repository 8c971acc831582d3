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
uint16_t port_of(const ListenAddress& where);
ListenAddress with_port(const ListenAddress& where, uint16_t port);

// True when a socket already listens on `where`, this process's own included. open_listener's
// SO_REUSEPORT would let a listener of the same user share the port silently (the kernel then
// splits connections between the two), so this probes with a socket that has SO_REUSEADDR but
// not SO_REUSEPORT: its bind fails with EADDRINUSE exactly when something listens there
// (TIME_WAIT remnants of an earlier run do not count). False for port 0 and for any other bind
// error, which open_listener reports with its own sentence.
bool someone_listens_on(const ListenAddress& where);

// True when listeners on `a` and `b` would take the same connections: one port (not 0) and the
// same address, or a wildcard that covers the other (0.0.0.0 covers IPv4; [::] covers IPv6
// and, since listeners are dual-stack, IPv4 too).
bool listen_addresses_overlap(const ListenAddress& a, const ListenAddress& b);

// Raises the soft RLIMIT_NOFILE to the hard limit; returns the resulting soft limit.
uint64_t raise_open_file_limit();

}  // namespace wshub::net
