// The route kinds wshub serves, by the name a [[route]]'s `handler` gives: echo, reply,
// broadcast (the server's own) and hub. Each kind turns a route's entry into the service the
// workers ask for handlers.
#pragma once

#include <string>
#include <vector>

#include "app/config_file.h"
#include "server/config.h"

namespace wshub::hub {
class Hub;
}

namespace wshub::app {

// The server's routes for `entries`; `hub` serves the hub routes (null when there are none).
// Throws std::runtime_error for a kind that has no implementation.
std::vector<server::RouteConfig> make_routes(const std::vector<RouteEntry>& entries, hub::Hub* hub);

bool has_hub_route(const std::vector<RouteEntry>& entries);

}  // namespace wshub::app
