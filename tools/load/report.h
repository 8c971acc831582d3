// The result of a run as plain values, and its two renderings: one JSON object on stdout
// (--json; field names are a contract with scripts) or a few human lines. Fields a mode does
// not measure stay empty and are left out.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "histogram.h"

namespace wshub::load {

struct LatencySummaryUs {
  double p50 = 0;
  double p99 = 0;
  double p999 = 0;
  double max = 0;
  // From a histogram of nanoseconds.
  static LatencySummaryUs from_ns(const LatencyHistogram& histogram);
};

struct Report {
  std::string mode;
  std::string url;
  uint64_t connections = 0;                  // asked for (subscribers in fanout)
  std::optional<uint64_t> connections_open;  // actually opened
  std::optional<uint64_t> size;
  std::optional<bool> binary;
  std::optional<uint64_t> depth;
  uint32_t threads = 1;
  double duration_s = 0;    // the measured window as it really was
  uint64_t messages = 0;    // the mode's unit of work in that window (see README)
  double msgs_per_sec = 0;
  std::optional<LatencySummaryUs> latency_us;
  uint64_t errors = 0;
  std::string first_error;  // the text of the first error, when errors > 0

  std::optional<double> server_cpu_us_per_msg;
  std::optional<double> client_cpu_us_per_msg;
  std::string server_stats_error;  // why server figures are missing despite --server-pid
  std::optional<uint64_t> server_rss_kib_before;
  std::optional<uint64_t> server_rss_kib_after;
  std::optional<double> rss_per_conn_kib;  // all resident memory, code pages included
  std::optional<uint64_t> server_anon_kib_before;
  std::optional<uint64_t> server_anon_kib_after;
  std::optional<double> anon_per_conn_kib;  // anonymous memory only: the per-connection cost
  std::optional<uint64_t> server_pss_kib_before;
  std::optional<uint64_t> server_pss_kib_after;
  std::optional<double> pss_per_conn_kib;  // proportional set size: shared library pages in part
  std::optional<uint64_t> server_private_kib_before;
  std::optional<uint64_t> server_private_kib_after;
  std::optional<double> private_per_conn_kib;  // pages only the server maps
  std::optional<double> open_time_ms;  // idle: first connect to last 101

  std::optional<double> handshakes_per_sec;

  std::optional<uint64_t> subscribers;
  std::optional<uint64_t> deliveries;
  std::optional<double> deliveries_per_sec;
  std::optional<LatencySummaryUs> last_delivery_us;  // p50, p99, max
  std::optional<LatencySummaryUs> delivery_us;       // every delivery, p50, p99, max
  std::optional<uint64_t> lost;
  std::optional<uint64_t> duplicates;

  std::string fatal;       // set when the run could not be carried out
  bool abandoned = false;  // load threads are still running (hard deadline): exit at once
};

std::string report_json(const Report& report);
std::string report_text(const Report& report);

}  // namespace wshub::load
