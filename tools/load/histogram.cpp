#include "histogram.h"

#include <algorithm>
#include <cmath>

namespace wshub::load {

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < kBucketCount; ++i) counts_[i] += other.counts_[i];
  total_ += other.total_;
  max_ = std::max(max_, other.max_);
  min_ = std::min(min_, other.min_);
}

void LatencyHistogram::reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  total_ = 0;
  max_ = 0;
  min_ = UINT64_MAX;
}

uint64_t LatencyHistogram::bucket_lowest(size_t index) {
  constexpr size_t linear = size_t(1) << kLinearBits;
  constexpr size_t per_octave = size_t(1) << kSubBucketBits;
  if (index < linear) return index;
  const size_t offset = index - linear;
  const unsigned msb = kLinearBits + unsigned(offset / per_octave);
  const uint64_t top = per_octave + offset % per_octave;
  return top << (msb - kSubBucketBits);
}

uint64_t LatencyHistogram::bucket_highest(size_t index) {
  if (index + 1 >= kBucketCount) return UINT64_MAX;
  return bucket_lowest(index + 1) - 1;
}

uint64_t LatencyHistogram::value_at_percentile(double percentile) const {
  if (total_ == 0) return 0;
  percentile = std::clamp(percentile, 0.0, 100.0);
  // Rank of the sample that answers, 1-based: ceil(p * n), at least the first sample. The
  // epsilon keeps 99.9% of 1000 at rank 999 despite 0.999 not being exact in binary.
  uint64_t rank = uint64_t(std::ceil(percentile / 100.0 * double(total_) - 1e-9));
  rank = std::clamp<uint64_t>(rank, 1, total_);
  uint64_t seen = 0;
  for (size_t i = 0; i < kBucketCount; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(bucket_highest(i), max_);
  }
  return max_;
}

}  // namespace wshub::load
