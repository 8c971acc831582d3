#include "store_test_support.h"

#include <chrono>
#include <filesystem>
#include <future>

#include "base/clock.h"

namespace wshub::store::testing {

TempDir::TempDir() {
  char pattern[] = "/tmp/wshub-store-XXXXXX";
  path_ = ::mkdtemp(pattern);
}

TempDir::~TempDir() { std::filesystem::remove_all(path_); }

void AppendTally::record(std::string_view error) {
  std::lock_guard lock(mutex_);
  ++reported_;
  if (!error.empty()) errors_.emplace_back(error);
  changed_.notify_all();
}

bool AppendTally::wait_for(size_t count) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, std::chrono::seconds(10), [&] { return reported_ >= count; });
}

namespace {

class TestAppend final : public hub::StoreAppend {
 public:
  TestAppend(AppendTally& tally, std::string channel, std::string epoch, std::string data)
      : tally_(tally), channel_text_(std::move(channel)), epoch_text_(std::move(epoch)), data_text_(std::move(data)) {
    this->channel = channel_text_;
    this->epoch = epoch_text_;
    this->data = data_text_;
  }
  void on_stored(std::string_view error) override {
    tally_.note_order(offset);
    tally_.record(error);
  }

 private:
  AppendTally& tally_;
  std::string channel_text_, epoch_text_, data_text_;
};

class WaitedRead final : public hub::HistoryRead {
 public:
  explicit WaitedRead(std::promise<hub::HistoryPage>& promise) : promise_(promise) {}
  void on_history(hub::HistoryPage page) override { promise_.set_value(std::move(page)); }

 private:
  std::promise<hub::HistoryPage>& promise_;
};

}  // namespace

std::unique_ptr<hub::StoreAppend> make_append(AppendTally& tally, std::string channel, std::string epoch,
                                              uint64_t offset, std::string data, hub::HistoryRetention retention,
                                              int64_t ts_ms) {
  auto item = std::make_unique<TestAppend>(tally, std::move(channel), std::move(epoch), std::move(data));
  item->offset = offset;
  item->ts_ms = ts_ms ? ts_ms : wall_ms();
  item->retention = retention;
  return item;
}

hub::HistoryPage read_history(hub::Store& store, std::string_view channel, uint64_t after, uint32_t limit,
                              uint64_t max_bytes) {
  std::promise<hub::HistoryPage> promise;
  auto future = promise.get_future();
  store.read_history(channel, after, limit, max_bytes, std::make_unique<WaitedRead>(promise));
  return future.get();
}

std::unique_ptr<hub::Store> open_or_fail(const std::string& path, bool sync) {
  SqliteStoreOptions options;
  options.path = path;
  options.sync = sync;
  options.lock_wait_ms = 200;
  std::string why;
  auto store = open_sqlite_store(options, why);
  EXPECT_TRUE(store) << why;
  return store;
}

}  // namespace wshub::store::testing
