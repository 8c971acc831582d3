#include "net/reactor.h"

#include <sys/resource.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/clock.h"
#include "base/single_writer_counter.h"
#include "net/write_queue.h"

namespace wshub::net {

namespace {

class ShutdownRequest final : public MailItem {
 public:
  ShutdownRequest(std::function<void()> begin) : begin_(std::move(begin)) {}
  void run() override { begin_(); }

 private:
  std::function<void()> begin_;
};

}  // namespace

Reactor::Reactor(StreamHandler& handler, const ReactorOptions& options)
    : handler_(handler), options_(options), timers_(monotonic_ms()), now_ms_(monotonic_ms()) {}

Stream* Reactor::adopt_accepted(int fd, const sockaddr* peer, uint16_t listener) {
  add_single_writer(counters_.accepted);
  Stream* s = handler_.open_stream(fd, PeerAddress::from_sockaddr(peer), listener);
  if (!s) return nullptr;
  s->fd = fd;
  // Generations use 30 bits so they fit the backends' event tokens; 0 is never used.
  s->generation = ++next_generation_ & 0x3FFFFFFF;
  if (s->generation == 0) s->generation = ++next_generation_ & 0x3FFFFFFF;
  s->listener = listener;
  s->reactor_flags = 0;
  if (streams_by_fd_.size() <= size_t(fd)) grow_stream_table(fd);
  streams_by_fd_[size_t(fd)] = s;
  ++stream_count_;
  return s;
}

// The table is indexed by descriptor. Its capacity is reserved for the open-file limit the
// first time it grows, so it never moves: each move would leave the old table in the heap,
// resident but unused. A reservation is address space; only the pages of the descriptors in
// use are touched.
void Reactor::grow_stream_table(int fd) {
  constexpr size_t kStep = 1024;
  constexpr size_t kMostReserved = size_t(1) << 22;  // 32 MiB of address space
  if (streams_by_fd_.capacity() <= size_t(fd) + kStep) {
    size_t wanted = size_t(fd) + kStep;
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
      wanted = std::max(wanted, std::min(size_t(limit.rlim_cur), kMostReserved));
    streams_by_fd_.reserve(wanted);
  }
  streams_by_fd_.resize(size_t(fd) + kStep, nullptr);
}

void Reactor::forget_stream(Stream& s) {
  if (&s == cork_stream_) cork_stream_ = nullptr;
  timers_.cancel(s);
  streams_by_fd_[size_t(s.fd)] = nullptr;
  s.fd = -1;
  --stream_count_;
  closed_.push_back(&s);
}

void Reactor::finish_closed() {
  while (!closed_.empty()) {
    std::vector<Stream*> batch;
    batch.swap(closed_);
    for (Stream* s : batch) handler_of(*s).on_closed(*s);
  }
}

namespace {

int clamp_wait(int timeout, uint64_t until_ms) {
  const uint64_t now = monotonic_ms();
  const int until = until_ms > now ? int(until_ms - now) : 0;
  return timeout < 0 ? until : std::min(timeout, until);
}

}  // namespace

int Reactor::turn_timeout() const {
  int timeout = timers_.wait_ms(now_ms_);
  if (timer_heap_.size()) timeout = clamp_wait(timeout, timer_heap_.next_deadline());
  if (accept_paused_) timeout = clamp_wait(timeout, accept_resume_ms_);
  if (shutting_down_) timeout = clamp_wait(timeout, shutdown_deadline_ms_);
  return timeout;
}

void Reactor::finish_turn() {
  timers_.advance(now_ms_, [this](Stream& s) { handler_of(s).on_timer(s); });
  timer_heap_.fire_due(now_ms_);
  finish_closed();
  if (accept_paused_ && now_ms_ >= accept_resume_ms_) {
    accept_paused_ = false;
    restart_accepting();
  }
  if (shutting_down_ && now_ms_ >= shutdown_deadline_ms_) abort_all();
}

void Reactor::abort_all() {
  for (Stream* s : streams_by_fd_)
    if (s && s->fd >= 0) abort(*s);
  finish_closed();
}

void Reactor::pause_accepting() {
  if (accept_paused_) return;
  accept_paused_ = true;
  add_single_writer(counters_.accept_paused);
  accept_resume_ms_ = now_ms_ + options_.accept_pause_ms;
  stop_accepting();
}

void Reactor::close_after_flush(Stream& s) {
  if (s.fd < 0) return;
  if (s.reactor_flags & kFlagHeld) spill_held(s);
  if (&s == cork_stream_) flush_cork();
  if (s.fd < 0) return;
  if (s.filter && !(s.reactor_flags & kFlagCloseAfterFlush)) {
    FilterSink sink(*this, s);
    s.filter->on_close(sink);
    if (s.fd < 0) return;
  }
  s.reactor_flags |= kFlagCloseAfterFlush;
  if (!has_unsent(s)) half_close(s);
}

void Reactor::half_close(Stream& s) {
  if (s.reactor_flags & kFlagLingering) return;
  s.reactor_flags |= kFlagLingering;
  ::shutdown(s.fd, SHUT_WR);
}

WriteQueue& Reactor::pending_queue(Stream& s) {
  if (!s.pending) {
    s.pending = new WriteQueue;
    s.pending->note_progress(now_ms_);
  }
  return *s.pending;
}

bool Reactor::over_cap(const Stream& s) const {
  if (!s.pending) return false;
  const size_t queued = s.pending->bytes();
  const size_t cap = options_.max_queued_bytes;
  if (queued <= cap) return false;
  if (queued > 4 * cap) return true;
  return now_ms_ - s.pending->last_progress_ms() >= options_.stall_ms;
}

bool Reactor::connect(Stream& s, const sockaddr* address, socklen_t length, OutboundHandler& handler,
                      std::string& why) {
  const int fd = ::socket(address->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    why = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd, address, length) != 0 && errno != EINPROGRESS) {
    why = std::string("connect: ") + std::strerror(errno);
    ::close(fd);
    return false;
  }
  s.fd = fd;
  s.generation = ++next_generation_ & 0x3FFFFFFF;
  if (s.generation == 0) s.generation = ++next_generation_ & 0x3FFFFFFF;
  s.listener = kOutboundListener;
  s.reactor_flags = kFlagConnecting;
  if (streams_by_fd_.size() <= size_t(fd)) streams_by_fd_.resize(size_t(fd) + 1024, nullptr);
  streams_by_fd_[size_t(fd)] = &s;
  ++stream_count_;
  outbound_.handlers[&s] = &handler;
  watch(s);
  return true;
}

