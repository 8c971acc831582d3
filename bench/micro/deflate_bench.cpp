// permessage-deflate costs on the hub's own traffic: compressing and inflating a realistic
// device report (about 1 KiB of JSON with GPS, battery, sensor arrays and Chinese place names)
// at each zlib level, memLevel and window, with and without context takeover, the compression
// ratio as a counter; and one publish to 10,000 compressed subscribers, compressed once and
// shared (FrameVariants) against compressed per connection.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "proto/deflate_negotiation.h"
#include "proto/deflate_stream.h"
#include "proto/frame_variants.h"

using namespace wshub;
using namespace wshub::proto;

namespace {

// One report from device `i` at step `t`: what an Android field device sends every few
// seconds. Values drift from report to report the way real readings do.
std::string device_report(int i, int t) {
  static const char* kPlaces[] = {"上海市浦东新区张江高科技园区", "北京市海淀区中关村大街",
                                  "深圳市南山区科技园", "成都市武侯区天府大道",
                                  "杭州市西湖区文三路"};
  static const char* kStates[] = {"online", "charging", "moving", "idle"};
  char buf[2048];
  std::string temps, accel;
  for (int k = 0; k < 34; ++k) {
    char v[32];
    std::snprintf(v, sizeof v, "%s%.2f", k ? "," : "", 21.5 + ((i * 7 + t * 3 + k * 5) % 40) / 10.0);
    temps += v;
    std::snprintf(v, sizeof v, "%s%.3f", k ? "," : "", ((i * 13 + t * 17 + k * 29) % 2000) / 1000.0 - 1.0);
    accel += v;
  }
  std::snprintf(
      buf, sizeof buf,
      "{\"type\":\"report\",\"device_id\":\"AND-%08d\",\"model\":\"HW-P40-Field\",\"firmware\":\"4.2.%d\","
      "\"seq\":%d,\"ts\":%lld,\"received_at\":\"2026-11-25T14:%02d:%02d.%03dZ\","
      "\"gps\":{\"lat\":%.6f,\"lon\":%.6f,\"alt\":%.1f,\"accuracy\":%.1f,\"speed\":%.2f,\"heading\":%d},"
      "\"battery\":{\"level\":%d,\"voltage\":%.3f,\"charging\":%s,\"temperature\":%.1f},"
      "\"network\":{\"type\":\"4G\",\"operator\":\"中国移动\",\"rssi\":%d},"
      "\"location\":{\"province\":\"%s\",\"place\":\"%s\"},\"state\":\"%s\","
      "\"sensors\":{\"temperature\":[%s],\"accelerometer\":[%s],\"humidity\":%d,\"pressure\":%.1f},"
      "\"alerts\":[%s]}",
      10000000 + i, i % 10, t, 1764081600000LL + t * 5000LL + i, (t / 60) % 60, t % 60, (i * 37) % 1000,
      31.2304 + (i % 100) * 0.001 + t * 0.00001, 121.4737 + (i % 50) * 0.001 - t * 0.00002,
      12.0 + t % 7, 3.5 + (i % 5), (t % 30) * 0.5, (i * 11 + t) % 360, 100 - (t + i) % 80,
      3.7 + ((t + i) % 50) / 100.0, (t % 3) ? "false" : "true", 28.0 + (i % 9),
      -60 - (i + t) % 40, (i % 2) ? "上海市" : "广东省", kPlaces[(i + t / 10) % 5],
      kStates[(i + t) % 4], temps.c_str(), accel.c_str(), 40 + (i + t) % 30,
      1013.0 + ((i + t) % 20) / 10.0,
      (t % 5 == 0) ? "{\"code\":\"LOW_SIGNAL\",\"message\":\"信号弱，请检查天线\"}" : "");
  return buf;
}

const std::string& report() {
  static const std::string r = device_report(42, 7);
  return r;
}

// 64 successive reports from one device: what one connection sends or receives in turn.
const std::vector<std::string>& report_stream() {
  static const std::vector<std::string> reports = [] {
    std::vector<std::string> r;
    for (int t = 0; t < 64; ++t) r.push_back(device_report(42, t));
    return r;
  }();
  return reports;
}

// Compresses one report per iteration from an empty window (server_no_context_takeover), as the
// shared per-thread deflater does, cycling through 64 different reports (one report repeated
// would train the branch predictor and read twice as fast). Args: level, memLevel.
void BM_DeflateReport(benchmark::State& state) {
  Deflater deflater(DeflateSettings{uint8_t(state.range(0)), 15, uint8_t(state.range(1))}, false);
  DeflateBuffer out;
  const std::vector<std::string>& reports = report_stream();
  size_t in = 0, produced = 0, n = 0;
  for (auto _ : state) {
    const std::string& m = reports[n++ % reports.size()];
    deflater.compress(as_bytes(m), out);
    in += m.size();
    produced += out.size();
  }
  state.SetBytesProcessed(int64_t(in));
  state.SetItemsProcessed(int64_t(state.iterations()));
  state.counters["bytes_in"] = double(in) / double(state.iterations());
  state.counters["bytes_out"] = double(produced) / double(state.iterations());
  state.counters["ratio"] = double(in) / double(produced);
}
BENCHMARK(BM_DeflateReport)
    ->ArgNames({"level", "mem"})
    ->Args({1, 8})->Args({6, 8})->Args({9, 8})->Args({1, 5})->Args({6, 5})->Args({6, 4})->Args({6, 1});

// A stream of successive reports from one device through one deflater that keeps its window
// (context takeover). Args: window bits, memLevel. `ratio` is over the whole stream.
void BM_DeflateReportStreamTakeover(benchmark::State& state) {
  const std::vector<std::string>& reports = report_stream();
  Deflater deflater(DeflateSettings{6, uint8_t(state.range(0)), uint8_t(state.range(1))}, true);
  DeflateBuffer out;
  size_t in = 0, produced = 0, n = 0;
  for (auto _ : state) {
    const std::string& m = reports[n++ % reports.size()];
    deflater.compress(as_bytes(m), out);
    in += m.size();
    produced += out.size();
  }
  state.SetBytesProcessed(int64_t(in));
  state.SetItemsProcessed(int64_t(state.iterations()));
  state.counters["ratio"] = double(in) / double(produced);
  state.counters["zlib_bytes"] = double(deflater.memory_bytes());
}
BENCHMARK(BM_DeflateReportStreamTakeover)
    ->ArgNames({"window", "mem"})
    ->Args({15, 8})->Args({15, 5})->Args({13, 6})->Args({12, 5})->Args({11, 4})->Args({10, 4})
    ->Args({9, 1});

// A large message: a JSON array of 100 reports from many devices (about 100 KiB), compressed
// from an empty window. Args: window bits, memLevel: what the window costs without takeover.
void BM_DeflateBatch(benchmark::State& state) {
  std::string batch = "[";
  for (int i = 0; i < 100; ++i) batch += (i ? "," : "") + device_report(i, i / 3);
  batch += "]";
  Deflater deflater(DeflateSettings{6, uint8_t(state.range(0)), uint8_t(state.range(1))}, false);
  DeflateBuffer out;
  for (auto _ : state) {
    deflater.compress(as_bytes(batch), out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations() * batch.size()));
  state.counters["bytes_in"] = double(batch.size());
  state.counters["ratio"] = double(batch.size()) / double(out.size());
}
BENCHMARK(BM_DeflateBatch)
    ->ArgNames({"window", "mem"})
    ->Args({15, 8})->Args({15, 5})->Args({13, 6})->Args({12, 5})->Args({11, 4})->Args({10, 4});

// Inflating compressed reports (no context takeover) with the shared, reset-per-message inflater.
void BM_InflateReport(benchmark::State& state) {
  Deflater deflater(DeflateSettings{6, 15, 8}, false);
  std::vector<std::string> compressed;
  for (const std::string& r : report_stream()) {
    DeflateBuffer c;
    deflater.compress(as_bytes(r), c);
    compressed.emplace_back(as_text(c.bytes()));
  }
  Inflater inflater(15, false);
  DeflateBuffer out;
  size_t produced = 0, n = 0;
  for (auto _ : state) {
    out.clear();
    inflater.feed(as_bytes(compressed[n++ % compressed.size()]), out, 1 << 20);
    inflater.finish(out, 1 << 20);
    produced += out.size();
  }
  state.SetBytesProcessed(int64_t(produced));
  state.SetItemsProcessed(int64_t(state.iterations()));
}
BENCHMARK(BM_InflateReport);

// Inflating the same stream compressed with context takeover, through one inflater that keeps
// its window (a client that did not agree to client_no_context_takeover).
void BM_InflateReportStreamTakeover(benchmark::State& state) {
  Deflater deflater(DeflateSettings{6, 15, 8}, true);
  std::vector<std::string> compressed;
  for (int round = 0; round < 16; ++round)
    for (const std::string& r : report_stream()) {
      DeflateBuffer c;
      deflater.compress(as_bytes(r), c);
      compressed.emplace_back(as_text(c.bytes()));
    }
  size_t produced = 0;
  for (auto _ : state) {
    state.PauseTiming();
    Inflater inflater(15, true);
    DeflateBuffer out;
    state.ResumeTiming();
    for (const std::string& c : compressed) {
      out.clear();
      inflater.feed(as_bytes(c), out, 1 << 20);
      inflater.finish(out, 1 << 20);
      produced += out.size();
    }
  }
  state.SetBytesProcessed(int64_t(produced));
  state.SetItemsProcessed(int64_t(state.iterations() * compressed.size()));
}
BENCHMARK(BM_InflateReportStreamTakeover);

// What the server does for every offer it reads: negotiate a Chrome-style offer.
void BM_NegotiateOffer(benchmark::State& state) {
  DeflatePolicy policy;
  policy.enabled = true;
  const std::string_view offers[] = {"permessage-deflate; client_max_window_bits"};
  for (auto _ : state) benchmark::DoNotOptimize(negotiate_deflate(offers, policy));
  state.SetItemsProcessed(int64_t(state.iterations()));
}
BENCHMARK(BM_NegotiateOffer);

// --- one publish to many compressed subscribers -------------------------------------------
// What differs between the strategies is the compression work and what each subscriber's queue
// receives; the socket writes are the same bytes-per-subscriber either way and are left out.
// A subscriber's queue is modelled as one slot: a reference to a shared frame, or a private
// copy of bytes compressed for it alone.
constexpr int kSubscribers = 10000;

struct SubscriberQueue {
  SharedBuffer shared;         // compress-once: a reference, no copy
  std::vector<uint8_t> bytes;  // per connection: the frame the reactor would have copied
};

void BM_PublishCompressOnce(benchmark::State& state) {
  std::vector<SubscriberQueue> queues(kSubscribers);
  SharedDeflaters deflaters(6, 8);
  size_t wire = 0, n = 0;
  for (auto _ : state) {
    const std::string& message = report_stream()[n++ % report_stream().size()];
    std::shared_ptr<FrameVariants> frame = FrameVariants::make(Opcode::text, as_bytes(message));
    for (SubscriberQueue& q : queues) {
      const SharedBuffer* compressed = frame->compressed(15, deflaters);
      q.shared = compressed ? *compressed : frame->plain();
    }
    wire = queues[0].shared.size();
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * kSubscribers);
  state.counters["frame_bytes"] = double(wire);
  state.counters["ns_per_delivery"] =
      benchmark::Counter(double(state.iterations()) * kSubscribers,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_PublishCompressOnce)->Unit(benchmark::kMicrosecond);

// Every subscriber without context takeover, but each compressed separately (what a server
// without a shared frame does): one deflate per subscriber with the thread's shared deflater.
void BM_PublishCompressPerConnection(benchmark::State& state) {
  std::vector<SubscriberQueue> queues(kSubscribers);
  SharedDeflaters deflaters(6, 8);
  size_t n = 0;
  for (auto _ : state) {
    const std::string& message = report_stream()[n++ % report_stream().size()];
    for (SubscriberQueue& q : queues) {
      Bytes out;
      deflaters.compress(as_bytes(message), 15, out);
      q.bytes.assign(out.begin(), out.end());
    }
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * kSubscribers);
  state.counters["ns_per_delivery"] =
      benchmark::Counter(double(state.iterations()) * kSubscribers,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_PublishCompressPerConnection)->Unit(benchmark::kMillisecond);

// Every subscriber with context takeover: each has its own deflater and window (here the
// compact window 11 / memLevel 4; docs/compression.md has the memory per setting), and every
// publish runs through every one of them. Args: window bits, memLevel.
void BM_PublishCompressTakeover(benchmark::State& state) {
  std::vector<SubscriberQueue> queues(kSubscribers);
  std::vector<std::unique_ptr<Deflater>> deflaters;
  const DeflateSettings settings{6, uint8_t(state.range(0)), uint8_t(state.range(1))};
  for (int i = 0; i < kSubscribers; ++i)
    deflaters.push_back(std::make_unique<Deflater>(settings, true));
  DeflateBuffer out;
  int t = 0;
  size_t zlib_bytes = 0;
  for (auto _ : state) {
    const std::string& message = report_stream()[size_t(t++) % report_stream().size()];
    for (int i = 0; i < kSubscribers; ++i) {
      deflaters[size_t(i)]->compress(as_bytes(message), out);
      queues[size_t(i)].bytes.assign(out.data(), out.data() + out.size());
    }
  }
  for (const auto& d : deflaters) zlib_bytes += d->memory_bytes();
  state.SetItemsProcessed(int64_t(state.iterations()) * kSubscribers);
  state.counters["zlib_MiB"] = double(zlib_bytes) / (1 << 20);
  state.counters["ns_per_delivery"] =
      benchmark::Counter(double(state.iterations()) * kSubscribers,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_PublishCompressTakeover)
    ->ArgNames({"window", "mem"})
    ->Args({11, 4})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(20);

// The uncompressed publish for reference: framing once and sharing the frame.
void BM_PublishPlain(benchmark::State& state) {
  std::vector<SubscriberQueue> queues(kSubscribers);
  for (auto _ : state) {
    std::shared_ptr<FrameVariants> frame = FrameVariants::make(Opcode::text, as_bytes(report()));
    for (SubscriberQueue& q : queues) q.shared = frame->plain();
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * kSubscribers);
  state.counters["frame_bytes"] = double(report().size());
  state.counters["ns_per_delivery"] =
      benchmark::Counter(double(state.iterations()) * kSubscribers,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_PublishPlain)->Unit(benchmark::kMicrosecond);

}  // namespace
