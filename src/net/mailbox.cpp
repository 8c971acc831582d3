#include "net/mailbox.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdlib>

namespace wshub::net {

Mailbox::Mailbox() : tail_(&stub_), head_(&stub_) {
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) std::abort();  // start-up only: without it no thread can be woken
}

Mailbox::~Mailbox() {
  while (MailItem* item = pop()) item->dispose();
  if (wake_fd_ >= 0) close(wake_fd_);
}

void Mailbox::post(MailItem* item) {
  item->next_.store(nullptr, std::memory_order_relaxed);
  MailItem* previous = tail_.exchange(item, std::memory_order_acq_rel);
  previous->next_.store(item, std::memory_order_release);
  if (waiting_.fetch_add(1, std::memory_order_acq_rel) == 0) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof one);
  }
}

MailItem* Mailbox::pop() {
  MailItem* head = head_;
  MailItem* next = head->next_.load(std::memory_order_acquire);
  if (head == &stub_) {
    if (!next) return nullptr;
    head_ = next;
    head = next;
    next = next->next_.load(std::memory_order_acquire);
  }
  if (next) {
    head_ = next;
    return head;
  }
  if (head != tail_.load(std::memory_order_acquire)) return nullptr;  // a push is mid-way
  post(&stub_);
  waiting_.fetch_sub(1, std::memory_order_acq_rel);  // the stub is not real work
  next = head->next_.load(std::memory_order_acquire);
  if (next) {
    head_ = next;
    return head;
  }
  return nullptr;
}

size_t Mailbox::drain() {
  uint64_t counter;
  [[maybe_unused]] ssize_t n = read(wake_fd_, &counter, sizeof counter);
  size_t ran = 0;
  while (MailItem* item = pop()) {
    item->run();
    item->dispose();
    ++ran;
  }
  // Anything still counted was posted meanwhile, or is mid-push: a producer has swapped the
  // tail but not yet linked its item, and then `pop` cannot return even the items before it.
  // Such posts saw a non-zero count and did not write the eventfd, so re-arm it here, whether
  // or not anything ran; otherwise their work would wait for an unrelated wake-up.
  if (waiting_.fetch_sub(ran, std::memory_order_acq_rel) != ran) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t w = write(wake_fd_, &one, sizeof one);
  }
  return ran;
}

}  // namespace wshub::net
