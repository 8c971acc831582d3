#include "server/rejected_handshakes.h"

#include <algorithm>

namespace wshub::server {

namespace {

template <size_t N>
void copy_printable(char (&field)[N], std::string_view text) {
  const size_t size = std::min(text.size(), N - 1);
  for (size_t i = 0; i < size; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    field[i] = c >= 0x20 && c < 0x7f ? char(c) : '?';
  }
  field[size] = '\0';
}

}  // namespace

void RejectedHandshakes::record(int64_t time_ms, uint16_t status, std::string_view peer,
                                std::string_view reason, std::string_view request,
                                std::string_view sentence) {
  std::lock_guard lock(mutex_);
  RejectedHandshake& entry = ring_[recorded_ % kCapacity];
  entry.time_ms = time_ms;
  entry.status = status;
  copy_printable(entry.peer, peer);
  copy_printable(entry.reason, reason);
  copy_printable(entry.request, request);
  copy_printable(entry.sentence, sentence);
  ++recorded_;
}

std::vector<RejectedHandshake> RejectedHandshakes::newest_first() const {
  std::vector<RejectedHandshake> out;
  std::lock_guard lock(mutex_);
  const size_t held = recorded_ < kCapacity ? size_t(recorded_) : kCapacity;
  out.reserve(held);
  for (size_t i = 1; i <= held; ++i) out.push_back(ring_[(recorded_ - i) % kCapacity]);
  return out;
}

uint64_t RejectedHandshakes::total() const {
  std::lock_guard lock(mutex_);
  return recorded_;
}

}  // namespace wshub::server
