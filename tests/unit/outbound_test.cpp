// Outbound connections on the reactor: a connection the process opens reports to its own
// handler (connected, data, closed), a refused one reports its errno, and the server's handler
// hears of neither; on both backends.
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "net/reactor.h"
#include "reactor_test_support.h"

namespace {

using namespace wshub;

using reactor_test::CountingServerHandler;
using reactor_test::loopback;

class Client final : public net::OutboundHandler {
 public:
  explicit Client(net::Reactor& reactor) : reactor_(reactor) {}
  void on_connected(net::Stream& s) override {
    connected = true;
    iovec iov{const_cast<char*>("ping"), 4};
    reactor_.send(s, &iov, 1);
  }
  void on_connect_failed(net::Stream&, int error) override { failed_with = error; }
  void on_data(net::Stream& s, MutableBytes data) override {
    received.append(reinterpret_cast<const char*>(data.data()), data.size());
    if (received.size() >= 4) reactor_.abort(s);
  }
  void on_hangup(net::Stream& s) override { reactor_.abort(s); }
  void on_closed(net::Stream&) override {
    closed = true;
    reactor_.request_shutdown(0);
  }
  void on_shutdown(net::Stream& s) override { reactor_.abort(s); }

  bool connected = false;
  int failed_with = 0;
  bool closed = false;
  std::string received;

 private:
  net::Reactor& reactor_;
};

class Outbound : public testing::TestWithParam<net::IoBackend> {
 protected:
  std::unique_ptr<net::Reactor> make(net::StreamHandler& handler) {
    net::IoBackend chosen;
    std::string why;
    auto reactor = net::make_reactor(GetParam(), handler, {}, chosen, why);
    if (chosen != GetParam()) return nullptr;
    return reactor;
  }
};

TEST_P(Outbound, ConnectsSendsReceivesAndCloses) {
  sockaddr_in address;
  const int listener = reactor_test::listen_on_loopback(address);
  ASSERT_GE(listener, 0);
  std::thread peer([listener] {
    const int fd = ::accept(listener, nullptr, nullptr);
    char buffer[4];
    size_t have = 0;
    while (have < 4) {
      const ssize_t n = ::recv(fd, buffer + have, 4 - have, 0);
      if (n <= 0) break;
      have += size_t(n);
    }
    if (have == 4 && std::memcmp(buffer, "ping", 4) == 0) ::send(fd, "pong", 4, MSG_NOSIGNAL);
    char rest[16];
    while (::recv(fd, rest, sizeof rest, 0) > 0) {
    }
    ::close(fd);
  });
  CountingServerHandler server;
  auto reactor = make(server);
  if (!reactor) {
    ::shutdown(listener, SHUT_RDWR);
    ::close(listener);
    peer.join();
    GTEST_SKIP() << "backend not available here";
  }
  Client client(*reactor);
  net::Stream stream;
  std::string why;
  ASSERT_TRUE(reactor->connect(stream, reinterpret_cast<sockaddr*>(&address), sizeof address, client, why)) << why;
  reactor->run();
  peer.join();
  ::close(listener);
  EXPECT_TRUE(client.connected);
  EXPECT_EQ(client.received, "pong");
  EXPECT_TRUE(client.closed);
  EXPECT_EQ(server.events, 0);  // the server's handler never saw the outbound stream
}

TEST_P(Outbound, ARefusedConnectionReportsItsError) {
  // A port nobody listens on: bind one, learn it, close it.
  const int probe = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address = loopback(0);
  ASSERT_EQ(::bind(probe, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  socklen_t size = sizeof address;
  ::getsockname(probe, reinterpret_cast<sockaddr*>(&address), &size);
  ::close(probe);
  CountingServerHandler server;
  auto reactor = make(server);
  if (!reactor) GTEST_SKIP() << "backend not available here";
  Client client(*reactor);
  net::Stream stream;
  std::string why;
  ASSERT_TRUE(reactor->connect(stream, reinterpret_cast<sockaddr*>(&address), sizeof address, client, why)) << why;
  reactor->run();
  EXPECT_FALSE(client.connected);
  EXPECT_EQ(client.failed_with, ECONNREFUSED);
  EXPECT_TRUE(client.closed);
  EXPECT_EQ(server.events, 0);
}

// A send the backend has queued but not yet handed to the kernel must go to the connection it
// was made for, even when that connection is aborted at once and its descriptor number is
// taken by a new socket before the reactor's turn ends (as an accept does under load).
class SendThenAbort final : public net::OutboundHandler {
 public:
  explicit SendThenAbort(net::Reactor& reactor) : reactor_(reactor) {}
  void on_connected(net::Stream& s) override {
    iovec iov{const_cast<char*>("stale"), 5};
    reactor_.send(s, &iov, 1, /*force=*/true);
    const int freed = s.fd;
    reactor_.abort(s);
    // Take descriptor numbers until the freed one comes back.
    for (int attempt = 0; attempt < 16 && reuser_peer < 0; ++attempt) {
      int pair[2];
      if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pair) != 0) break;
      held.push_back(pair[0]);
      held.push_back(pair[1]);
      if (pair[0] == freed) reuser_peer = pair[1];
      if (pair[1] == freed) reuser_peer = pair[0];
    }
    reactor_.request_shutdown(0);
  }
  void on_connect_failed(net::Stream&, int) override { reactor_.request_shutdown(0); }
  void on_data(net::Stream&, MutableBytes) override {}
  void on_hangup(net::Stream& s) override { reactor_.abort(s); }
  void on_closed(net::Stream&) override {}
  void on_shutdown(net::Stream& s) override { reactor_.abort(s); }

  int reuser_peer = -1;
  std::vector<int> held;

 private:
  net::Reactor& reactor_;
};

TEST_P(Outbound, AnAbortedConnectionsQueuedSendNeverReachesTheSocketThatReusesItsNumber) {
  sockaddr_in address;
  const int listener = reactor_test::listen_on_loopback(address);
  ASSERT_GE(listener, 0);
  CountingServerHandler server;
  auto reactor = make(server);
  if (!reactor) {
    ::close(listener);
    GTEST_SKIP() << "backend not available here";
  }
  SendThenAbort client(*reactor);
  net::Stream stream;
  std::string why;
  ASSERT_TRUE(reactor->connect(stream, reinterpret_cast<sockaddr*>(&address), sizeof address, client, why)) << why;
  reactor->run();
  reactor.reset();
  ::close(listener);
  ASSERT_GE(client.reuser_peer, 0) << "the freed descriptor number did not come back";
  char buffer[16];
  const ssize_t n = ::recv(client.reuser_peer, buffer, sizeof buffer, MSG_DONTWAIT);
  EXPECT_EQ(n, -1) << "the aborted connection's bytes reached another socket: "
                   << std::string(buffer, size_t(n > 0 ? n : 0));
  for (int fd : client.held) ::close(fd);
}

INSTANTIATE_TEST_SUITE_P(Backends, Outbound,
                         testing::Values(net::IoBackend::epoll, net::IoBackend::io_uring),
                         [](const auto& info) { return std::string(net::io_backend_name(info.param)); });

}  // namespace
