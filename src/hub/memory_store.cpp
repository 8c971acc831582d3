// The store that keeps nothing: a channel first seen by this process starts a new epoch at
// offset 0. Epochs are random, so a client that resumes across a restart is told its position
// is gone instead of being given the wrong publications.
#include <atomic>
#include <random>

#include "hub/broker.h"

namespace wshub::hub {

namespace {

uint64_t mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

class MemoryStore final : public Store {
 public:
  MemoryStore() : seed_(std::random_device{}() | uint64_t(std::random_device{}()) << 32) {}

  bool keeps_history() const override { return false; }

  ChannelPosition load_position(std::string_view) override {
    static constexpr char kHex[] = "0123456789abcdef";
    const uint64_t bits = mix(seed_ + counter_.fetch_add(1, std::memory_order_relaxed));
    ChannelPosition position;
    position.epoch.resize(8);
    for (int i = 0; i < 8; ++i) position.epoch[size_t(i)] = kHex[(bits >> (4 * i)) & 15];
    return position;
  }

  void append(std::unique_ptr<StoreAppend> append) override { append->on_stored("this store keeps no history"); }

  void read_history(std::string_view, uint64_t, uint32_t, uint64_t, std::unique_ptr<HistoryRead> done) override {
    HistoryPage page;
    page.error = "this store keeps no history";
    done->on_history(std::move(page));
  }

 private:
  const uint64_t seed_;
  std::atomic<uint64_t> counter_{0};
};

}  // namespace

std::unique_ptr<Store> make_memory_store() { return std::make_unique<MemoryStore>(); }

}  // namespace wshub::hub
