// Fanout's publisher when publications come from the backend HTTP API (`POST /api/publish`)
// instead of a WebSocket connection: one keep-alive HTTP/1.1 connection on its own thread,
// paced like the WebSocket publisher, with --api-depth requests in flight (HTTP/1.1
// pipelining; 1: send, read the answer, next). Blocking I/O on purpose: it is one socket, and that is what a backend
// publishing in a loop does. It knows the fanout plan, not the subscribers.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "modes/fanout_protocol.h"
#include "run_control.h"

namespace wshub::load {

// http://HOST:PORT with HOST a loopback IPv4 literal or "localhost".
struct ApiTarget {
  uint32_t address = 0;  // host byte order
  uint16_t port = 0;
  std::string host_header;
  std::string key;  // sent as X-API-Key
};

bool parse_api_url(std::string_view text, ApiTarget& target, std::string& why);

struct ApiPublishPlan {
  const ApiTarget* target = nullptr;
  FanoutProtocolCodec* codec = nullptr;
  RunControl* control = nullptr;
  uint32_t messages = 0;
  uint64_t interval_ns = 0;
  uint32_t depth = 1;  // requests in flight (pipelined on the one connection)
};

struct ApiPublishResult {
  uint32_t published = 0;     // answered 200
  uint64_t first_send_ns = 0;
  uint64_t errors = 0;
  std::string first_error;
};

class ApiPublisher {
 public:
  explicit ApiPublisher(const ApiPublishPlan& plan) : plan_(plan) {}
  ApiPublisher(const ApiPublisher&) = delete;
  ApiPublisher& operator=(const ApiPublisher&) = delete;
  ~ApiPublisher();

  // Connects (before the run's publishing starts, so a refused API fails the run early).
  bool connect(std::string& why);
  // Waits for Phase::measuring, publishes plan.messages (stopping early at Phase::stopping or
  // at the first failed request), then returns. `published` is updated as it goes.
  void run(std::atomic<uint32_t>& published, std::atomic<uint64_t>& first_send_ns);
  const ApiPublishResult& result() const { return result_; }

 private:
  bool send_one(uint32_t sequence);
  bool take_answer();
  bool read_answer(std::string& why);
  void fail(std::string_view why);

  ApiPublishPlan plan_;
  ApiPublishResult result_;
  int fd_ = -1;
  std::string request_;   // head + body of one request, reused
  char answer_[4096];     // one whole answer fits: {"epoch":"…","offset":N}
  size_t answer_used_ = 0;
};

}  // namespace wshub::load
