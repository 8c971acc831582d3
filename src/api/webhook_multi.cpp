#include "api/webhook_multi.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <string>

#include "base/clock.h"

namespace wshub::api {
namespace {

int64_t now_ms() { return int64_t(monotonic_ns() / 1'000'000); }

uint32_t epoll_events_for(int what) {
  switch (what) {
    case CURL_POLL_IN: return EPOLLIN;
    case CURL_POLL_OUT: return EPOLLOUT;
    case CURL_POLL_INOUT: return EPOLLIN | EPOLLOUT;
    default: return 0;
  }
}

}  // namespace

CurlMultiLoop::CurlMultiLoop(uint32_t max_connections) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) throw std::runtime_error("webhooks: epoll_create1 failed");
  multi_ = curl_multi_init();
  if (!multi_) throw std::runtime_error("webhooks: curl_multi_init failed");
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &CurlMultiLoop::on_socket);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &CurlMultiLoop::on_timer);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
  // Enough cached connections that every endpoint keeps its whole pool warm between bursts.
  curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, long(max_connections));
  curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, long(max_connections));
}

CurlMultiLoop::~CurlMultiLoop() {
  if (multi_) curl_multi_cleanup(multi_);
  if (epoll_fd_ >= 0) close(epoll_fd_);
}

void CurlMultiLoop::watch_wake_fd(int fd) {
  wake_fd_ = fd;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0)
    throw std::runtime_error("webhooks: cannot watch the wake-up eventfd");
}

int CurlMultiLoop::on_socket(CURL*, curl_socket_t fd, int what, void* self_ptr, void* known) {
  auto* self = static_cast<CurlMultiLoop*>(self_ptr);
  if (what == CURL_POLL_REMOVE) {
    // The socket may already be closed (then the kernel dropped it from the set itself).
    epoll_ctl(self->epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    return 0;
  }
  epoll_event ev{};
  ev.events = epoll_events_for(what);
  ev.data.fd = fd;
  // Level-triggered: curl may leave bytes unread and expects to be told again.
  int op = known ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
  if (epoll_ctl(self->epoll_fd_, op, fd, &ev) != 0) {
    int retry = errno == EEXIST ? EPOLL_CTL_MOD : errno == ENOENT ? EPOLL_CTL_ADD : -1;
    if (retry < 0 || epoll_ctl(self->epoll_fd_, retry, fd, &ev) != 0) return -1;
  }
  if (!known) curl_multi_assign(self->multi_, fd, self);
  return 0;
}

int CurlMultiLoop::on_timer(CURLM*, long timeout_ms, void* self_ptr) {
  auto* self = static_cast<CurlMultiLoop*>(self_ptr);
  self->timer_due_ms_ = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
  return 0;
}

void CurlMultiLoop::act(curl_socket_t fd, int events) {
  curl_multi_socket_action(multi_, fd, events, &running_);
}

bool CurlMultiLoop::run_once(int max_wait_ms) {
  int wait_ms = max_wait_ms;
  if (timer_due_ms_ >= 0) {
    int64_t until_timer = timer_due_ms_ - now_ms();
    if (until_timer < 0) until_timer = 0;
    if (wait_ms < 0 || until_timer < wait_ms) wait_ms = int(until_timer);
  }
  constexpr int kMaxEvents = 64;
  epoll_event events[kMaxEvents];
  int n = epoll_wait(epoll_fd_, events, kMaxEvents, wait_ms);
  bool woken = false;
  for (int i = 0; i < n; ++i) {
    int fd = events[i].data.fd;
    if (fd == wake_fd_) {
      woken = true;
      continue;
    }
    uint32_t e = events[i].events;
    int flags = (e & EPOLLIN ? CURL_CSELECT_IN : 0) | (e & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                (e & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
    act(fd, flags);
  }
  if (timer_due_ms_ >= 0 && now_ms() >= timer_due_ms_) {
    timer_due_ms_ = -1;
    act(CURL_SOCKET_TIMEOUT, 0);
  }
  return woken;
}

bool CurlMultiLoop::add(CURL* easy) { return curl_multi_add_handle(multi_, easy) == CURLM_OK; }

void CurlMultiLoop::remove(CURL* easy) { curl_multi_remove_handle(multi_, easy); }

}  // namespace wshub::api
