// Boost.Beast echo peer for bench/run.sh: one io_context on one thread, async accept,
// read and write. Echoes every text and binary message on any path, no compression.
// Knows nothing about wshub; written for the comparison, kept as small as Beast allows.
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <cstdio>
#include <cstdlib>
#include <memory>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

// Larger than any message the benchmarks send (16 MiB), so the limit never decides a result.
constexpr std::size_t max_message_bytes = 64u << 20;

class EchoSession : public std::enable_shared_from_this<EchoSession> {
 public:
  explicit EchoSession(tcp::socket socket) : ws_(std::move(socket)) {}

  void start() {
    beast::error_code ignored;
    ws_.next_layer().set_option(tcp::no_delay(true), ignored);
    ws_.read_message_max(max_message_bytes);
    ws_.auto_fragment(false);
    websocket::permessage_deflate deflate;
    deflate.server_enable = false;
    ws_.set_option(deflate);
    ws_.async_accept([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->read();
    });
  }

 private:
  void read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (!ec) self->write();
    });
  }

  void write() {
    ws_.text(ws_.got_text());
    ws_.async_write(buffer_.data(), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
      if (ec) return;
      self->buffer_.consume(n);
      self->read();
    });
  }

  websocket::stream<tcp::socket> ws_;
  beast::flat_buffer buffer_;
};

void accept_next(tcp::acceptor& acceptor) {
  acceptor.async_accept([&acceptor](beast::error_code ec, tcp::socket socket) {
    if (!ec) std::make_shared<EchoSession>(std::move(socket))->start();
    accept_next(acceptor);
  });
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s PORT\n", argv[0]);
    return 2;
  }
  asio::io_context io{1};
  tcp::endpoint endpoint{asio::ip::make_address("127.0.0.1"),
                         static_cast<unsigned short>(std::atoi(argv[1]))};
  tcp::acceptor acceptor{io};
  acceptor.open(endpoint.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  acceptor.bind(endpoint);
  acceptor.listen(asio::socket_base::max_listen_connections);
  accept_next(acceptor);
  io.run();
}
