#include "api/metrics.h"

#include <fmt/format.h>

#include "api/api_service.h"
#include "api/webhook_client.h"
#include "hub/command.h"
#include "hub/hub.h"
#include "hub/hub_worker.h"
#include "server/server.h"

namespace wshub::api {

namespace {

class Exposition {
 public:
  // One metric family: its HELP and TYPE lines, written before its first sample.
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  }
  void sample(std::string_view name, uint64_t value, std::string_view labels = {}) {
    if (labels.empty()) out_ += fmt::format("{} {}\n", name, value);
    else out_ += fmt::format("{}{{{}}} {}\n", name, labels, value);
  }
  void sample(std::string_view name, double value, std::string_view labels) {
    out_ += fmt::format("{}{{{}}} {}\n", name, labels, value);
  }
  // A family of one sample without labels.
  void single(std::string_view name, std::string_view type, std::string_view help, uint64_t value) {
    family(name, type, help);
    sample(name, value);
  }
  std::string& text() { return out_; }

 private:
  std::string out_;
};

uint64_t load(const std::atomic<uint64_t>& counter) { return counter.load(std::memory_order_relaxed); }

void server_metrics(Exposition& m, server::Server& server) {
  server::ServerCounters& c = server.counters();
  m.single("wshub_connections", "gauge", "Open client connections, WebSocket and API.",
           server.open_connections());
  m.single("wshub_connections_accepted_total", "counter", "TCP connections accepted.",
           load(c.connections_accepted));
  m.single("wshub_upgrades_total", "counter", "WebSocket handshakes completed.", load(c.upgrades));
  m.family("wshub_rejections_total", "counter",
           "Connections, requests and frames refused, by reason (docs/protocol.md).");
  for (size_t i = 1; i < std::size(c.head_errors); ++i)
    m.sample("wshub_rejections_total", load(c.head_errors[i]),
             fmt::format("kind=\"head\",reason=\"{}\"", proto::http_error_name(proto::HttpHeadError(i))));
  for (size_t i = 1; i < std::size(c.message_errors); ++i)
    m.sample("wshub_rejections_total", load(c.message_errors[i]),
             fmt::format("kind=\"message\",reason=\"{}\"", proto::http_error_name(proto::HttpMessageError(i))));
  for (size_t i = 1; i < std::size(c.handshake_errors); ++i)
    m.sample("wshub_rejections_total", load(c.handshake_errors[i]),
             fmt::format("kind=\"handshake\",reason=\"{}\"", proto::handshake_error_name(proto::HandshakeError(i))));
  for (size_t i = 1; i < std::size(c.frame_errors); ++i)
    m.sample("wshub_rejections_total", load(c.frame_errors[i]),
             fmt::format("kind=\"frame\",reason=\"{}\"", proto::reader_error_name(proto::ReaderError(i))));
  for (size_t i = 0; i < std::size(c.limits); ++i)
    m.sample("wshub_rejections_total", load(c.limits[i]),
             fmt::format("kind=\"limit\",reason=\"{}\"", server::limit_name(server::Limit(i))));
}

void hub_metrics(Exposition& m, const hub::Hub& hub) {
  auto sum = [&](auto field) {
    uint64_t total = 0;
    for (size_t w = 0; w < hub.worker_count(); ++w)
      if (const hub::HubWorker* worker = const_cast<hub::Hub&>(hub).worker(uint32_t(w)))
        total += load(field(worker->counters()));
    return total;
  };
  using Counters = hub::HubWorkerCounters;
  m.family("wshub_hub_sessions", "gauge", "Open hub connections (connected or not yet).");
  m.sample("wshub_hub_sessions", sum([](const Counters& c) -> const std::atomic<uint64_t>& { return c.sessions; }));
  m.family("wshub_hub_connected", "gauge", "Hub connections past connect.");
  m.sample("wshub_hub_connected", sum([](const Counters& c) -> const std::atomic<uint64_t>& { return c.connected; }));
  m.family("wshub_hub_subscriptions", "gauge", "Channel subscriptions of hub connections.");
  m.sample("wshub_hub_subscriptions", sum([](const Counters& c) -> const std::atomic<uint64_t>& { return c.subscriptions; }));
  m.family("wshub_hub_messages_in_total", "counter", "Client requests taken, by type.");
  for (size_t t = 0; t < size_t(hub::CommandType::count_); ++t)
    m.sample("wshub_hub_messages_in_total",
             sum([t](const Counters& c) -> const std::atomic<uint64_t>& { return c.commands[t]; }),
             fmt::format("type=\"{}\"", hub::command_name(hub::CommandType(t))));
  m.family("wshub_hub_messages_out_total", "counter", "Pushes written to subscribers, by type.");
  m.sample("wshub_hub_messages_out_total",
           sum([](const Counters& c) -> const std::atomic<uint64_t>& { return c.publications_delivered; }),
           "type=\"pub\"");
  m.sample("wshub_hub_messages_out_total",
           sum([](const Counters& c) -> const std::atomic<uint64_t>& { return c.pushes_delivered; }),
           "type=\"presence\"");
  m.family("wshub_hub_mid_duplicates_total", "counter",
           "Client publish and rpc requests answered from an earlier one with the same mid (dup).");
  m.sample("wshub_hub_mid_duplicates_total",
           sum([](const Counters& c) -> const std::atomic<uint64_t>& { return c.mid_duplicates; }));
  m.family("wshub_hub_errors_total", "counter", "Requests answered with an error, by code.");
  for (size_t e = 0; e < std::size(Counters{}.errors); ++e) {
    const uint64_t count = sum([e](const Counters& c) -> const std::atomic<uint64_t>& { return c.errors[e]; });
    if (count || e == 1 || e == 16) m.sample("wshub_hub_errors_total", count, fmt::format("code=\"{}\"", 100 + e));
  }
  m.family("wshub_hub_rejected_frames_total", "counter", "Client frames or requests refused, by reason.");
  for (size_t e = 1; e < size_t(hub::CommandError::count_); ++e)
    m.sample("wshub_hub_rejected_frames_total",
             sum([e](const Counters& c) -> const std::atomic<uint64_t>& { return c.command_errors[e]; }),
             fmt::format("reason=\"{}\"", hub::command_error_name(hub::CommandError(e))));
  m.sample("wshub_hub_rejected_frames_total",
           sum([](const Counters& c) -> const std::atomic<uint64_t>& { return c.binary_frames; }), "reason=\"binary\"");
  m.family("wshub_hub_closes_total", "counter", "Hub connections the server closed, by close code.");
  for (size_t i = 0; i < std::size(hub::kAllHubCloses); ++i)
    m.sample("wshub_hub_closes_total",
             sum([i](const Counters& c) -> const std::atomic<uint64_t>& { return c.closes[i]; }),
             fmt::format("code=\"{}\"", uint16_t(hub::kAllHubCloses[i])));
}

void inbox_metrics(Exposition& m, hub::InboxStore& inbox) {
  const hub::InboxTotals t = inbox.totals();
  m.single("wshub_inbox_pending", "gauge", "Inbox messages kept unacknowledged, every device.", t.pending);
  m.single("wshub_inbox_sent_total", "counter", "Inbox messages queued (one per device copy).", t.sends);
  m.single("wshub_inbox_delivered_total", "counter", "Inbox messages pushed for the first time.", t.delivered);
  m.single("wshub_inbox_acked_total", "counter", "Inbox messages acknowledged by their device.", t.acked);
  m.single("wshub_inbox_expired_total", "counter", "Inbox messages dropped at their ttl.", t.expired);
  m.single("wshub_inbox_duplicates_total", "counter", "Sends answered from their idempotency_key.", t.duplicates);
}

void store_metrics(Exposition& m, const hub::Store& store) {
  if (!store.keeps_history()) return;
  const hub::StoreCounters c = store.counters();
  m.single("wshub_store_appends_total", "counter", "Publications the store committed.", c.appends);
  m.single("wshub_store_append_errors_total", "counter", "Publications the store could not keep (answered 503 / 108).",
           c.append_errors);
  m.single("wshub_store_commits_total", "counter", "Store transactions; group commit puts many appends in one.",
           c.commits);
  m.single("wshub_store_syncs_total", "counter", "fsyncs the store asked for (one per commit with durability sync, two per checkpoint).",
           c.syncs);
  m.single("wshub_store_trimmed_total", "counter", "Publications removed by retention (count, bytes, age).",
           c.trimmed);
  m.single("wshub_store_reads_total", "counter", "History reads.", c.reads);
  m.single("wshub_store_file_bytes", "gauge", "Size of the database file and its WAL.", c.file_bytes);
}

void webhook_metrics(Exposition& m, const WebhookClient& client) {
  m.family("wshub_webhook_calls_total", "counter", "Webhook calls by endpoint and outcome.");
  for (size_t e = 0; e < client.endpoint_count(); ++e) {
    const WebhookEndpointId id{uint16_t(e)};
    const std::string& name = client.endpoint_config(id).name;
    for (size_t o = 0; o < kWebhookOutcomeCount; ++o)
      m.sample("wshub_webhook_calls_total", client.counters(id).calls_with(WebhookOutcome(o)),
               fmt::format("endpoint=\"{}\",outcome=\"{}\"", name, webhook_outcome_name(WebhookOutcome(o))));
  }
  m.family("wshub_webhook_retries_total", "counter", "Webhook attempts after the first.");
  for (size_t e = 0; e < client.endpoint_count(); ++e) {
    const WebhookEndpointId id{uint16_t(e)};
    m.sample("wshub_webhook_retries_total", load(client.counters(id).retries),
             fmt::format("endpoint=\"{}\"", client.endpoint_config(id).name));
  }
  m.family("wshub_webhook_in_flight", "gauge", "Webhook HTTP attempts running now.");
  for (size_t e = 0; e < client.endpoint_count(); ++e) {
    const WebhookEndpointId id{uint16_t(e)};
    m.sample("wshub_webhook_in_flight", load(client.counters(id).in_flight),
             fmt::format("endpoint=\"{}\"", client.endpoint_config(id).name));
  }
  m.family("wshub_webhook_breaker_open", "gauge", "1 while the endpoint's circuit breaker is open.");
  for (size_t e = 0; e < client.endpoint_count(); ++e) {
    const WebhookEndpointId id{uint16_t(e)};
    m.sample("wshub_webhook_breaker_open", uint64_t(client.counters(id).breaker() == BreakerState::open),
             fmt::format("endpoint=\"{}\"", client.endpoint_config(id).name));
  }
  m.family("wshub_webhook_latency_seconds", "histogram", "Duration of webhook HTTP attempts.");
  for (size_t e = 0; e < client.endpoint_count(); ++e) {
    const WebhookEndpointId id{uint16_t(e)};
    const std::string& name = client.endpoint_config(id).name;
    const LatencyHistogram& h = client.counters(id).latency;
    uint64_t cumulative = 0;
    for (size_t b = 0; b < kWebhookLatencyBoundsUs.size(); ++b) {
      cumulative += h.bucket(b);
      m.sample("wshub_webhook_latency_seconds_bucket", cumulative,
               fmt::format("endpoint=\"{}\",le=\"{}\"", name, double(kWebhookLatencyBoundsUs[b]) / 1e6));
    }
    cumulative += h.bucket(kWebhookLatencyBoundsUs.size());
    m.sample("wshub_webhook_latency_seconds_bucket", cumulative, fmt::format("endpoint=\"{}\",le=\"+Inf\"", name));
    m.sample("wshub_webhook_latency_seconds_sum", double(h.sum_us()) / 1e6, fmt::format("endpoint=\"{}\"", name));
    m.sample("wshub_webhook_latency_seconds_count", h.count(), fmt::format("endpoint=\"{}\"", name));
  }
}

void api_metrics(Exposition& m, const ApiCounters& api) {
  m.family("wshub_api_requests_total", "counter", "Backend API requests by endpoint and status.");
  for (size_t e = 0; e < size_t(ApiEndpoint::count_); ++e)
    for (size_t s = 0; s < ApiCounters::kStatuses; ++s) {
      const uint64_t count = api.requests[e][s].load(std::memory_order_relaxed);
      if (count || s == 0)
        m.sample("wshub_api_requests_total", count,
                 fmt::format("endpoint=\"{}\",status=\"{}\"", api_endpoint_name(ApiEndpoint(e)),
                             ApiCounters::status_label(s)));
    }
}

}  // namespace

std::string render_metrics(const MetricsSources& sources) {
  Exposition m;
  if (sources.server) server_metrics(m, *sources.server);
  if (sources.hub) hub_metrics(m, *sources.hub);
  if (sources.hub) store_metrics(m, sources.hub->store());
  if (sources.hub && sources.hub->inbox()) inbox_metrics(m, *sources.hub->inbox());
  if (sources.webhooks && sources.webhooks->endpoint_count()) webhook_metrics(m, *sources.webhooks);
  if (sources.api) api_metrics(m, *sources.api);
  return std::move(m.text());
}

}  // namespace wshub::api
