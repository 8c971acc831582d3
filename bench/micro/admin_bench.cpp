// The admin page's costs: recording one rejected handshake in the server's ring (paid on every
// rejection, on the worker that refuses it), and rendering the state JSON that is published to
// $admin:stats once a second while a page watches (paid on one worker), with a full ring of 50
// rejections and N channels with subscribers.
#include <benchmark/benchmark.h>

#include <string>

#include "api/admin_state.h"
#include "hub/hub.h"
#include "server/server.h"

using namespace wshub;

namespace {

constexpr std::string_view kSentence =
    "The handshake arrived as HTTP/1.0 with no Upgrade header and no 'upgrade' in Connection, so a "
    "proxy spoke HTTP/1.0 and dropped both headers; in the nginx location that proxies to wshub add "
    "'proxy_http_version 1.1;', 'proxy_set_header Upgrade $http_upgrade;' and 'proxy_set_header "
    "Connection \"upgrade\";'; any other proxy must forward the handshake as HTTP/1.1 with the "
    "client's Upgrade and Connection headers (HAProxy does in 'mode http').";

void BM_RecordRejectedHandshake(benchmark::State& state) {
  server::RejectedHandshakes ring;
  int64_t now = 1'796'588'792'000;
  for (auto _ : state)
    ring.record(++now, 400, "203.0.113.7:51234 via 10.0.0.2:40000", "http_1_0_dropped_upgrade",
                "GET /hub", kSentence);
  benchmark::DoNotOptimize(ring.total());
}
BENCHMARK(BM_RecordRejectedHandshake);

void BM_RenderAdminState(benchmark::State& state) {
  hub::Hub hub(hub::default_hub_config(), hub::make_memory_store(), nullptr);
  for (int64_t i = 0; i < state.range(0); ++i) hub.broker().subscribe(0, "channel-" + std::to_string(i));
  server::ServerConfig config;
  config.threads = 1;
  server::Server server(std::move(config));
  for (size_t i = 0; i < server::RejectedHandshakes::kCapacity; ++i)
    const_cast<server::RejectedHandshakes&>(server.rejected_handshakes())
        .record(int64_t(i), 400, "203.0.113.7:51234", "http_1_0_dropped_upgrade", "GET /hub", kSentence);
  api::AdminSources sources;
  sources.server = &server;
  sources.hub = &hub;
  size_t bytes = 0;
  for (auto _ : state) {
    const std::string json = api::render_admin_state(sources, 1'796'588'792'000);
    bytes = json.size();
    benchmark::DoNotOptimize(json.data());
  }
  state.counters["json_bytes"] = double(bytes);
}
BENCHMARK(BM_RenderAdminState)->Arg(10)->Arg(100)->Arg(10000)->Arg(100000)->Unit(benchmark::kMicrosecond);

}  // namespace
