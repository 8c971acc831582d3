// What the reactor tests share: a server handler for reactors whose only streams are the
// test's own outbound ones (it counts any event that reaches it, which should be none), and a
// loopback listener on a port the kernel picks.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "net/reactor.h"

namespace wshub::reactor_test {

class CountingServerHandler final : public net::StreamHandler {
 public:
  net::Stream* open_stream(int, const net::PeerAddress&, uint16_t) override { return nullptr; }
  void on_data(net::Stream&, MutableBytes) override { ++events; }
  void on_hangup(net::Stream&) override { ++events; }
  void on_drained(net::Stream&) override { ++events; }
  void on_timer(net::Stream&) override { ++events; }
  void on_closed(net::Stream&) override { ++events; }
  void on_shutdown() override {}
  int events = 0;
};

inline sockaddr_in loopback(uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

// A listening socket on 127.0.0.1 and a port the kernel chose, written to `address`; -1 when
// none could be made.
inline int listen_on_loopback(sockaddr_in& address, int backlog = 4) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  address = loopback(0);
  socklen_t size = sizeof address;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(fd, backlog) != 0 || ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0)
    return -1;
  return fd;
}

}  // namespace wshub::reactor_test
