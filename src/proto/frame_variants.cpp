#include "proto/frame_variants.h"

#include <algorithm>
#include <cstring>

namespace wshub::proto {

namespace {

// Marks a slot whose compressed frame would not be smaller than the plain one.
SharedBuffer* const kNoGain = reinterpret_cast<SharedBuffer*>(uintptr_t(1));

}  // namespace

bool SharedDeflaters::compress(Bytes message, uint8_t window_bits, Bytes& out) {
  window_bits = std::clamp<uint8_t>(window_bits, 9, 15);
  std::unique_ptr<Deflater>& deflater = by_bits_[window_bits - 9];
  if (!deflater) {
    deflater = std::make_unique<Deflater>(DeflateSettings{level_, window_bits, mem_level_},
                                          /*context_takeover=*/false);
  }
  if (!deflater->compress(message, out_)) {
    out = {};
    return false;
  }
  out = out_.bytes();
  return true;
}

size_t SharedDeflaters::memory_bytes() const {
  size_t total = out_.capacity();
  for (const auto& d : by_bits_)
    if (d) total += d->memory_bytes();
  return total;
}

std::shared_ptr<FrameVariants> FrameVariants::make(Opcode opcode, Bytes payload) {
  SharedBuffer plain = encode_shared_frame(opcode, payload);
  if (!plain) return nullptr;
  return std::make_shared<FrameVariants>(opcode, std::move(plain),
                                         frame_header_size(payload.size(), /*masked=*/false));
}

FrameVariants::FrameVariants(Opcode opcode, SharedBuffer plain, size_t header_size)
    : opcode_(opcode), plain_(std::move(plain)), header_size_(header_size) {}

FrameVariants::~FrameVariants() {
  for (auto& slot : slots_) {
    SharedBuffer* frame = slot.load(std::memory_order_acquire);
    if (frame && frame != kNoGain) delete frame;
  }
}

const SharedBuffer* FrameVariants::compressed(uint8_t window_bits,
                                              SharedDeflaters& deflaters) const {
  window_bits = std::clamp<uint8_t>(window_bits, 9, 15);
  const Bytes message = payload();
  // Without context takeover no distance in a message reaches before its first byte, so a
  // message no longer than the receiver's window decodes with it whatever window made it.
  const bool fits = message.size() <= (size_t(1) << window_bits);
  for (int bits = 15; bits >= 9; --bits) {
    SharedBuffer* frame = slots_[bits - 9].load(std::memory_order_acquire);
    if (frame && (bits <= window_bits || fits)) return frame == kNoGain ? nullptr : frame;
  }
  // Made with the largest window the receiver can take, so the most receivers can share it.
  const uint8_t bits = fits ? 15 : window_bits;
  SharedBuffer* made = kNoGain;
  Bytes deflated;
  if (deflaters.compress(message, bits, deflated)) {
    SharedBuffer frame = encode_shared_frame(opcode_, deflated, kRsv1);
    if (frame && frame.size() < plain_.size()) made = new SharedBuffer(std::move(frame));
  }
  SharedBuffer* expected = nullptr;
  if (!slots_[bits - 9].compare_exchange_strong(expected, made, std::memory_order_acq_rel)) {
    if (made != kNoGain) delete made;
    made = expected;  // another thread got there first: use its frame
  }
  return made == kNoGain ? nullptr : made;
}

}  // namespace wshub::proto
