// The webhook client when the backend fails: the circuit breaker opening, failing fast and
// closing again through a probe; notices retried with backoff (and calls that are not); the
// queue cap; and shutdown completing every pending call.
#include <gtest/gtest.h>

#include "webhook_test_support.h"

namespace wshub::test {
namespace {

using api::BreakerState;
using api::WebhookClient;
using api::WebhookDelivery;
using api::WebhookOutcome;
using namespace std::chrono_literals;

TEST_F(WebhookTest, BreakerOpensFailsFastProbesAndClosesWhenTheBackendRecovers) {
  auto config = test_endpoint("main", backend.url("/switch/b1"));
  config.breaker.failure_threshold = 3;
  config.breaker.open_ms = 400;
  WebhookClient client({config});
  const auto& counters = client.counters(*client.find_endpoint("main"));

  for (int i = 0; i < 3; ++i) {
    RecordedResult r = call(client, "main");
    EXPECT_EQ(r.result.outcome, WebhookOutcome::http_status_error);
    EXPECT_EQ(r.result.http_status, 500);
  }
  EXPECT_EQ(counters.breaker(), BreakerState::open);
  EXPECT_EQ(counters.breaker_opened.load(), 1u);

  // Open: failing at once, without calling the backend.
  for (int i = 0; i < 5; ++i) {
    RecordedResult r = call(client, "main");
    EXPECT_EQ(r.result.outcome, WebhookOutcome::circuit_open);
    EXPECT_EQ(r.result.attempts, 0u);
  }
  EXPECT_EQ(backend.count("/switch/b1"), 3u);
  EXPECT_EQ(counters.calls_with(WebhookOutcome::circuit_open), 5u);

  // After the cool-down one probe goes through; the backend is still down, so it opens again.
  std::this_thread::sleep_for(500ms);
  RecordedResult probe = call(client, "main");
  EXPECT_EQ(probe.result.outcome, WebhookOutcome::http_status_error);
  EXPECT_EQ(backend.count("/switch/b1"), 4u);
  EXPECT_EQ(counters.breaker(), BreakerState::open);
  EXPECT_EQ(counters.breaker_opened.load(), 2u);
  EXPECT_EQ(call(client, "main").result.outcome, WebhookOutcome::circuit_open);

  // The backend recovers; the next probe succeeds and closes the breaker.
  ASSERT_EQ(backend.get("/switch-up/b1"), "up");
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(call(client, "main").result.outcome, WebhookOutcome::ok);
  EXPECT_EQ(counters.breaker(), BreakerState::closed);
  EXPECT_EQ(counters.breaker_closed.load(), 1u);
  EXPECT_EQ(call(client, "main").result.outcome, WebhookOutcome::ok);
  EXPECT_EQ(backend.count("/switch/b1"), 6u);
}

TEST_F(WebhookTest, BreakerCountsTimeoutsAndRefusedConnectionsButNotClientErrors) {
  auto hang = test_endpoint("hang", backend.url("/hang"));
  hang.breaker.failure_threshold = 2;
  hang.timeout_ms = 200;
  auto client_error = test_endpoint("client-error", backend.url("/status/404"));
  client_error.breaker.failure_threshold = 2;
  WebhookClient client({hang, client_error});
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(call(client, "client-error").result.outcome, WebhookOutcome::http_status_error);
  EXPECT_EQ(client.counters(*client.find_endpoint("client-error")).breaker(), BreakerState::closed);
  EXPECT_EQ(call(client, "hang").result.outcome, WebhookOutcome::timeout);
  EXPECT_EQ(call(client, "hang").result.outcome, WebhookOutcome::timeout);
  EXPECT_EQ(client.counters(*client.find_endpoint("hang")).breaker(), BreakerState::open);
  EXPECT_EQ(call(client, "hang").result.outcome, WebhookOutcome::circuit_open);
}

TEST_F(WebhookTest, NoticesAreRetriedWithBackoffUntilTheyArrive) {
  WebhookClient client({test_endpoint("flaky", backend.url("/flaky/n1/2")),
                        test_endpoint("fire-and-forget", backend.url("/flaky/n2/1"))});
  const auto& counters = client.counters(*client.find_endpoint("flaky"));
  RecordedResult r = call(client, "flaky", R"({"type":"disconnect"})", WebhookDelivery::must_arrive);
  EXPECT_EQ(r.result.outcome, WebhookOutcome::ok) << r.result.detail;
  EXPECT_EQ(r.result.attempts, 3u);
  EXPECT_EQ(backend.count("/flaky/n1/2"), 3u);
  EXPECT_EQ(counters.retries.load(), 2u);
  EXPECT_EQ(counters.attempts.load(), 3u);
  EXPECT_EQ(counters.calls_with(WebhookOutcome::ok), 1u);

  // Without a completion the outcome is only counted.
  auto id = *client.find_endpoint("fire-and-forget");
  client.notify({id, R"({"type":"inbox.acked"})", WebhookDelivery::must_arrive});
  EXPECT_TRUE(eventually([&] { return client.counters(id).calls_with(WebhookOutcome::ok) == 1; }));
  EXPECT_EQ(backend.count("/flaky/n2/1"), 2u);
  EXPECT_EQ(client.counters(id).retries.load(), 1u);
}

TEST_F(WebhookTest, NoticesWaitOutAnOpenBreakerWhileOtherCallsFailFast) {
  auto config = test_endpoint("main", backend.url("/flaky/n4/1"));
  config.breaker = {.failure_threshold = 1, .open_ms = 400};
  WebhookClient client({config});
  const auto& counters = client.counters(*client.find_endpoint("main"));
  submit(client, "main", "{}", 1, WebhookDelivery::must_arrive);
  // Its first attempt gets a 503, which opens the breaker; the notice then waits for it.
  ASSERT_TRUE(eventually([&] { return counters.breaker() == BreakerState::open; }));
  RecordedResult fast = call(client, "main");
  EXPECT_EQ(fast.result.outcome, WebhookOutcome::circuit_open);
  ASSERT_TRUE(inbox.wait_for(2));
  RecordedResult notice = inbox.results()[1];
  EXPECT_EQ(notice.tag, 1);
  EXPECT_EQ(notice.result.outcome, WebhookOutcome::ok) << notice.result.detail;
  EXPECT_EQ(notice.result.attempts, 2u);
  EXPECT_GE(notice.result.latency_us / 1000, 400u);  // not before the cool-down ended
  EXPECT_EQ(counters.breaker(), BreakerState::closed);  // the notice was the probe
  EXPECT_EQ(backend.count("/flaky/n4/1"), 2u);
}

TEST_F(WebhookTest, NoticesGiveUpAtMaxAttemptsOrMaxTotalTime) {
  auto attempts = test_endpoint("attempts", backend.url("/status/503"));
  attempts.retry.max_attempts = 4;
  auto total = test_endpoint("total", backend.url("/status/502"));
  total.retry = {.max_attempts = 1000, .base_delay_ms = 50, .max_delay_ms = 100,
                 .max_total_ms = 400};
  WebhookClient client({attempts, total});

  RecordedResult r = call(client, "attempts", "{}", WebhookDelivery::must_arrive);
  EXPECT_EQ(r.result.outcome, WebhookOutcome::http_status_error);
  EXPECT_EQ(r.result.http_status, 503);
  EXPECT_EQ(r.result.attempts, 4u);
  EXPECT_EQ(backend.count("/status/503"), 4u);

  RecordedResult t = call(client, "total", "{}", WebhookDelivery::must_arrive);
  EXPECT_EQ(t.result.outcome, WebhookOutcome::http_status_error);
  EXPECT_GE(t.result.attempts, 2u);
  EXPECT_LT(t.result.attempts, 1000u);
  // No attempt starts after 400 ms; the last one is quick.
  EXPECT_LT(t.result.latency_us / 1000, 400u + 3000u);
}

TEST_F(WebhookTest, ClientErrorsAndCallsThatAreNotNoticesAreNotRetried) {
  WebhookClient client({test_endpoint("bad-request", backend.url("/status/400")),
                        test_endpoint("flaky", backend.url("/flaky/n3/1"))});
  RecordedResult r = call(client, "bad-request", "{}", WebhookDelivery::must_arrive);
  EXPECT_EQ(r.result.http_status, 400);
  EXPECT_EQ(r.result.attempts, 1u);
  RecordedResult rpc = call(client, "flaky", "{}", WebhookDelivery::once);
  EXPECT_EQ(rpc.result.outcome, WebhookOutcome::http_status_error);
  EXPECT_EQ(rpc.result.http_status, 503);
  EXPECT_EQ(rpc.result.attempts, 1u);
  EXPECT_EQ(backend.count("/status/400") + backend.count("/flaky/n3/1"), 2u);
  EXPECT_EQ(client.counters(*client.find_endpoint("flaky")).retries.load(), 0u);
}

TEST_F(WebhookTest, CallsPastTheQueueCapFailAtOnceWithQueueFull) {
  auto config = test_endpoint("main", backend.url("/hang"));
  config.max_concurrent = 1;
  config.max_queued = 3;
  config.timeout_ms = 2'000;
  WebhookClient client({config});
  const auto& counters = client.counters(*client.find_endpoint("main"));
  submit(client, "main", "{}", 0);
  ASSERT_TRUE(eventually([&] { return counters.in_flight.load() == 1; }));
  // Shorter timeouts than the call holding the slot: these expire while still queued.
  for (int i = 1; i <= 5; ++i) submit(client, "main", "{}", i, WebhookDelivery::once, 700);
  // The two over the cap come back long before anything times out.
  ASSERT_TRUE(inbox.wait_for(2, 1'000ms));
  for (const auto& r : inbox.results()) {
    EXPECT_EQ(r.result.outcome, WebhookOutcome::queue_full);
    EXPECT_GE(r.tag, 4);
  }
  EXPECT_EQ(counters.queued.load(), 3u);
  ASSERT_TRUE(inbox.wait_for(6));
  EXPECT_EQ(counters.calls_with(WebhookOutcome::queue_full), 2u);
  EXPECT_EQ(counters.calls_with(WebhookOutcome::timeout), 4u);
  EXPECT_EQ(counters.queued.load(), 0u);
  EXPECT_EQ(backend.count("/hang"), 1u);  // the queued ones timed out waiting for the slot
}

TEST_F(WebhookTest, ShutdownCompletesEveryPendingCall) {
  auto hang = test_endpoint("hang", backend.url("/hang"));
  hang.max_concurrent = 1;
  hang.timeout_ms = 30'000;
  auto retrying = test_endpoint("retrying", backend.url("/status/503"));
  // Its first failure opens the breaker for a minute, so its retry waits at least that long.
  retrying.breaker = {.failure_threshold = 1, .open_ms = 60'000};
  retrying.retry.max_total_ms = 120'000;
  WebhookClient client({hang, retrying});
  const auto& hang_counters = client.counters(*client.find_endpoint("hang"));
  for (int i = 0; i < 4; ++i) submit(client, "hang", "{}", i);  // 1 in flight, 3 queued
  ASSERT_TRUE(eventually([&] { return hang_counters.in_flight.load() == 1; }));
  submit(client, "retrying", "{}", 10, WebhookDelivery::must_arrive);
  ASSERT_TRUE(eventually([&] { return backend.count("/status/503") == 1; }));
  const auto& retry_counters = client.counters(*client.find_endpoint("retrying"));
  ASSERT_TRUE(eventually([&] { return retry_counters.queued.load() == 1; }));

  auto started = std::chrono::steady_clock::now();
  client.shutdown(200);
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_LT(took, 10s);
  ASSERT_TRUE(inbox.wait_for(5, 5s));
  for (const auto& r : inbox.results())
    EXPECT_EQ(r.result.outcome, WebhookOutcome::shutting_down) << r.tag << ": " << r.result.detail;
  EXPECT_EQ(hang_counters.in_flight.load(), 0u);
  EXPECT_EQ(hang_counters.queued.load(), 0u);

  // After shutdown, calls complete at once.
  submit(client, "hang", "{}", 20);
  ASSERT_TRUE(inbox.wait_for(6, 5s));
  EXPECT_EQ(inbox.results()[5].result.outcome, WebhookOutcome::shutting_down);
}

TEST_F(WebhookTest, ShutdownLetsCallsInFlightFinishWithinTheGrace) {
  WebhookClient client({test_endpoint("slow", backend.url("/slow/300"))});
  const auto& counters = client.counters(*client.find_endpoint("slow"));
  submit(client, "slow");
  ASSERT_TRUE(eventually([&] { return counters.in_flight.load() == 1; }));
  client.shutdown(10'000);
  ASSERT_TRUE(inbox.wait_for(1, 5s));
  EXPECT_EQ(inbox.results()[0].result.outcome, WebhookOutcome::ok);
}

}  // namespace
}  // namespace wshub::test
