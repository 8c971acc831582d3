// What the store tests share: a fresh directory per test, appends that report to a tally, and
// history reads waited for.
#pragma once

#include <gtest/gtest.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/sqlite_store.h"

namespace wshub::store::testing {

// A directory of its own, removed with everything in it at the end.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Counts appends reported, and keeps the errors in the order they came.
class AppendTally {
 public:
  void record(std::string_view error);
  // Waits until `count` appends have been reported (false after 10 s).
  bool wait_for(size_t count);
  std::vector<std::string> errors() {
    std::lock_guard lock(mutex_);
    return errors_;
  }
  std::vector<uint64_t> order() {
    std::lock_guard lock(mutex_);
    return order_;
  }
  void note_order(uint64_t offset) {
    std::lock_guard lock(mutex_);
    order_.push_back(offset);
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  size_t reported_ = 0;
  std::vector<std::string> errors_;
  std::vector<uint64_t> order_;
};

std::unique_ptr<hub::StoreAppend> make_append(AppendTally& tally, std::string channel, std::string epoch,
                                              uint64_t offset, std::string data, hub::HistoryRetention retention,
                                              int64_t ts_ms = 0);

// Reads history and waits for the page.
hub::HistoryPage read_history(hub::Store& store, std::string_view channel, uint64_t after, uint32_t limit = 1000,
                              uint64_t max_bytes = 1u << 30);

// Opens a store at `path` or fails the test.
std::unique_ptr<hub::Store> open_or_fail(const std::string& path, bool sync = true);

inline hub::HistoryRetention keep_count(uint32_t count) { return {count, 0, 0}; }

}  // namespace wshub::store::testing
