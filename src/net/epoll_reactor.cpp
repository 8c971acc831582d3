// The epoll backend. Every stream is registered once, edge-triggered for input and output, so
// the loop never calls epoll_ctl per message: a read shorter than the buffer means the socket
// is drained (a new edge will come), and EPOLLOUT edges resume queued writes.
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <stdexcept>
#include <string>
#include <cstring>
#include <memory>
#include <vector>

#include "base/clock.h"
#include "base/single_writer_counter.h"
#include "net/reactor.h"
#include "net/write_queue.h"

namespace wshub::net {

namespace {

constexpr uint64_t kListenerTag = 1ull << 63;
constexpr uint64_t kMailboxTag = 1ull << 62;
constexpr int kMaxEvents = 256;
constexpr int kReadsPerEvent = 4;     // then other streams get a turn
constexpr int kAcceptsPerEvent = 64;
constexpr int kMaxIov = 64;
constexpr size_t kCorkBytes = 16 * 1024;

constexpr uint8_t kFlagReadyAgain = 4;  // on the ready list: more input may be waiting

uint64_t stream_token(const Stream& s) { return uint64_t(s.generation) << 32 | uint32_t(s.fd); }

class EpollReactor final : public Reactor {
 public:
  EpollReactor(StreamHandler& handler, const ReactorOptions& options)
      : Reactor(handler, options),
        read_buffer_(options.read_buffer_bytes),  // zero-filled: touched once, at start
        plain_buffer_(options.read_buffer_bytes) {
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) throw std::runtime_error(std::string("epoll_create1: ") + std::strerror(errno));
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kMailboxTag;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, mailbox_.wake_fd(), &ev);
  }

  ~EpollReactor() override {
    abort_all();
    close_listeners();
    close(epoll_fd_);
  }

