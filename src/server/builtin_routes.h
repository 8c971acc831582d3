// The routes wshub serves without a hub: `echo` for tests, benchmarks and conformance suites,
// `reply`, which answers every message with fixed text as the seed's /login did, and
// `broadcast`, which relays every message to every connection on the route.
#pragma once

#include <memory>

#include "server/config.h"
#include "server/route_handler.h"

namespace wshub::server {

class FanoutGroup;

// One handler instance per worker and route. `fanout` is the shared group for broadcast routes.
std::unique_ptr<RouteHandler> make_builtin_handler(const RouteConfig& config,
                                                   FanoutGroup* fanout, Worker& worker);

}  // namespace wshub::server
