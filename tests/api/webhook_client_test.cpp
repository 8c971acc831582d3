// The webhook client against a real HTTP backend on 127.0.0.1
// (tests/wshubtest/webhook_backend.py): what each kind of answer, or failure to answer, becomes;
// signatures the backend verifies; keep-alive reuse; and completions arriving on the
// submitting reactor without blocking it.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>

#include "webhook_test_support.h"

namespace wshub::test {
namespace {

using api::WebhookClient;
using api::WebhookEndpointConfig;
using api::WebhookOutcome;
using namespace std::chrono_literals;

uint64_t ms(uint64_t micros) { return micros / 1000; }

TEST_F(WebhookTest, OkAnswerWithJsonBodyArrivesOnTheSubmittingReactor) {
  WebhookClient client({test_endpoint("main", backend.url("/ok"))});
  RecordedResult r = call(client, "main", R"({"type":"connect","cid":"c1"})");
  EXPECT_EQ(r.result.outcome, WebhookOutcome::ok) << r.result.detail;
  EXPECT_EQ(r.result.http_status, 200);
  EXPECT_EQ(r.result.body, R"({"ok":true})");
  EXPECT_EQ(r.result.attempts, 1u);
  EXPECT_GT(r.result.latency_us, 0u);
  EXPECT_EQ(r.ran_on, worker.thread_id());
  const auto& counters = client.counters(*client.find_endpoint("main"));
  EXPECT_EQ(counters.calls_with(WebhookOutcome::ok), 1u);
  EXPECT_EQ(counters.attempts.load(), 1u);
  EXPECT_EQ(counters.latency.count(), 1u);
  EXPECT_EQ(counters.in_flight.load(), 0u);
  EXPECT_EQ(counters.queued.load(), 0u);
}

TEST_F(WebhookTest, EachCompletionRunsOnTheReactorThatSubmitted) {
  ReactorThread other;
  WebhookClient client({test_endpoint("main", backend.url("/ok"))});
  auto id = *client.find_endpoint("main");
  for (int i = 0; i < 10; ++i) {
    ReactorThread& target = i % 2 ? other : worker;
    target.run_on([&, i] {
      client.submit({id, "{}"}, target.reactor(), new RecordingCompletion(inbox, i));
    });
  }
  ASSERT_TRUE(inbox.wait_for(10));
  for (const auto& r : inbox.results()) {
    EXPECT_EQ(r.result.outcome, WebhookOutcome::ok);
    EXPECT_EQ(r.ran_on, r.tag % 2 ? other.thread_id() : worker.thread_id()) << r.tag;
  }
}

TEST_F(WebhookTest, BackendVerifiesTheSignatureAndSeesTheHeaders) {
  auto wrong = test_endpoint("wrong-secret", backend.url("/verify"));
  wrong.secret = "not-the-backends-secret";
  WebhookClient client({test_endpoint("main", backend.url("/verify")), wrong});
  const std::string body = R"({"type":"rpc","cid":"c1","user":"u1","m":"sum","data":[1,2]})";
  RecordedResult r = call(client, "main", body);
  ASSERT_EQ(r.result.outcome, WebhookOutcome::ok) << r.result.body;
  EXPECT_NE(r.result.body.find(R"("valid": true)"), std::string::npos) << r.result.body;
  EXPECT_NE(r.result.body.find(R"("content_type": "application/json")"), std::string::npos);
  EXPECT_NE(r.result.body.find(R"("user_agent": "wshub/)"), std::string::npos) << r.result.body;
  EXPECT_NE(r.result.body.find(R"("attempt": "1")"), std::string::npos);
  EXPECT_NE(r.result.body.find(R"("delivery": ")"), std::string::npos);
  EXPECT_EQ(r.result.body.find(R"("delivery": null)"), std::string::npos);

  // The backend's check is real: another secret is refused.
  RecordedResult refused = call(client, "wrong-secret", body);
  EXPECT_EQ(refused.result.outcome, WebhookOutcome::http_status_error);
  EXPECT_EQ(refused.result.http_status, 401);
  EXPECT_NE(refused.result.body.find(R"("reason": "mismatch")"), std::string::npos)
      << refused.result.body;
}

TEST_F(WebhookTest, SequentialCallsReuseKeepAliveConnections) {
  WebhookClient client({test_endpoint("main", backend.url("/ok"))});
  uint64_t before = backend.stat("connections");  // counts the GET's own connection
  for (int i = 0; i < 50; ++i) ASSERT_EQ(call(client, "main").result.outcome, WebhookOutcome::ok);
  uint64_t used = backend.stat("connections") - before - 1;  // minus this GET's connection
  EXPECT_GE(used, 1u);
  EXPECT_LE(used, 2u) << "50 sequential calls should share a kept-alive connection";
}

TEST_F(WebhookTest, MaxConcurrentBoundsCallsInFlightAndConnections) {
  auto config = test_endpoint("main", backend.url("/slow/40"));
  config.max_concurrent = 3;
  WebhookClient client({config});
  uint64_t before = backend.stat("connections");
  for (int i = 0; i < 24; ++i) submit(client, "main", "{}", i);
  ASSERT_TRUE(inbox.wait_for(24));
  for (const auto& r : inbox.results()) EXPECT_EQ(r.result.outcome, WebhookOutcome::ok);
  EXPECT_LE(backend.stat("connections") - before - 1, 3u);  // minus this GET's connection
  EXPECT_LE(backend.stat("max_active"), 3u);
}

TEST_F(WebhookTest, HangingBackendTimesOutWithoutBlockingTheCaller) {
  WebhookClient client({test_endpoint("main", backend.url("/hang"))});
  auto id = *client.find_endpoint("main");
  std::atomic<bool> ticked_before_completion{false};
  worker.run_on([&] {
    client.submit({id, "{}", api::WebhookDelivery::once, 300}, worker.reactor(),
                  new RecordingCompletion(inbox));
    // Work posted after the submit runs while the call is still pending.
    worker.run_on([&] { ticked_before_completion = inbox.size() == 0; });
  });
  ASSERT_TRUE(inbox.wait_for(1, 10s));
  EXPECT_TRUE(ticked_before_completion.load());
  RecordedResult r = inbox.results()[0];
  EXPECT_EQ(r.result.outcome, WebhookOutcome::timeout) << r.result.detail;
  EXPECT_GE(ms(r.result.latency_us), 300u);
  EXPECT_LT(ms(r.result.latency_us), 300u + 3000u);
  EXPECT_EQ(r.result.body, "");
}

TEST_F(WebhookTest, ServerErrorIsAnHttpStatusErrorWithItsBodyAndNoRetry) {
  WebhookClient client({test_endpoint("main", backend.url("/status/500"))});
  RecordedResult r = call(client, "main");
  EXPECT_EQ(r.result.outcome, WebhookOutcome::http_status_error);
  EXPECT_EQ(r.result.http_status, 500);
  EXPECT_NE(r.result.body.find("as asked"), std::string::npos);
  EXPECT_EQ(r.result.attempts, 1u);
  EXPECT_EQ(backend.count("/status/500"), 1u);
}

TEST_F(WebhookTest, NonJsonBodyIsReturnedAsReceived) {
  WebhookClient client({test_endpoint("main", backend.url("/garbage"))});
  RecordedResult r = call(client, "main");
  EXPECT_EQ(r.result.outcome, WebhookOutcome::ok);
  EXPECT_EQ(r.result.body, std::string("\x00\xff<html>not json", 16));
}

TEST_F(WebhookTest, AnswerOverMaxResponseBytesIsAborted) {
  auto exact = test_endpoint("exact", backend.url("/big/1000"));
  auto declared = test_endpoint("declared", backend.url("/big/5000"));
  auto chunked = test_endpoint("chunked", backend.url("/big-chunked/50000"));
  for (auto* c : {&exact, &declared, &chunked}) c->max_response_bytes = 1000;
  WebhookClient client({exact, declared, chunked});
  RecordedResult at_limit = call(client, "exact");
  EXPECT_EQ(at_limit.result.outcome, WebhookOutcome::ok);
  EXPECT_EQ(at_limit.result.body.size(), 1000u);
  for (const char* name : {"declared", "chunked"}) {
    RecordedResult r = call(client, name);
    EXPECT_EQ(r.result.outcome, WebhookOutcome::response_too_large) << name << ": " << r.result.detail;
    EXPECT_EQ(r.result.body, "") << name;
  }
  // The client carries on normally afterwards.
  EXPECT_EQ(call(client, "exact").result.outcome, WebhookOutcome::ok);
}

TEST_F(WebhookTest, ConnectionClosedMidAnswerIsATransportError) {
  WebhookClient client({test_endpoint("main", backend.url("/close-mid"))});
  RecordedResult r = call(client, "main");
  EXPECT_EQ(r.result.outcome, WebhookOutcome::transport_error) << r.result.detail;
  EXPECT_EQ(r.result.body, "");
}

// A port with a bound socket that does not listen: connecting is refused, and nothing else can
// take the port while the socket is held.
struct RefusingPort {
  RefusingPort() {
    fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~RefusingPort() { close(fd); }
  int fd;
  uint16_t port;
};

TEST_F(WebhookTest, RefusedConnectionFailsFast) {
  RefusingPort refusing;
  auto config = test_endpoint("down", "http://127.0.0.1:" + std::to_string(refusing.port) + "/x");
  config.connect_timeout_ms = 5'000;
  WebhookClient client({config});
  RecordedResult r = call(client, "down");
  EXPECT_EQ(r.result.outcome, WebhookOutcome::connect_failed) << r.result.detail;
  EXPECT_EQ(r.result.http_status, 0);
  // Refusal is immediate; far less than the connect timeout even on a loaded machine.
  EXPECT_LT(ms(r.result.latency_us), 2'500u);
}

TEST_F(WebhookTest, UnansweredConnectIsConnectFailedAfterTheConnectTimeout) {
  // A listener with a backlog of 0 and one connection already queued drops further SYNs.
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(listener, 0), 0);
  socklen_t len = sizeof a;
  getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len);
  int filler = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(connect(filler, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);

  auto config = test_endpoint("blackhole", "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/x");
  config.connect_timeout_ms = 300;
  config.timeout_ms = 10'000;
  WebhookClient client({config});
  RecordedResult r = call(client, "blackhole");
  EXPECT_EQ(r.result.outcome, WebhookOutcome::connect_failed) << r.result.detail;
  EXPECT_GE(ms(r.result.latency_us), 300u);
  EXPECT_LT(ms(r.result.latency_us), 300u + 3000u);
  close(filler);
  close(listener);
}

TEST_F(WebhookTest, ManyThreadsSubmittingAtOnceGetEveryCompletion) {
  auto config = test_endpoint("main", backend.url("/ok"));
  config.max_queued = 10'000;
  WebhookClient client({config});
  auto id = *client.find_endpoint("main");
  constexpr int kThreads = 4, kEach = 100;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i)
        client.submit({id, "{}"}, worker.reactor(), new RecordingCompletion(inbox));
    });
  for (auto& t : threads) t.join();
  ASSERT_TRUE(inbox.wait_for(kThreads * kEach, 60s));
  const auto& counters = client.counters(id);
  EXPECT_EQ(counters.calls_with(WebhookOutcome::ok), uint64_t(kThreads * kEach));
  EXPECT_EQ(backend.count("/ok"), uint64_t(kThreads * kEach));
  EXPECT_TRUE(eventually([&] { return counters.in_flight.load() == 0 && counters.queued.load() == 0; }));
}

}  // namespace
}  // namespace wshub::test
