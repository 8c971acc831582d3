// Timers of no connection: the heap fires in deadline order (arming order for equal ones),
// cancels in place, lets a callback re-arm; and both reactor backends wake for a timer when
// nothing else happens.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/clock.h"
#include "net/reactor.h"
#include "net/timer.h"

namespace {

using wshub::net::Timer;
using wshub::net::TimerHeap;

class Recorder final : public Timer {
 public:
  Recorder(std::vector<int>& fired, int id) : fired_(fired), id_(id) {}
  void on_timer() override { fired_.push_back(id_); }

 private:
  std::vector<int>& fired_;
  int id_;
};

TEST(TimerHeap, FiresDueTimersInDeadlineThenArmingOrder) {
  std::vector<int> fired;
  TimerHeap heap;
  Recorder a(fired, 1), b(fired, 2), c(fired, 3), d(fired, 4), e(fired, 5);
  heap.arm(a, 300);
  heap.arm(b, 100);
  heap.arm(c, 200);
  heap.arm(d, 100);
  heap.arm(e, 900);
  EXPECT_EQ(heap.next_deadline(), 100u);
  heap.fire_due(250);
  EXPECT_EQ(fired, (std::vector<int>{2, 4, 3}));
  EXPECT_FALSE(b.armed());
  EXPECT_TRUE(a.armed());
  EXPECT_EQ(heap.next_deadline(), 300u);
  heap.fire_due(1000);
  EXPECT_EQ(fired, (std::vector<int>{2, 4, 3, 1, 5}));
  EXPECT_EQ(heap.size(), 0u);
  EXPECT_EQ(heap.next_deadline(), UINT64_MAX);
}

TEST(TimerHeap, CancelAndRearmAnywhereInTheHeap) {
  std::vector<int> fired;
  TimerHeap heap;
  std::vector<std::unique_ptr<Recorder>> timers;
  for (int i = 0; i < 64; ++i) {
    timers.push_back(std::make_unique<Recorder>(fired, i));
    heap.arm(*timers.back(), uint64_t(1000 - i * 10));
  }
  for (int i = 0; i < 64; i += 3) heap.cancel(*timers[size_t(i)]);
  heap.arm(*timers[1], 5);  // re-arming moves it
  heap.fire_due(10000);
  std::vector<int> expected{1};
  for (int i = 63; i >= 0; --i)
    if (i % 3 != 0 && i != 1) expected.push_back(i);
  EXPECT_EQ(fired, expected);
}

class Periodic final : public Timer {
 public:
  explicit Periodic(TimerHeap& heap) : heap_(heap) {}
  void on_timer() override {
    ++count;
    if (count < 3) heap_.arm(*this, deadline_ms() + 10);
  }
  int count = 0;

 private:
  TimerHeap& heap_;
};

TEST(TimerHeap, ACallbackMayArmItselfAgain) {
  TimerHeap heap;
  Periodic periodic(heap);
  heap.arm(periodic, 10);
  heap.fire_due(15);
  EXPECT_EQ(periodic.count, 1);
  EXPECT_TRUE(periodic.armed());
  heap.fire_due(100);  // the re-armed deadlines (20, 30) are both past: both fire now
  EXPECT_EQ(periodic.count, 3);
  EXPECT_FALSE(periodic.armed());
}

class NoStreams final : public wshub::net::StreamHandler {
 public:
  wshub::net::Stream* open_stream(int, const wshub::net::PeerAddress&, uint16_t) override { return nullptr; }
  void on_data(wshub::net::Stream&, wshub::MutableBytes) override {}
  void on_hangup(wshub::net::Stream&) override {}
  void on_drained(wshub::net::Stream&) override {}
  void on_timer(wshub::net::Stream&) override {}
  void on_closed(wshub::net::Stream&) override {}
  void on_shutdown() override {}
};

class StopReactor final : public Timer {
 public:
  explicit StopReactor(wshub::net::Reactor& reactor) : reactor_(reactor) {}
  void on_timer() override {
    fired_at_ms = wshub::monotonic_ms();
    reactor_.request_shutdown(0);
  }
  uint64_t fired_at_ms = 0;

 private:
  wshub::net::Reactor& reactor_;
};

class ReactorTimer : public testing::TestWithParam<wshub::net::IoBackend> {};

TEST_P(ReactorTimer, AnIdleReactorWakesForItsTimer) {
  NoStreams handler;
  wshub::net::IoBackend chosen;
  std::string why;
  auto reactor = wshub::net::make_reactor(GetParam(), handler, {}, chosen, why);
  if (chosen != GetParam()) GTEST_SKIP() << "backend not available here: " << why;
  StopReactor stop(*reactor);
  const uint64_t armed_at = wshub::monotonic_ms();
  reactor->arm(stop, reactor->now_ms() + 150);
  reactor->run();  // returns only once the timer has asked for the shutdown
  ASSERT_NE(stop.fired_at_ms, 0u);
  EXPECT_GE(stop.fired_at_ms - armed_at, 140u);  // never early (a tick of slack for the clock)
}

INSTANTIATE_TEST_SUITE_P(Backends, ReactorTimer,
                         testing::Values(wshub::net::IoBackend::epoll, wshub::net::IoBackend::io_uring),
                         [](const auto& info) { return std::string(wshub::net::io_backend_name(info.param)); });

}  // namespace
