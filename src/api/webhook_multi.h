// libcurl's multi-socket interface driven by one epoll instance: curl tells us which sockets to
// watch and when its timer is due (CURLMOPT_SOCKETFUNCTION / TIMERFUNCTION), we wait and hand
// readiness back with curl_multi_socket_action. One extra descriptor (an eventfd) can be
// watched for wake-ups. Used by the webhook client's thread only; knows nothing about calls.
#pragma once

#include <curl/curl.h>

#include <cstdint>

namespace wshub::api {

class CurlMultiLoop {
 public:
  // `max_connections` bounds the connection cache (idle keep-alive connections kept for
  // reuse) and the connections open to any one host. Throws std::runtime_error at start-up
  // when epoll or libcurl cannot be set up.
  explicit CurlMultiLoop(uint32_t max_connections);
  ~CurlMultiLoop();
  CurlMultiLoop(const CurlMultiLoop&) = delete;
  CurlMultiLoop& operator=(const CurlMultiLoop&) = delete;

  // Watches `fd` for readability; run_once reports it.
  void watch_wake_fd(int fd);

  // Waits until a socket is ready, curl's timer is due, the wake fd is readable or `max_wait_ms`
  // has passed (-1: no limit), and lets curl act on what happened. Returns true when the wake
  // fd was readable.
  bool run_once(int max_wait_ms);

  // Starts / stops a transfer. remove() is also how a finished transfer is released.
  bool add(CURL* easy);
  void remove(CURL* easy);

  // Calls `finished(easy, code)` for each transfer that ended since the last call. The callee
  // may remove() the handle.
  template <typename Finished>
  void take_finished(Finished&& finished) {
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &left))
      if (msg->msg == CURLMSG_DONE) finished(msg->easy_handle, msg->data.result);
  }

  int running() const { return running_; }

 private:
  static int on_socket(CURL* easy, curl_socket_t fd, int what, void* self, void* socket_data);
  static int on_timer(CURLM* multi, long timeout_ms, void* self);
  void act(curl_socket_t fd, int events);

  CURLM* multi_ = nullptr;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  int running_ = 0;
  // curl's timer: the monotonic ms at which it wants CURL_SOCKET_TIMEOUT; -1 when not armed.
  int64_t timer_due_ms_ = -1;
};

}  // namespace wshub::api
