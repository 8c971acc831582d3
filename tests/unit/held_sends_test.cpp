// Frames that cross-thread mail sends to an idle stream are held until the whole mail batch is
// handled, so that what one loop turn brings a subscriber leaves in one send; a copied send or
// a close in between keeps the order; on both backends.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <string>
#include <thread>

#include "base/shared_buffer.h"
#include "net/reactor.h"
#include "reactor_test_support.h"

namespace {

using namespace wshub;

class Mail final : public net::MailItem {
 public:
  explicit Mail(std::function<void()> work) : work_(std::move(work)) {}
  void run() override { work_(); }

 private:
  std::function<void()> work_;
};

// Once connected, posts itself the mail the test gives, lets it run, and then closes.
class Sender final : public net::OutboundHandler {
 public:
  Sender(net::Reactor& reactor, std::function<void(net::Stream&)> mail)
      : reactor_(reactor), mail_(std::move(mail)) {}
  void on_connected(net::Stream& s) override {
    // Two items, so that the batch spans mail items as a busy worker's does.
    reactor_.post(new Mail([this, &s] { mail_(s); }));
    reactor_.post(new Mail([this, &s] {
      if (s.fd >= 0) reactor_.close_after_flush(s);
    }));
  }
  void on_connect_failed(net::Stream&, int) override { reactor_.request_shutdown(0); }
  void on_data(net::Stream&, MutableBytes) override {}
  void on_hangup(net::Stream& s) override { reactor_.abort(s); }
  void on_closed(net::Stream&) override { reactor_.request_shutdown(0); }
  void on_shutdown(net::Stream& s) override { reactor_.abort(s); }

 private:
  net::Reactor& reactor_;
  std::function<void(net::Stream&)> mail_;
};

SharedBuffer frame(std::string_view text) {
  return SharedBuffer::copy_of(Bytes{reinterpret_cast<const uint8_t*>(text.data()), text.size()});
}

class HeldSends : public testing::TestWithParam<net::IoBackend> {
 protected:
  // Runs a reactor whose outbound stream gets `mail`; returns what the peer read until EOF.
  std::string run(const std::function<void(net::Reactor&, net::Stream&)>& mail, uint64_t& held_frames,
                  uint64_t& held_flushes) {
    sockaddr_in address;
    const int listener = reactor_test::listen_on_loopback(address);
    EXPECT_GE(listener, 0);
    std::string received;
    std::thread peer([listener, &received] {
      const int fd = ::accept(listener, nullptr, nullptr);
      char buffer[256];
      for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) received.append(buffer, size_t(n));
      ::close(fd);
    });
    reactor_test::CountingServerHandler server;
    net::IoBackend chosen;
    std::string why;
    auto reactor = net::make_reactor(GetParam(), server, {}, chosen, why);
    if (chosen != GetParam()) {
      ::shutdown(listener, SHUT_RDWR);
      ::close(listener);
      peer.join();
      skipped_ = true;
      return {};
    }
    Sender sender(*reactor, [&](net::Stream& s) { mail(*reactor, s); });
    net::Stream stream;
    EXPECT_TRUE(reactor->connect(stream, reinterpret_cast<sockaddr*>(&address), sizeof address, sender, why)) << why;
    reactor->run();
    held_frames = reactor->counters().held_frames.load();
    held_flushes = reactor->counters().held_flushes.load();
    reactor.reset();
    peer.join();
    ::close(listener);
    return received;
  }
  bool skipped_ = false;
};

TEST_P(HeldSends, FramesOfOneMailBatchLeaveInOneSendInOrder) {
  uint64_t frames = 0, flushes = 0;
  const std::string received = run(
      [](net::Reactor& reactor, net::Stream& s) {
        for (const char* text : {"one,", "two,", "three"})
          EXPECT_EQ(reactor.send_shared(s, frame(text)), net::SendResult::queued);
      },
      frames, flushes);
  if (skipped_) GTEST_SKIP() << "backend not available here";
  EXPECT_EQ(received, "one,two,three");
  EXPECT_EQ(frames, 3u);
  EXPECT_EQ(flushes, 1u);
}

TEST_P(HeldSends, ACopiedSendAfterHeldFramesKeepsItsPlace) {
  uint64_t frames = 0, flushes = 0;
  const std::string received = run(
      [](net::Reactor& reactor, net::Stream& s) {
        reactor.send_shared(s, frame("a,"));
        reactor.send_shared(s, frame("b,"));
        iovec copied{const_cast<char*>("c,"), 2};
        reactor.send(s, &copied, 1);
        reactor.send_shared(s, frame("d"));
      },
      frames, flushes);
  if (skipped_) GTEST_SKIP() << "backend not available here";
  EXPECT_EQ(received, "a,b,c,d");
  EXPECT_EQ(frames, 2u);  // "d" went to the queue the copied send joined
}

TEST_P(HeldSends, HeldFramesGoOutBeforeACloseInTheSameBatch) {
  uint64_t frames = 0, flushes = 0;
  const std::string received = run(
      [](net::Reactor& reactor, net::Stream& s) {
        reactor.send_shared(s, frame("last words"));
        reactor.close_after_flush(s);
      },
      frames, flushes);
  if (skipped_) GTEST_SKIP() << "backend not available here";
  EXPECT_EQ(received, "last words");
}

TEST_P(HeldSends, AnAbortedStreamsHeldFramesAreDropped) {
  uint64_t frames = 0, flushes = 0;
  const std::string received = run(
      [](net::Reactor& reactor, net::Stream& s) {
        reactor.send_shared(s, frame("never"));
        reactor.abort(s);
      },
      frames, flushes);
  if (skipped_) GTEST_SKIP() << "backend not available here";
  EXPECT_EQ(received, "");
  EXPECT_EQ(flushes, 0u);
}

INSTANTIATE_TEST_SUITE_P(Backends, HeldSends,
                         testing::Values(net::IoBackend::epoll, net::IoBackend::io_uring),
                         [](const auto& info) { return std::string(net::io_backend_name(info.param)); });

}  // namespace
