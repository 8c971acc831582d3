#include "load_loop.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>

#include "base/clock.h"

namespace wshub::load {

LoadLoop::LoadLoop(size_t connection_count, uint64_t seed)
    : read_buffer_(new uint8_t[kReadBufferSize]),
      connections_(new ClientConnection[connection_count]),
      count_(connection_count) {
  context_.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  context_.read_buffer = read_buffer_.get();
  context_.read_capacity = kReadBufferSize;
  context_.rng = Xorshift64(seed);
  context_.now_ns = monotonic_ns();
}

LoadLoop::~LoadLoop() {
  connections_.reset();
  if (context_.epoll_fd >= 0) ::close(context_.epoll_fd);
}

void LoadLoop::run(LoopDriver& driver) {
  constexpr int kMaxEvents = 512;
  epoll_event events[kMaxEvents];
  context_.now_ns = monotonic_ns();
  int wait_ms = driver.on_turn(context_);
  while (!driver.finished()) {
    const int ready = epoll_wait(context_.epoll_fd, events, kMaxEvents, wait_ms);
    if (ready < 0 && errno != EINTR) break;
    context_.now_ns = monotonic_ns();
    for (int i = 0; i < ready; ++i) {
      const uint64_t tag = events[i].data.u64;
      const uint32_t slot = uint32_t(tag);
      if (slot >= count_) continue;
      ClientConnection& connection = connections_[slot];
      if (connection.generation() != uint32_t(tag >> 32) || !connection.is_active()) continue;
      connection.on_ready(events[i].events, context_, driver);
    }
    context_.now_ns = monotonic_ns();
    wait_ms = driver.on_turn(context_);
  }
}

void LoadLoop::close_all(LoopDriver& driver) {
  for (size_t slot = 0; slot < count_; ++slot) {
    ClientConnection& connection = connections_[slot];
    if (connection.is_open()) {
      connection.queue_close(1000, context_.rng.next_u32());
      connection.flush(context_, driver);
    }
    connection.abort();
  }
}

}  // namespace wshub::load
