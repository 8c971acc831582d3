// /metrics: every counter of the server, the hub, the webhooks and the API in the Prometheus
// text format (version 0.0.4), rendered when scraped. Reads atomics only, so any thread may
// render while the workers run.
#pragma once

#include <string>

namespace wshub::server {
class Server;
}
namespace wshub::hub {
class Hub;
}

namespace wshub::api {

class WebhookClient;
struct ApiCounters;

struct MetricsSources {
  server::Server* server = nullptr;
  const hub::Hub* hub = nullptr;
  const WebhookClient* webhooks = nullptr;  // null when no webhook is configured
  const ApiCounters* api = nullptr;
};

std::string render_metrics(const MetricsSources& sources);

}  // namespace wshub::api
