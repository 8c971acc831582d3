#include "server/config.h"

#include "net/peer_address.h"

namespace wshub::server {

ServerConfig default_server_config() {
  ServerConfig config;
  ListenerConfig listener;
  std::string error;
  listener.address.text = "127.0.0.1:8077";
  net::parse_listen_address(listener.address.text, listener.address.address,
                            listener.address.length, error);
  config.listeners.push_back(listener);
  RouteConfig echo;
  echo.path = "/echo";
  echo.kind = RouteKind::echo;
  config.routes.push_back(echo);
  RouteConfig login;
  login.path = "/login";
  login.kind = RouteKind::reply;
  config.routes.push_back(login);
  return config;
}

const char* route_kind_name(RouteKind kind) {
  switch (kind) {
    case RouteKind::echo: return "echo";
    case RouteKind::reply: return "reply";
    case RouteKind::broadcast: return "broadcast";
  }
  return "?";
}

}  // namespace wshub::server
