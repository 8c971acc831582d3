// Measures what the webhook client adds to a call's latency: N sequential calls submitted from
// a reactor thread (submit -> client thread -> libcurl -> backend -> completion run on the
// reactor), against the same N calls made with one blocking libcurl easy handle (keep-alive)
// on the calling thread. Not a test; run by hand against a fast local backend:
//   wshub_webhook_latency URL [calls]
#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <future>
#include <vector>

#include "api/webhook_client.h"
#include "webhook_test_support.h"

using namespace wshub;
using Clock = std::chrono::steady_clock;

namespace {

size_t discard(char*, size_t size, size_t count, void*) { return size * count; }

std::vector<double> direct_calls(const char* url, int calls, const std::string& body) {
  CURL* easy = curl_easy_init();
  curl_easy_setopt(easy, CURLOPT_URL, url);
  curl_easy_setopt(easy, CURLOPT_PROXY, "");
  curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &discard);
  curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
  std::vector<double> micros;
  for (int i = 0; i < calls; ++i) {
    auto start = Clock::now();
    if (curl_easy_perform(easy) != CURLE_OK) std::fprintf(stderr, "direct call failed\n");
    micros.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(easy);
  return micros;
}

class TimedCompletion final : public api::WebhookCompletion {
 public:
  explicit TimedCompletion(std::promise<Clock::time_point>& done) : done_(done) {}
  void run() override {
    if (result().outcome != api::WebhookOutcome::ok)
      std::fprintf(stderr, "call failed: %s\n", api::webhook_outcome_name(result().outcome));
    done_.set_value(Clock::now());
  }

 private:
  std::promise<Clock::time_point>& done_;
};

std::vector<double> client_calls(const char* url, int calls, const std::string& body) {
  test::ReactorThread worker;
  api::WebhookEndpointConfig config;
  config.name = "bench";
  config.url = url;
  config.secret = "latency-measurement-secret";
  api::WebhookClient client({config});
  std::vector<double> micros;
  for (int i = 0; i < calls; ++i) {
    std::promise<Clock::time_point> done;
    auto finished = done.get_future();
    std::promise<Clock::time_point> submitted;
    auto start = submitted.get_future();
    worker.run_on([&] {
      submitted.set_value(Clock::now());
      client.submit({api::WebhookEndpointId{0}, body}, worker.reactor(), new TimedCompletion(done));
    });
    auto end = finished.get();
    micros.push_back(std::chrono::duration<double, std::micro>(end - start.get()).count());
  }
  client.shutdown(1000);
  return micros;
}

void report(const char* name, std::vector<double> micros) {
  std::sort(micros.begin(), micros.end());
  auto at = [&](double q) { return micros[size_t(q * double(micros.size() - 1))]; };
  std::printf("%-34s median %7.1f us   p90 %7.1f us   p99 %7.1f us\n", name, at(0.5), at(0.9),
              at(0.99));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s URL [calls]\n", argv[0]);
    return 2;
  }
  const int calls = argc > 2 ? std::atoi(argv[2]) : 5000;
  const std::string body = R"({"type":"rpc","cid":"c1","user":"u1","m":"echo","data":{"x":1}})";
  curl_global_init(CURL_GLOBAL_DEFAULT);
  // Interleave rounds so that drift on a shared machine hits both sides alike.
  std::vector<double> direct, through_client;
  for (int round = 0; round < 5; ++round) {
    auto d = direct_calls(argv[1], calls / 5, body);
    auto c = client_calls(argv[1], calls / 5, body);
    direct.insert(direct.end(), d.begin(), d.end());
    through_client.insert(through_client.end(), c.begin(), c.end());
  }
  report("blocking curl_easy_perform", direct);
  report("WebhookClient (reactor to reactor)", through_client);
  curl_global_cleanup();
  return 0;
}
