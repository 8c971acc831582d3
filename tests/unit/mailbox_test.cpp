// The reactor's cross-thread mailbox: every item posted by any thread runs exactly once on the
// owner's thread, and the owner, which only drains when its eventfd is readable, is never left
// asleep with work queued (the lost wake-up a producer caught mid-push can cause).
#include <gtest/gtest.h>
#include <poll.h>

#include <atomic>
#include <thread>
#include <vector>

#include "net/mailbox.h"

namespace {

using wshub::net::MailItem;
using wshub::net::Mailbox;

class CountItem final : public MailItem {
 public:
  CountItem(std::vector<int>& seen, int producer) : seen_(seen), producer_(producer) {}
  void run() override { ++seen_[size_t(producer_)]; }

 private:
  std::vector<int>& seen_;
  int producer_;
};

TEST(Mailbox, EveryItemRunsOnceAndNoWakeUpIsLost) {
  constexpr int kProducers = 4;
  constexpr int kItemsEach = 50000;
  Mailbox mailbox;
  std::vector<int> seen(kProducers, 0);
  std::atomic<int> started{0};
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      ++started;
      while (started.load() < kProducers) {
      }
      for (int i = 0; i < kItemsEach; ++i) mailbox.post(new CountItem(seen, p));
    });
  }
  // The owner drains only when the eventfd says so, exactly as a reactor does. A lost wake-up
  // shows as a poll that times out while items are still owed.
  size_t total = 0;
  while (total < size_t(kProducers) * kItemsEach) {
    pollfd wake{mailbox.wake_fd(), POLLIN, 0};
    ASSERT_EQ(poll(&wake, 1, 5000), 1) << "asleep with " << (kProducers * kItemsEach - total)
                                       << " items owed: a wake-up was lost";
    total += mailbox.drain();
  }
  for (auto& producer : producers) producer.join();
  total += mailbox.drain();
  EXPECT_EQ(total, size_t(kProducers) * kItemsEach);
  for (int p = 0; p < kProducers; ++p) EXPECT_EQ(seen[size_t(p)], kItemsEach) << "producer " << p;
}

TEST(Mailbox, ItemsLeftAtDestructionAreDisposed) {
  struct Counted final : MailItem {
    explicit Counted(int& disposed) : disposed_(disposed) {}
    void run() override {}
    void dispose() override {
      ++disposed_;
      delete this;
    }
    int& disposed_;
  };
  int disposed = 0;
  {
    Mailbox mailbox;
    for (int i = 0; i < 3; ++i) mailbox.post(new Counted(disposed));
  }
  EXPECT_EQ(disposed, 3);
}

}  // namespace