  void add_listener(int fd, uint16_t index) override {
    remember_listener(fd, index);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kListenerTag | index;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0)
      throw std::runtime_error(std::string("epoll_ctl(listener): ") + std::strerror(errno));
  }

  void run() override {
    epoll_event events[kMaxEvents];
    for (;;) {
      if (shutting_down_ && stream_count_ == 0) break;
      const int timeout = ready_again_.empty() ? turn_timeout() : 0;
      int n = epoll_wait(epoll_fd_, events, kMaxEvents, timeout);
      now_ms_ = monotonic_ms();
      for (int i = 0; i < n; ++i) dispatch(events[i]);
      run_ready_again();
      finish_turn();
    }
  }

  SendResult send_raw(Stream& s, const iovec* iov, int count, size_t total, bool force) override {
    if (s.pending) return enqueue_copy(s, iov, count, total, force);
    if (&s == cork_stream_ && cork_size_ + total <= kCorkBytes) {
      for (int i = 0; i < count; ++i) {
        std::memcpy(cork_.data() + cork_size_, iov[i].iov_base, iov[i].iov_len);
        cork_size_ += iov[i].iov_len;
      }
      return SendResult::sent;
    }
    // Write what is corked and the new bytes in one call.
    iovec all[kMaxIov + 1];
    int n = 0;
    if (&s == cork_stream_ && cork_size_) all[n++] = {cork_.data(), cork_size_};
    const size_t corked = n ? cork_size_ : 0;
    for (int i = 0; i < count && n <= kMaxIov; ++i) all[n++] = iov[i];
    cork_size_ = 0;
    return write_now(s, all, n, corked + total, force);
  }

  SendResult send_shared_raw(Stream& s, const SharedBuffer& frame) override {
    iovec one{const_cast<uint8_t*>(frame.bytes().data()), frame.size()};
    if (s.pending) {
      if (over_cap(s)) return refuse();
      return s.pending->append_shared(frame) ? SendResult::queued : refuse();
    }
    // A corked stream takes the frame like any bytes.
    if (&s == cork_stream_) return send_raw(s, &one, 1, frame.size(), false);
    ssize_t written = write_iov(s, &one, 1);
    if (written < 0) return SendResult::closed;
    if (size_t(written) == frame.size()) return SendResult::sent;
    pending_queue(s).append_shared(frame, size_t(written));
    return SendResult::queued;
  }

  bool has_unsent(const Stream& s) const override { return s.pending != nullptr; }

  void abort(Stream& s) override {
    if (s.fd < 0) return;
    drop_cork_of(s);
    close(s.fd);
    delete s.pending;
    s.pending = nullptr;
    forget_stream(s);
    note_descriptor_freed();
  }

 private:
  void dispatch(const epoll_event& ev) {
    const uint64_t token = ev.data.u64;
    if (token & kListenerTag) return accept_on(uint16_t(token & 0xFFFF));
    if (token & kMailboxTag) return drain_mail();
    const int fd = int(uint32_t(token));
    if (size_t(fd) >= streams_by_fd_.size()) return;
    Stream* s = streams_by_fd_[size_t(fd)];
    if (!s || s->generation != uint32_t(token >> 32)) return;  // stale: fd closed and reused
    if (s->reactor_flags & kFlagConnecting) {
      if (!(ev.events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
      finish_connect(*s);
      if (s->fd < 0 || (s->reactor_flags & kFlagConnecting)) return;
    }
    if ((ev.events & EPOLLOUT) && s->pending) flush_queue(*s);
    if (s->fd >= 0 && (ev.events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) read_from(*s);
  }

  void accept_on(uint16_t index) {
    if (index >= listeners_.size() || listeners_[index] < 0) return;
    for (int i = 0; i < kAcceptsPerEvent; ++i) {
      sockaddr_storage address;
      socklen_t length = sizeof address;
      int fd = accept4(listeners_[index], reinterpret_cast<sockaddr*>(&address), &length,
                       SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
          pause_accepting();
        return;
      }
      Stream* s = adopt_accepted(fd, reinterpret_cast<sockaddr*>(&address), index);
      if (!s) {
        close(fd);
        continue;
      }
      watch(*s);
    }
  }

  void watch(Stream& s) override {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.u64 = stream_token(s);
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, s.fd, &ev) != 0) abort(s);
  }

  void stop_accepting() override {
    for (int fd : listeners_) {
      if (fd < 0) continue;
      epoll_event ev{};
      epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
    }
  }

  void restart_accepting() override {
    for (size_t i = 0; i < listeners_.size(); ++i) {
      if (listeners_[i] < 0) continue;
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = kListenerTag | i;
      epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, listeners_[i], &ev);
    }
  }

  void read_from(Stream& s) {
    for (int round = 0; round < kReadsPerEvent; ++round) {
      ssize_t n = recv(s.fd, read_buffer_.data(), read_buffer_.size(), 0);
      if (n > 0) {
        if (!(s.reactor_flags & kFlagLingering)) {
          cork_stream_ = &s;
          bool intact = true;
          if (s.filter) {
            FilterSink sink(*this, s);
            intact = s.filter->on_input({read_buffer_.data(), size_t(n)}, plain_buffer_, sink);
          } else {
            handler_of(s).on_data(s, {read_buffer_.data(), size_t(n)});
          }
          flush_cork();
          if (s.fd < 0) return;
          if (!intact) return handler_of(s).on_hangup(s);
        }
        if (size_t(n) < read_buffer_.size()) return;  // drained: the next edge will tell
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      // EOF or a socket error.
      if (s.reactor_flags & kFlagLingering) abort(s);
      else handler_of(s).on_hangup(s);
      return;
    }
    if (!(s.reactor_flags & kFlagReadyAgain)) {
      s.reactor_flags |= kFlagReadyAgain;
      ready_again_.push_back({&s, stream_token(s)});
    }
  }

  void run_ready_again() {
    if (ready_again_.empty()) return;
    std::vector<std::pair<Stream*, uint64_t>> batch;
    batch.swap(ready_again_);
    for (auto [s, token] : batch) {
      // The stream may have closed (and its memory be pending release) since it was listed.
      if (s->fd < 0 || stream_token(*s) != token) continue;
      s->reactor_flags &= ~kFlagReadyAgain;
      read_from(*s);
    }
  }

  void flush_raw_cork(Stream& s) override {
    if (cork_size_ == 0) return;
    iovec one{cork_.data(), cork_size_};
    const size_t size = cork_size_;
    cork_size_ = 0;
    write_now(s, &one, 1, size, /*force=*/true);
  }

  void drop_raw_cork() override { cork_size_ = 0; }

  // Filter output goes straight to the socket, or behind what is queued.
  void emit_ciphertext(Stream& s, Bytes bytes) override {
    if (s.fd < 0 || bytes.empty()) return;
    iovec one{const_cast<uint8_t*>(bytes.data()), bytes.size()};
    if (s.pending) {
      enqueue_copy(s, &one, 1, bytes.size(), /*force=*/true);
      return;
    }
    write_now(s, &one, 1, bytes.size(), /*force=*/true);
  }

  // Writes directly (nothing is queued); queues the rest. The caller has cleared the cork.
  SendResult write_now(Stream& s, const iovec* iov, int count, size_t total, bool force) {
    ssize_t written = write_iov(s, iov, count);
    if (written < 0) return SendResult::closed;
    if (size_t(written) == total) return SendResult::sent;
    // Skip what went out and queue a copy of the rest.
    size_t skip = size_t(written);
    int first = 0;
    while (first < count && skip >= iov[first].iov_len) skip -= iov[first++].iov_len;
    iovec rest[kMaxIov + 1] = {};
    int n = 0;
    for (int i = first; i < count; ++i) rest[n++] = iov[i];
    rest[0].iov_base = static_cast<uint8_t*>(rest[0].iov_base) + skip;
    rest[0].iov_len -= skip;
    return enqueue_copy(s, rest, n, total - size_t(written), /*force=*/true);
  }

  SendResult enqueue_copy(Stream& s, const iovec* iov, int count, size_t total, bool force) {
    // The cap is on what already waits (see over_cap): one message larger than the cap may
    // still be queued behind an almost empty queue.
    if (!force && over_cap(s)) return refuse();
    WriteQueue& queue = pending_queue(s);
    for (int i = 0; i < count; ++i)
      if (!queue.append_copy({static_cast<const uint8_t*>(iov[i].iov_base), iov[i].iov_len}))
        return refuse();
    return SendResult::queued;
  }

  // One sendmsg; MSG_NOSIGNAL because a peer that went away must not kill the process.
  // Returns bytes written (possibly 0), or -1 after reporting a dead socket to the handler.
  ssize_t write_iov(Stream& s, const iovec* iov, int count) {
    msghdr message{};
    message.msg_iov = const_cast<iovec*>(iov);
    message.msg_iovlen = size_t(count);
    for (;;) {
      ssize_t n = sendmsg(s.fd, &message, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n >= 0) return n;
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
      // The peer is gone (EPIPE, ECONNRESET): the handler learns it from `closed` results and
      // from on_closed, never re-entrantly from inside its own send.
      abort(s);
      return -1;
    }
  }

  void flush_held(Stream& s) override { flush_queue(s); }

  void flush_queue(Stream& s) {
    while (s.pending && !s.pending->empty()) {
      iovec iov[kMaxIov];
      int n = s.pending->gather(iov, kMaxIov);
      ssize_t written = write_iov(s, iov, n);
      if (written <= 0) return;  // full again (an EPOLLOUT edge will come) or closed
      s.pending->consume(size_t(written));
      s.pending->note_progress(now_ms_);
    }
    delete s.pending;
    s.pending = nullptr;
    if (s.reactor_flags & kFlagCloseAfterFlush) half_close(s);
    else handler_of(s).on_drained(s);
  }

  int epoll_fd_ = -1;
  std::vector<uint8_t> read_buffer_;
  std::vector<uint8_t> plain_buffer_;  // decrypted bytes of filtered streams
  std::array<uint8_t, kCorkBytes> cork_;
  size_t cork_size_ = 0;
  std::vector<std::pair<Stream*, uint64_t>> ready_again_;
};

}  // namespace

std::unique_ptr<Reactor> make_epoll_reactor(StreamHandler& handler, const ReactorOptions& options) {
  return std::make_unique<EpollReactor>(handler, options);
}

}  // namespace wshub::net
