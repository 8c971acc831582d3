// Cross-thread work for one reactor: any thread posts, the reactor's thread runs it.
// Lock-free (an intrusive multi-producer, single-consumer queue) and woken through an eventfd,
// written only when the queue goes from empty to non-empty.
#pragma once

#include <atomic>
#include <cstdint>

namespace wshub::net {

// One piece of work. The poster allocates it; the reactor runs `run()` once and then calls
// `dispose()` (which by default deletes it).
class MailItem {
 public:
  virtual ~MailItem() = default;
  virtual void run() = 0;
  virtual void dispose() { delete this; }

 private:
  friend class Mailbox;
  std::atomic<MailItem*> next_{nullptr};
};

class Mailbox {
 public:
  Mailbox();
  ~Mailbox();
  Mailbox(const Mailbox&) = delete;
  Mailbox& operator=(const Mailbox&) = delete;

  // Any thread. Takes ownership of `item`.
  void post(MailItem* item);
  // The owning thread: runs everything posted so far; returns how many items ran.
  size_t drain();
  // The owning thread, inside drain: whether another item is already linked behind the one
  // running (it runs in this same drain).
  bool more_linked() const {
    const MailItem* next = head_;
    if (next == &stub_) next = stub_.next_.load(std::memory_order_acquire);
    return next != nullptr;
  }
  // The eventfd the reactor watches; readable when work is waiting.
  int wake_fd() const { return wake_fd_; }

 private:
  class Stub final : public MailItem {
    void run() override {}
    void dispose() override {}
  };
  MailItem* pop();

  Stub stub_;
  std::atomic<MailItem*> tail_;  // producers push here
  MailItem* head_;               // the consumer pops here
  std::atomic<uint64_t> waiting_{0};
  int wake_fd_ = -1;
};

}  // namespace wshub::net
