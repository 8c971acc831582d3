#include "server/config.h"

#include "net/peer_address.h"
#include "server/builtin_routes.h"

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
  echo.kind = "echo";
  echo.service = make_echo_route();
  config.routes.push_back(echo);
  RouteConfig login;
  login.path = "/login";
  login.kind = "reply";
  login.service = make_reply_route("reply");
  config.routes.push_back(login);
  return config;
}

}  // namespace wshub::server
