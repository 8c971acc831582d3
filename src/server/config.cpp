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
  return config;
}

}  // namespace wshub::server
