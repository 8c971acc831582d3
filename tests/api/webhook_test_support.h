// Support for the webhook client's tests: the Python webhook backend as a child process
// (started on 127.0.0.1:0, stopped by PID), a blocking GET to steer and inspect it, a real epoll
// reactor running on its own thread to receive completions, and a completion that records
// its result and the thread it ran on.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api/webhook_client.h"
#include "net/reactor.h"

namespace wshub::test {

inline constexpr const char* kTestSecret = "test-secret-0123456789abcdef";

class WebhookBackend {
 public:
  // Starts tests/wshubtest/webhook_backend.py and waits for its port. Throws
  // std::runtime_error when it does not come up.
  WebhookBackend();
  ~WebhookBackend();  // SIGKILL by PID and reap
  WebhookBackend(const WebhookBackend&) = delete;
  WebhookBackend& operator=(const WebhookBackend&) = delete;

  uint16_t port() const { return port_; }
  std::string url(const std::string& path) const;
  // GET on the control paths; empty when it fails.
  std::string get(const std::string& path) const;
  uint64_t stat(const std::string& name) const;       // a line of /stats
  uint64_t count(const std::string& path) const;      // POSTs received on `path`

 private:
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

// A real epoll reactor on its own thread, as a worker has.
class ReactorThread {
 public:
  ReactorThread();
  ~ReactorThread();
  net::Reactor& reactor() { return *reactor_; }
  std::thread::id thread_id() const { return thread_id_; }
  // Runs `work` on the reactor's thread (test code only: a std::function per call).
  void run_on(std::function<void()> work);

 private:
  class NullHandler;
  std::unique_ptr<NullHandler> handler_;
  std::unique_ptr<net::Reactor> reactor_;
  std::thread thread_;
  std::thread::id thread_id_;
};

struct RecordedResult {
  api::WebhookResult result;
  std::thread::id ran_on;
  int tag = 0;
  std::chrono::steady_clock::time_point arrived;
};

// Where RecordingCompletion puts what it saw; thread-safe.
class CompletionInbox {
 public:
  void add(RecordedResult record);
  // Waits until `count` results have arrived in total; false on timeout.
  bool wait_for(size_t count, std::chrono::milliseconds timeout = std::chrono::seconds(20));
  std::vector<RecordedResult> results();
  size_t size();

 private:
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<RecordedResult> results_;
};

class RecordingCompletion final : public api::WebhookCompletion {
 public:
  RecordingCompletion(CompletionInbox& inbox, int tag = 0) : inbox_(inbox), tag_(tag) {}
  void run() override;

 private:
  CompletionInbox& inbox_;
  int tag_;
};

// An endpoint on the backend with short, test-friendly settings.
api::WebhookEndpointConfig test_endpoint(const std::string& name, const std::string& url);

// Polls `condition` every few ms until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout = std::chrono::seconds(20));

// A backend, a worker reactor and an inbox; calls are submitted from the worker's thread, as
// the hub submits them.
class WebhookTest : public ::testing::Test {
 protected:
  void submit(api::WebhookClient& client, const std::string& endpoint, std::string body = "{}",
              int tag = 0, api::WebhookDelivery delivery = api::WebhookDelivery::once,
              uint32_t timeout_ms = 0);
  // Submits one call and waits for its completion.
  RecordedResult call(api::WebhookClient& client, const std::string& endpoint,
                      std::string body = "{}",
                      api::WebhookDelivery delivery = api::WebhookDelivery::once,
                      uint32_t timeout_ms = 0);

  WebhookBackend backend;
  ReactorThread worker;
  CompletionInbox inbox;
};

}  // namespace wshub::test