void Reactor::finish_connect(Stream& s) {
  if (!(s.reactor_flags & kFlagConnecting) || s.fd < 0) return;
  int error = 0;
  socklen_t size = sizeof error;
  if (::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0) error = errno;
  if (error == 0) {
    // Still connecting (a spurious wake-up): the next writable event tells.
    sockaddr_storage peer;
    socklen_t peer_size = sizeof peer;
    if (::getpeername(s.fd, reinterpret_cast<sockaddr*>(&peer), &peer_size) != 0 && errno == ENOTCONN) return;
  }
  s.reactor_flags &= ~kFlagConnecting;
  if (error != 0) {
    outbound_.of(s).on_connect_failed(s, error);
    if (s.fd >= 0) abort(s);
    return;
  }
  on_stream_connected(s);
  outbound_.of(s).on_connected(s);
}

SendResult Reactor::send(Stream& s, const iovec* iov, int count, bool force) {
  if (!accepts_sends(s)) return SendResult::closed;
  if (s.reactor_flags & kFlagHeld) spill_held(s);
  size_t total = 0;
  for (int i = 0; i < count; ++i) total += iov[i].iov_len;
  if (s.filter) return send_filtered(s, iov, count, total, force);
  return send_raw(s, iov, count, total, force);
}

SendResult Reactor::send_shared(Stream& s, const SharedBuffer& frame) {
  if (!accepts_sends(s)) return SendResult::closed;
  if (s.filter) {
    iovec one{const_cast<uint8_t*>(frame.bytes().data()), frame.size()};
    return send_filtered(s, &one, 1, frame.size(), /*force=*/false);
  }
  if (s.reactor_flags & kFlagHeld) return hold(s, frame);
  // Worth holding only when more mail follows in this batch: it may bring the stream more.
  if (holding_sends_ && &s != cork_stream_ && !has_unsent(s) && mailbox_.more_linked()) return hold(s, frame);
  return send_shared_raw(s, frame);
}

// Held frames of one stream form a chain through `next`; its head (the stream's first frame
// of the batch, whose index the stream keeps in send_slot, unused while nothing is being sent)
// knows the chain's last entry.
SendResult Reactor::hold(Stream& s, const SharedBuffer& frame) {
  const uint32_t index = uint32_t(held_.size());
  const bool first = !(s.reactor_flags & kFlagHeld);
  held_.push_back(HeldFrame{&s, frame, kNoHeld, index, first, false});
  add_single_writer(counters_.held_frames);
  if (first) {
    s.reactor_flags |= kFlagHeld;
    s.send_slot = index;
  } else {
    HeldFrame& head = held_[s.send_slot];
    held_[head.last].next = index;
    head.last = index;
  }
  return SendResult::queued;
}

void Reactor::queue_held(Stream& s, uint32_t head) {
  WriteQueue& queue = pending_queue(s);
  for (uint32_t i = head; i != kNoHeld; i = held_[i].next) queue.append_shared(held_[i].frame);
}

// Another kind of send (or a close) reached a stream with held frames: they go to its queue
// first, so order is kept, and drain_mail writes the queue out.
void Reactor::spill_held(Stream& s) {
  s.reactor_flags &= ~kFlagHeld;
  held_[s.send_slot].spilled = true;
  queue_held(s, s.send_slot);
}

