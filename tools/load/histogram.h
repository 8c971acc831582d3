// A log-linear latency histogram in the style of HdrHistogram: values below 256 are counted
// exactly, larger ones in 128 buckets per power of two, so every reported value is within
// 0.8% of a recorded one. The buckets are allocated once; record() never allocates.
// It knows nothing about time units: callers record nanoseconds and convert when reporting.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace wshub::load {

class LatencyHistogram {
 public:
  static constexpr unsigned kLinearBits = 8;      // values < 256 have a bucket each
  static constexpr unsigned kSubBucketBits = 7;   // 128 buckets per power of two above that
  static constexpr size_t kBucketCount =
      (size_t(1) << kLinearBits) + (64 - kLinearBits) * (size_t(1) << kSubBucketBits);

  LatencyHistogram() : counts_(kBucketCount, 0) {}

  void record(uint64_t value) {
    ++counts_[bucket_index(value)];
    ++total_;
    if (value > max_) max_ = value;
    if (value < min_) min_ = value;
  }
  void merge(const LatencyHistogram& other);
  void reset();

  uint64_t count() const { return total_; }
  uint64_t max() const { return total_ ? max_ : 0; }
  uint64_t min() const { return total_ ? min_ : 0; }

  // The smallest recorded-bucket value v such that at least `percentile`% of the samples are
  // <= v, reported as the bucket's highest value but never above the exact maximum.
  // `percentile` is in [0, 100]; an empty histogram answers 0.
  uint64_t value_at_percentile(double percentile) const;

  static size_t bucket_index(uint64_t value) {
    if (value < (uint64_t(1) << kLinearBits)) return size_t(value);
    const unsigned msb = 63u - unsigned(__builtin_clzll(value));
    const unsigned shift = msb - kSubBucketBits;
    const uint64_t top = value >> shift;  // in [128, 256)
    return (size_t(1) << kLinearBits) + size_t(msb - kLinearBits) * (size_t(1) << kSubBucketBits) +
           size_t(top - (uint64_t(1) << kSubBucketBits));
  }
  static uint64_t bucket_lowest(size_t index);
  static uint64_t bucket_highest(size_t index);

 private:
  std::vector<uint64_t> counts_;
  uint64_t total_ = 0;
  uint64_t max_ = 0;
  uint64_t min_ = UINT64_MAX;
};

}  // namespace wshub::load
