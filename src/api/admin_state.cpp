#include "api/admin_state.h"

#include <algorithm>

#include "api/api_service.h"
#include "api/webhook_client.h"
#include "hub/channel_name.h"
#include "hub/hub.h"
#include "hub/hub_worker.h"
#include "hub/json_writer.h"
#include "server/server.h"

namespace wshub::api {

namespace {

uint64_t load(const std::atomic<uint64_t>& counter) { return counter.load(std::memory_order_relaxed); }

// The sum over every worker of one hub counter.
template <typename Field>
uint64_t sum_workers(hub::Hub& hub, Field field) {
  uint64_t total = 0;
  for (size_t w = 0; w < hub.worker_count(); ++w)
    if (const hub::HubWorker* worker = hub.worker(uint32_t(w))) total += field(worker->counters());
  return total;
}

// The inbox's totals; "available": false with the memory store.
void write_inbox(hub::JsonWriter& json, hub::InboxStore* inbox) {
  json.key("inbox").begin_object().member("available", inbox != nullptr);
  if (!inbox) {
    json.member("note", "the device inbox needs the SQLite store ([store] kind = \"sqlite\")").end_object();
    return;
  }
  const hub::InboxTotals t = inbox->totals();
  json.member("pending", t.pending).member("devices_with_pending", inbox->devices_with_pending())
      .member("sent", t.sends).member("delivered", t.delivered).member("acked", t.acked)
      .member("expired", t.expired).end_object();
}

void write_server(hub::JsonWriter& json, server::Server& server) {
  server::ServerCounters& c = server.counters();
  json.key("server").begin_object()
      .member("connections", server.open_connections())
      .member("accepted", load(c.connections_accepted))
      .member("upgrades", load(c.upgrades))
      .end_object();
}

void write_hub(hub::JsonWriter& json, hub::Hub& hub, const ApiCounters* api) {
  using Counters = hub::HubWorkerCounters;
  const uint64_t in = sum_workers(hub, [](const Counters& c) {
    uint64_t total = 0;
    for (const auto& count : c.commands) total += load(count);
    return total;
  });
  const uint64_t client_publishes =
      sum_workers(hub, [](const Counters& c) { return load(c.commands[size_t(hub::CommandType::publish)]); });
  uint64_t api_publishes = 0;
  if (api)
    for (ApiEndpoint endpoint : {ApiEndpoint::publish, ApiEndpoint::broadcast})
      api_publishes += api->requests[size_t(endpoint)][0].load(std::memory_order_relaxed);
  json.key("hub").begin_object()
      .member("sessions", sum_workers(hub, [](const Counters& c) { return load(c.sessions); }))
      .member("connected", sum_workers(hub, [](const Counters& c) { return load(c.connected); }))
      .member("subscriptions", sum_workers(hub, [](const Counters& c) { return load(c.subscriptions); }))
      .member("messages_in", in)
      .member("messages_out", sum_workers(hub, [](const Counters& c) {
        return load(c.publications_delivered) + load(c.pushes_delivered);
      }))
      .member("published", client_publishes + api_publishes)
      .end_object();
}

void write_channels(hub::JsonWriter& json, hub::Hub& hub) {
  // The busiest are chosen among at most kAdminScanChannels, so a server with a million
  // channels does not stall the ticking worker for the page (10,000 cost about 1 ms).
  std::vector<hub::Broker::ChannelSummary> channels = hub.broker().channels(kAdminScanChannels + 1);
  const bool more = channels.size() > kAdminScanChannels;
  if (more) channels.resize(kAdminScanChannels);
  const size_t total = channels.size();
  const size_t shown = std::min(channels.size(), kAdminMaxChannels);
  std::partial_sort(channels.begin(), channels.begin() + shown, channels.end(), [](const auto& a, const auto& b) {
    return a.subscribers != b.subscribers ? a.subscribers > b.subscribers : a.name < b.name;
  });
  channels.resize(shown);
  json.member("channels_more", more);
  json.member("channels_total", uint64_t(total)).key("channels").begin_array();
  for (const auto& channel : channels) {
    json.begin_object().member("channel", channel.name).member("subscribers", channel.subscribers)
        .member("offset", channel.offset);
    hub::ChannelName name;
    const hub::NamespaceConfig* ns = nullptr;
    if (hub::parse_channel_name(channel.name, name) == hub::ChannelNameError::none &&
        (name.kind == hub::ChannelKind::regular || name.kind == hub::ChannelKind::user_limited))
      ns = hub.config().find_namespace(name.ns);
    if (ns && ns->presence) {
      size_t present = 0;
      const auto entries = hub.broker().presence(channel.name, kAdminMaxPresence, present);
      json.member("presence_total", uint64_t(present)).key("presence").begin_array();
      for (const hub::PresenceEntry& entry : entries)
        json.begin_object().member("cid", entry.cid).member("user", entry.user)
            .member("device", entry.device).end_object();
      json.end_array();
    }
    json.end_object();
  }
  json.end_array();
}

void write_webhooks(hub::JsonWriter& json, const WebhookClient* client) {
  json.key("webhooks").begin_array();
  for (size_t e = 0; client && e < client->endpoint_count(); ++e) {
    const WebhookEndpointId id{uint16_t(e)};
    const WebhookEndpointCounters& c = client->counters(id);
    uint64_t failures = 0;
    json.begin_object().member("endpoint", client->endpoint_config(id).name)
        .member("breaker", breaker_state_name(c.breaker())).key("calls").begin_object();
    for (size_t o = 0; o < kWebhookOutcomeCount; ++o) {
      const uint64_t count = c.calls_with(WebhookOutcome(o));
      if (WebhookOutcome(o) != WebhookOutcome::ok) failures += count;
      json.member(webhook_outcome_name(WebhookOutcome(o)), count);
    }
    json.end_object().member("failures", failures).member("retries", load(c.retries))
        .member("in_flight", load(c.in_flight)).member("queued", load(c.queued))
        .member("breaker_opened", load(c.breaker_opened)).end_object();
  }
  json.end_array();
}

void write_rejections(hub::JsonWriter& json, const server::RejectedHandshakes& ring) {
  const std::vector<server::RejectedHandshake> entries = ring.newest_first();
  json.key("rejected").begin_object().member("total", ring.total()).key("last").begin_array();
  for (const server::RejectedHandshake& entry : entries)
    json.begin_object().member("time_ms", entry.time_ms).member("status", uint64_t(entry.status))
        .member("peer", std::string_view(entry.peer)).member("reason", std::string_view(entry.reason))
        .member("request", std::string_view(entry.request))
        .member("sentence", std::string_view(entry.sentence)).end_object();
  json.end_array().end_object();
}

}  // namespace

std::string render_admin_state(const AdminSources& sources, int64_t now_ms) {
  std::string body;
  hub::JsonWriter json(body);
  json.begin_object().member("ts", now_ms);
  if (sources.server) write_server(json, *sources.server);
  if (sources.hub) {
    write_hub(json, *sources.hub, sources.api);
    write_channels(json, *sources.hub);
  }
  write_webhooks(json, sources.webhooks);
  write_inbox(json, sources.hub ? sources.hub->inbox() : nullptr);
  if (sources.server) write_rejections(json, sources.server->rejected_handshakes());
  const AdminLive& live = sources.live;
  json.key("live").begin_object().member("available", live.available);
  if (live.available)
    json.member("channel", hub::kAdminStatsChannel).member("path", live.path)
        .member("port", uint64_t(live.port)).member("tls", live.tls);
  else
    json.member("why_not", live.why_not);
  json.end_object().end_object();
  return body;
}

}  // namespace wshub::api
