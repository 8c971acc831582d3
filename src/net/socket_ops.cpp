#include "net/socket_ops.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace wshub::net {

int open_listener(const ListenAddress& where, int backlog) {
  const int family = where.address.ss_family;
  int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("cannot create a socket for " + where.text + ": " + std::strerror(errno));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  // Accepted sockets inherit TCP_NODELAY from the listener on Linux.
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (family == AF_INET6) {
    int zero = 0;
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  }
  if (bind(fd, reinterpret_cast<const sockaddr*>(&where.address), where.length) != 0) {
    int e = errno;
    close(fd);
    std::string hint = e == EADDRINUSE ? " (another process listens there; stop it or choose another port)"
                       : e == EACCES   ? " (ports below 1024 need root or CAP_NET_BIND_SERVICE)"
                       : e == EADDRNOTAVAIL ? " (that address is not on this machine)"
                                            : "";
    throw std::runtime_error("cannot listen on " + where.text + ": " + std::strerror(e) + hint);
  }
  if (listen(fd, backlog) != 0) {
    int e = errno;
    close(fd);
    throw std::runtime_error("cannot listen on " + where.text + ": " + std::strerror(e));
  }
  return fd;
}

uint16_t bound_port(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  if (address.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port);
  return ntohs(reinterpret_cast<sockaddr_in6*>(&address)->sin6_port);
}

ListenAddress with_port(const ListenAddress& where, uint16_t port) {
  ListenAddress out = where;
  if (out.address.ss_family == AF_INET)
    reinterpret_cast<sockaddr_in*>(&out.address)->sin_port = htons(port);
  else
    reinterpret_cast<sockaddr_in6*>(&out.address)->sin6_port = htons(port);
  size_t colon = out.text.rfind(':');
  if (colon != std::string::npos) out.text = out.text.substr(0, colon + 1) + std::to_string(port);
  return out;
}

uint64_t raise_open_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    getrlimit(RLIMIT_NOFILE, &limit);
  }
  return limit.rlim_cur;
}

}  // namespace wshub::net
