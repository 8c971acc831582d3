#include "app/route_kinds.h"

#include <stdexcept>

#include "hub/hub.h"
#include "server/builtin_routes.h"

namespace wshub::app {

std::vector<RouteEntry> default_routes() {
  std::vector<RouteEntry> routes(3);
  routes[0].route.path = "/echo";
  routes[0].route.kind = "echo";
  routes[1].route.path = "/login";
  routes[1].route.kind = "reply";
  routes[2].route.path = "/hub";
  routes[2].route.kind = "hub";
  routes[2].route.subprotocols = {"wshub.v1.json"};
  return routes;
}

bool is_default_route_list(const std::vector<RouteEntry>& routes) {
  const std::vector<RouteEntry> defaults = default_routes();
  if (routes.size() != defaults.size()) return false;
  for (size_t i = 0; i < routes.size(); ++i)
    if (routes[i].route.path != defaults[i].route.path || routes[i].route.kind != defaults[i].route.kind)
      return false;
  return true;
}

bool has_hub_route(const std::vector<RouteEntry>& entries) {
  for (const RouteEntry& entry : entries)
    if (entry.route.kind == "hub") return true;
  return false;
}

std::vector<server::RouteConfig> make_routes(const std::vector<RouteEntry>& entries, hub::Hub* hub) {
  std::vector<server::RouteConfig> routes;
  for (const RouteEntry& entry : entries) {
    server::RouteConfig route = entry.route;
    if (route.kind == "echo") route.service = server::make_echo_route();
    else if (route.kind == "reply") route.service = server::make_reply_route(entry.reply);
    else if (route.kind == "broadcast") route.service = server::make_broadcast_route();
    else if (route.kind == "hub" && hub) {
      route.service = hub->make_route(entry.hub);
      // The hub protocol's subprotocol is offered by SDKs; clients that offer none are served
      // too, as v1 (docs/hub-protocol.md); one that offers only others gets 400 naming it.
      if (route.subprotocols.empty()) route.subprotocols = {"wshub.v1.json"};
      route.refuse_unmatched_subprotocols = true;
    } else {
      throw std::runtime_error("route " + route.path + ": kind '" + route.kind + "' is not served");
    }
    routes.push_back(std::move(route));
  }
  return routes;
}

}  // namespace wshub::app
