// The routes wshub serves without a hub: `echo` for tests, benchmarks and conformance suites,
// `reply`, which answers every message with fixed text as the seed's /login did, and
// `broadcast`, which relays every message to every connection on the route. The app layer
// registers them as route kinds beside the hub's.
#pragma once

#include <memory>
#include <string_view>

#include "server/route_handler.h"

namespace wshub::server {

std::shared_ptr<RouteService> make_echo_route();
std::shared_ptr<RouteService> make_reply_route(std::string_view text);
std::shared_ptr<RouteService> make_broadcast_route();

}  // namespace wshub::server