void Reactor::drain_mail() {
  holding_sends_ = true;
  mailbox_.drain();
  holding_sends_ = false;
  // A stream aborted meanwhile has fd -1; its memory lives until finish_closed.
  for (size_t i = 0; i < held_.size(); ++i) {
    HeldFrame& entry = held_[i];
    if (!entry.head) continue;
    Stream& s = *entry.stream;
    if (entry.spilled) {
      // Its queue holds the frames and what followed them, a close perhaps: write it out.
      if (s.fd < 0 || !s.pending) continue;
    } else {
      s.reactor_flags &= ~kFlagHeld;
      if (!accepts_sends(s)) continue;
    }
    add_single_writer(counters_.held_flushes);
    if (!entry.spilled && entry.next == kNoHeld) {
      send_shared_raw(s, entry.frame);  // the common case: one frame, sent as it would have been
      continue;
    }
    if (!entry.spilled) queue_held(s, uint32_t(i));
    flush_held(s);
  }
  held_.clear();
}

SendResult Reactor::refuse() {
  add_single_writer(counters_.over_limit);
  return SendResult::over_limit;
}

SendResult Reactor::send_filtered(Stream& s, const iovec* iov, int count, size_t total, bool force) {
  if (!force && over_cap(s)) return refuse();
  if (&s == cork_stream_ && plain_cork_size_ + total <= kPlainCorkBytes) {
    for (int i = 0; i < count; ++i) {
      std::memcpy(plain_cork_.get() + plain_cork_size_, iov[i].iov_base, iov[i].iov_len);
      plain_cork_size_ += iov[i].iov_len;
    }
    return SendResult::sent;
  }
  if (&s == cork_stream_) {
    // Keep the order: what is corked goes out first; the stream stays corked.
    flush_cork();
    cork_stream_ = &s;
    if (s.fd < 0) return SendResult::closed;
  }
  FilterSink sink(*this, s);
  if (!s.filter->on_output(iov, count, sink)) {
    abort(s);
    return SendResult::closed;
  }
  if (s.fd < 0) return SendResult::closed;
  return s.pending ? SendResult::queued : SendResult::sent;
}

void Reactor::flush_cork() {
  Stream* s = cork_stream_;
  cork_stream_ = nullptr;
  if (!s || s->fd < 0) {
    plain_cork_size_ = 0;
    drop_raw_cork();
    return;
  }
  flush_raw_cork(*s);
  if (!plain_cork_size_ || s->fd < 0) {
    plain_cork_size_ = 0;
    return;
  }
  iovec one{plain_cork_.get(), plain_cork_size_};
  plain_cork_size_ = 0;
  FilterSink sink(*this, *s);
  if (!s->filter->on_output(&one, 1, sink)) abort(*s);
}

bool Reactor::FilterSink::plaintext(MutableBytes bytes) {
  if (stream_.fd < 0 || (stream_.reactor_flags & kFlagLingering)) return false;
  reactor_.handler_of(stream_).on_data(stream_, bytes);
  return stream_.fd >= 0;
}

const char* io_backend_name(IoBackend backend) {
  switch (backend) {
    case IoBackend::automatic: return "auto";
    case IoBackend::epoll: return "epoll";
    case IoBackend::io_uring: return "io_uring";
  }
  return "?";
}

// What `automatic` means: the backend measured faster in docs/benchmarks.md.
constexpr IoBackend kPreferredBackend = IoBackend::io_uring;

std::unique_ptr<Reactor> make_reactor(IoBackend backend, StreamHandler& handler,
                                      const ReactorOptions& options, IoBackend& chosen,
                                      std::string& fallback_reason) {
  if (backend == IoBackend::automatic) backend = kPreferredBackend;
  if (backend == IoBackend::io_uring) {
    if (auto reactor = make_uring_reactor(handler, options)) {
      chosen = IoBackend::io_uring;
      return reactor;
    }
    fallback_reason = "io_uring is not available here (kernel too old, or disabled by sysctl "
                      "kernel.io_uring_disabled or a seccomp profile)";
  }
  chosen = IoBackend::epoll;
  return make_epoll_reactor(handler, options);
}

void Reactor::remember_listener(int fd, uint16_t index) {
  if (listeners_.size() <= index) listeners_.resize(index + 1, -1);
  listeners_[index] = fd;
}

void Reactor::close_listeners() {
  for (int& fd : listeners_) {
    if (fd < 0) continue;
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
    fd = -1;
  }
}

void Reactor::begin_shutdown(uint32_t grace_ms) {
  if (shutting_down_) return;
  shutting_down_ = true;
  shutdown_deadline_ms_ = now_ms_ + grace_ms;
  close_listeners();
  handler_.on_shutdown();
  std::vector<std::pair<Stream*, OutboundHandler*>> outbound(outbound_.handlers.begin(), outbound_.handlers.end());
  for (auto [stream, handler] : outbound)
    if (stream->fd >= 0) handler->on_shutdown(*stream);
}

void Reactor::request_shutdown(uint32_t grace_ms) {
  post(new ShutdownRequest([this, grace_ms] { begin_shutdown(grace_ms); }));
}

}  // namespace wshub::net
