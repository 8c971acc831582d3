// websocketpp echo peer for bench/run.sh: the stock asio config (Boost.Asio, no TLS),
// one thread running the io_service. Echoes text and binary messages on any path;
// permessage-deflate is off in this config. Knows nothing about wshub.
#include <websocketpp/config/asio_no_tls.hpp>
#include <websocketpp/server.hpp>

#include <cstdio>
#include <cstdlib>

using Server = websocketpp::server<websocketpp::config::asio>;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s PORT\n", argv[0]);
    return 2;
  }
  Server server;
  server.clear_access_channels(websocketpp::log::alevel::all);
  server.clear_error_channels(websocketpp::log::elevel::all);
  // Larger than any message the benchmarks send (16 MiB).
  server.set_max_message_size(64u << 20);
  server.init_asio();
  server.set_reuse_addr(true);
  server.set_listen_backlog(boost::asio::socket_base::max_listen_connections);
  server.set_socket_init_handler([](websocketpp::connection_hdl, boost::asio::ip::tcp::socket& socket) {
    boost::system::error_code ignored;
    socket.set_option(boost::asio::ip::tcp::no_delay(true), ignored);
  });
  server.set_message_handler([&server](websocketpp::connection_hdl hdl, Server::message_ptr message) {
    websocketpp::lib::error_code ignored;
    server.send(hdl, message->get_payload(), message->get_opcode(), ignored);
  });
  boost::asio::ip::tcp::endpoint endpoint{boost::asio::ip::make_address("127.0.0.1"),
                                          static_cast<unsigned short>(std::atoi(argv[1]))};
  server.listen(endpoint);
  server.start_accept();
  server.run();
}
