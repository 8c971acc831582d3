#include "api/webhook_counters.h"

#include "base/single_writer_counter.h"

namespace wshub::api {

void LatencyHistogram::observe(uint64_t micros) {
  size_t i = 0;
  while (i < kWebhookLatencyBoundsUs.size() && micros > kWebhookLatencyBoundsUs[i]) ++i;
  add_single_writer(buckets_[i]);
  add_single_writer(sum_us_, micros);
  add_single_writer(count_);
}

}  // namespace wshub::api
