#include "histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace wshub::load {
namespace {

TEST(LatencyHistogram, EmptyAnswersZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.value_at_percentile(50), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.min(), 0u);
}

TEST(LatencyHistogram, SmallValuesAreExact) {
  LatencyHistogram h;
  for (uint64_t v = 1; v <= 100; ++v) h.record(v);
  EXPECT_EQ(h.value_at_percentile(50), 50u);
  EXPECT_EQ(h.value_at_percentile(99), 99u);
  EXPECT_EQ(h.value_at_percentile(99.9), 100u);
  EXPECT_EQ(h.value_at_percentile(100), 100u);
  EXPECT_EQ(h.value_at_percentile(0), 1u);
  EXPECT_EQ(h.min(), 1u);
  EXPECT_EQ(h.max(), 100u);
}

TEST(LatencyHistogram, PercentileRanksAreCeiling) {
  // 1000 samples below 256 (exact buckets): p99.9 is the 999th smallest, not the 1000th,
  // even though 99.9 / 100 * 1000 is a hair above 999 in binary.
  LatencyHistogram exact;
  for (uint64_t v = 1; v <= 1000; ++v) exact.record(v % 250 + 1);
  std::vector<uint64_t> sorted;
  for (uint64_t v = 1; v <= 1000; ++v) sorted.push_back(v % 250 + 1);
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(exact.value_at_percentile(99.9), sorted[998]);
  EXPECT_EQ(exact.value_at_percentile(50), sorted[499]);
  EXPECT_EQ(exact.value_at_percentile(99), sorted[989]);
}

TEST(LatencyHistogram, BucketsTileTheRangeWithoutGaps) {
  for (size_t i = 0; i + 1 < LatencyHistogram::kBucketCount; ++i) {
    ASSERT_EQ(LatencyHistogram::bucket_highest(i) + 1, LatencyHistogram::bucket_lowest(i + 1)) << i;
    ASSERT_EQ(LatencyHistogram::bucket_index(LatencyHistogram::bucket_lowest(i)), i);
    ASSERT_EQ(LatencyHistogram::bucket_index(LatencyHistogram::bucket_highest(i)), i);
  }
  EXPECT_EQ(LatencyHistogram::bucket_index(UINT64_MAX), LatencyHistogram::kBucketCount - 1);
}

TEST(LatencyHistogram, LargeValuesWithinRelativeError) {
  // 0.8% = 1/128: every value lands in a bucket no wider than that.
  for (uint64_t v : {300ull, 1'000ull, 12'345ull, 999'999ull, 50'000'000ull, 7'000'000'000'000ull}) {
    LatencyHistogram h;
    h.record(v);
    h.record(v * 2);  // a larger max, so the answer is the bucket's top, not the clamp
    const uint64_t reported = h.value_at_percentile(50);
    EXPECT_GE(reported, v);
    EXPECT_LE(double(reported - v), double(v) / 128.0) << v;
  }
}

TEST(LatencyHistogram, NeverReportsAboveTheMaximum) {
  LatencyHistogram h;
  h.record(1'000'001);
  EXPECT_EQ(h.value_at_percentile(50), 1'000'001u);
  EXPECT_EQ(h.value_at_percentile(100), 1'000'001u);
}

TEST(LatencyHistogram, PercentilesOfAUniformSpread) {
  LatencyHistogram h;
  for (uint64_t v = 1; v <= 100'000; ++v) h.record(v * 1000);  // 1 us .. 100 ms in ns
  const auto near = [](uint64_t got, double want) { return std::abs(double(got) - want) <= want / 128.0; };
  EXPECT_TRUE(near(h.value_at_percentile(50), 50'000'000.0)) << h.value_at_percentile(50);
  EXPECT_TRUE(near(h.value_at_percentile(99), 99'000'000.0)) << h.value_at_percentile(99);
  EXPECT_TRUE(near(h.value_at_percentile(99.9), 99'900'000.0)) << h.value_at_percentile(99.9);
  EXPECT_EQ(h.max(), 100'000'000u);
}

TEST(LatencyHistogram, MergeAddsCountsAndKeepsExtremes) {
  LatencyHistogram a, b;
  for (uint64_t v = 1; v <= 50; ++v) a.record(v);
  for (uint64_t v = 51; v <= 100; ++v) b.record(v);
  a.merge(b);
  EXPECT_EQ(a.count(), 100u);
  EXPECT_EQ(a.value_at_percentile(50), 50u);
  EXPECT_EQ(a.min(), 1u);
  EXPECT_EQ(a.max(), 100u);
  a.reset();
  EXPECT_EQ(a.count(), 0u);
  EXPECT_EQ(a.value_at_percentile(99), 0u);
}

}  // namespace
}  // namespace wshub::load
