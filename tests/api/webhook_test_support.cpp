#include "webhook_test_support.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <future>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace wshub::test {

WebhookBackend::WebhookBackend() {
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  std::string secret = kTestSecret;
  const char* argv[] = {WSHUB_TEST_PYTHON, WSHUB_WEBHOOK_BACKEND, "--secret", secret.c_str(),
                        nullptr};
  int rc = posix_spawn(&pid_, WSHUB_TEST_PYTHON, &actions, nullptr, const_cast<char**>(argv),
                       environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  if (rc != 0) {
    close(out[0]);
    throw std::runtime_error("cannot start the webhook backend");
  }
  std::string line;
  auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < give_up) {
    pollfd p{out[0], POLLIN, 0};
    if (poll(&p, 1, 500) <= 0) continue;
    char buffer[64];
    ssize_t n = read(out[0], buffer, sizeof buffer);
    if (n <= 0) break;
    line.append(buffer, size_t(n));
  }
  close(out[0]);
  if (line.rfind("PORT ", 0) != 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    throw std::runtime_error("the webhook backend did not report its port: " + line);
  }
  port_ = uint16_t(std::stoi(line.substr(5)));
}

WebhookBackend::~WebhookBackend() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

std::string WebhookBackend::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

namespace {
size_t append_body(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}
}  // namespace

std::string WebhookBackend::get(const std::string& path) const {
  CURL* easy = curl_easy_init();
  std::string body;
  std::string address = url(path);
  curl_easy_setopt(easy, CURLOPT_URL, address.c_str());
  curl_easy_setopt(easy, CURLOPT_PROXY, "");
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 10'000L);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &append_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &body);
  CURLcode code = curl_easy_perform(easy);
  curl_easy_cleanup(easy);
  return code == CURLE_OK ? body : std::string();
}

uint64_t WebhookBackend::stat(const std::string& name) const {
  std::istringstream lines(get("/stats"));
  std::string key;
  uint64_t value;
  while (lines >> key >> value)
    if (key == name) return value;
  throw std::runtime_error("no stat " + name);
}

uint64_t WebhookBackend::count(const std::string& path) const {
  return std::stoull(get("/count" + path));
}

class ReactorThread::NullHandler final : public net::StreamHandler {
 public:
  net::Stream* open_stream(int, const net::PeerAddress&, uint16_t) override { return nullptr; }
  void on_data(net::Stream&, MutableBytes) override {}
  void on_hangup(net::Stream&) override {}
  void on_drained(net::Stream&) override {}
  void on_timer(net::Stream&) override {}
  void on_closed(net::Stream&) override {}
  void on_shutdown() override {}
};

ReactorThread::ReactorThread()
    : handler_(std::make_unique<NullHandler>()),
      reactor_(net::make_epoll_reactor(*handler_, net::ReactorOptions{})) {
  std::promise<std::thread::id> started;
  auto id = started.get_future();
  thread_ = std::thread([this, &started] {
    started.set_value(std::this_thread::get_id());
    reactor_->run();
  });
  thread_id_ = id.get();
}

ReactorThread::~ReactorThread() {
  reactor_->request_shutdown(0);
  thread_.join();
}

namespace {
class FunctionItem final : public net::MailItem {
 public:
  explicit FunctionItem(std::function<void()> work) : work_(std::move(work)) {}
  void run() override { work_(); }

 private:
  std::function<void()> work_;
};
}  // namespace

void ReactorThread::run_on(std::function<void()> work) {
  reactor_->post(new FunctionItem(std::move(work)));
}

void CompletionInbox::add(RecordedResult record) {
  std::lock_guard lock(mutex_);
  results_.push_back(std::move(record));
  arrived_.notify_all();
}

bool CompletionInbox::wait_for(size_t count, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return arrived_.wait_for(lock, timeout, [&] { return results_.size() >= count; });
}

std::vector<RecordedResult> CompletionInbox::results() {
  std::lock_guard lock(mutex_);
  return results_;
}

size_t CompletionInbox::size() {
  std::lock_guard lock(mutex_);
  return results_.size();
}

void RecordingCompletion::run() {
  inbox_.add({std::move(result()), std::this_thread::get_id(), tag_,
              std::chrono::steady_clock::now()});
}

api::WebhookEndpointConfig test_endpoint(const std::string& name, const std::string& url) {
  api::WebhookEndpointConfig c;
  c.name = name;
  c.url = url;
  c.secret = kTestSecret;
  c.timeout_ms = 5'000;
  c.connect_timeout_ms = 2'000;
  c.max_concurrent = 8;
  c.max_queued = 256;
  c.retry.base_delay_ms = 20;
  c.retry.max_delay_ms = 200;
  c.retry.max_attempts = 4;
  c.retry.max_total_ms = 20'000;
  c.breaker.failure_threshold = 1000;  // tests of the breaker lower it
  c.breaker.open_ms = 500;
  return c;
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto give_up = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

void WebhookTest::submit(api::WebhookClient& client, const std::string& endpoint,
                         std::string body, int tag, api::WebhookDelivery delivery,
                         uint32_t timeout_ms) {
  auto id = client.find_endpoint(endpoint);
  ASSERT_TRUE(id) << endpoint;
  worker.run_on([this, &client, id = *id, body = std::move(body), tag, delivery, timeout_ms] {
    client.submit({id, body, delivery, timeout_ms}, worker.reactor(),
                  new RecordingCompletion(inbox, tag));
  });
}

RecordedResult WebhookTest::call(api::WebhookClient& client, const std::string& endpoint,
                                 std::string body, api::WebhookDelivery delivery,
                                 uint32_t timeout_ms) {
  size_t before = inbox.size();
  submit(client, endpoint, std::move(body), 0, delivery, timeout_ms);
  if (!inbox.wait_for(before + 1)) {
    ADD_FAILURE() << "no completion for a call to " << endpoint;
    return {};
  }
  return inbox.results()[before];
}

}  // namespace wshub::test
