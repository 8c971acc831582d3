#include "net/socket_ops.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "net/peer_address.h"

namespace wshub::net {

namespace {

// Dual-stack: a [::] listener takes IPv4 connections too (see listen_addresses_overlap).
void allow_ipv4_on_ipv6(int fd, int family) {
  if (family != AF_INET6) return;
  int zero = 0;
  setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
}

bool is_wildcard(const IpAddress& ip) {
  static const IpAddress v4_any = [] {
    IpAddress any;
    any.bytes[10] = any.bytes[11] = 0xff;
    return any;
  }();
  return ip == IpAddress{} || ip == v4_any;
}

}  // namespace

int open_listener(const ListenAddress& where, int backlog) {
  const int family = where.address.ss_family;
  int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("cannot create a socket for " + where.text + ": " + std::strerror(errno));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  // Accepted sockets inherit TCP_NODELAY from the listener on Linux.
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  allow_ipv4_on_ipv6(fd, family);
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

uint16_t port_of(const ListenAddress& where) {
  if (where.address.ss_family == AF_INET)
    return ntohs(reinterpret_cast<const sockaddr_in*>(&where.address)->sin_port);
  return ntohs(reinterpret_cast<const sockaddr_in6*>(&where.address)->sin6_port);
}

bool someone_listens_on(const ListenAddress& where) {
  if (port_of(where) == 0) return false;
  const int family = where.address.ss_family;
  int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  allow_ipv4_on_ipv6(fd, family);
  const bool taken =
      bind(fd, reinterpret_cast<const sockaddr*>(&where.address), where.length) != 0 &&
      errno == EADDRINUSE;
  close(fd);
  return taken;
}

bool listen_addresses_overlap(const ListenAddress& a, const ListenAddress& b) {
  const uint16_t port = port_of(a);
  if (port == 0 || port != port_of(b)) return false;
  const IpAddress ip_a = IpAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&a.address));
  const IpAddress ip_b = IpAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&b.address));
  if (ip_a == ip_b) return true;
  auto covers = [](const IpAddress& wildcard, const IpAddress& other) {
    if (!is_wildcard(wildcard)) return false;
    return !wildcard.is_v4() || other.is_v4();  // [::] covers both families, 0.0.0.0 only v4
  };
  return covers(ip_a, ip_b) || covers(ip_b, ip_a);
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
