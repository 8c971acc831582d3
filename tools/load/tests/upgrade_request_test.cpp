#include "upgrade_request.h"

#include <gtest/gtest.h>

namespace wshub::load {
namespace {

// RFC 6455 §1.3's example key and accept value.
constexpr std::string_view kKey = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr std::string_view kAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

std::string response(std::string_view headers) {
  return "HTTP/1.1 101 Switching Protocols\r\n" + std::string(headers) + "\r\n";
}

TEST(UpgradeRequest, KeysAreFreshAndAcceptMatches) {
  Xorshift64 rng(42);
  const HandshakeKeys a = make_handshake_keys(rng);
  const HandshakeKeys b = make_handshake_keys(rng);
  EXPECT_NE(std::string_view(a.key, kWebSocketKeySize), std::string_view(b.key, kWebSocketKeySize));
  EXPECT_TRUE(proto::is_valid_websocket_key(std::string_view(a.key, kWebSocketKeySize)));
  char accept[proto::kAcceptKeySize];
  proto::compute_accept_key(kKey, accept);
  EXPECT_EQ(std::string_view(accept, sizeof accept), kAccept);
}

TEST(UpgradeRequest, RequestHead) {
  const std::string request = make_upgrade_request("/echo?a=1", "127.0.0.1:8077", kKey);
  EXPECT_EQ(request.rfind("GET /echo?a=1 HTTP/1.1\r\nHost: 127.0.0.1:8077\r\n", 0), 0u);
  EXPECT_NE(request.find("\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"), std::string::npos);
  EXPECT_NE(request.find("\r\nSec-WebSocket-Version: 13\r\n"), std::string::npos);
  EXPECT_EQ(request.substr(request.size() - 4), "\r\n\r\n");
}

TEST(UpgradeResponse, AcceptsAndKeepsTrailingBytes) {
  const std::string head =
      response("Upgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Accept: " + std::string(kAccept) + "\r\n");
  const std::string received = head + "\x81\x02hi";
  size_t head_size = 0;
  std::string why;
  EXPECT_EQ(check_upgrade_response(received, kAccept, head_size, why), ResponseStatus::accepted) << why;
  EXPECT_EQ(head_size, head.size());
}

TEST(UpgradeResponse, NeedsMoreAtEverySplit) {
  const std::string head =
      response("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + std::string(kAccept) + "\r\n");
  for (size_t split = 0; split < head.size(); ++split) {
    size_t head_size = 0;
    std::string why;
    ASSERT_EQ(check_upgrade_response(std::string_view(head).substr(0, split), kAccept, head_size, why),
              ResponseStatus::need_more)
        << split;
  }
}

TEST(UpgradeResponse, Rejections) {
  size_t head_size = 0;
  std::string why;
  EXPECT_EQ(check_upgrade_response("HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\n\r\n", kAccept, head_size, why),
            ResponseStatus::rejected);
  EXPECT_NE(why.find("426"), std::string::npos);
  EXPECT_EQ(check_upgrade_response(response("Connection: Upgrade\r\nSec-WebSocket-Accept: " + std::string(kAccept) + "\r\n"),
                                   kAccept, head_size, why),
            ResponseStatus::rejected);
  EXPECT_NE(why.find("Upgrade: websocket"), std::string::npos);
  EXPECT_EQ(check_upgrade_response(response("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n"),
                                   kAccept, head_size, why),
            ResponseStatus::rejected);
  EXPECT_NE(why.find("Accept"), std::string::npos);
  EXPECT_EQ(check_upgrade_response(std::string(kMaxResponseHead, 'a'), kAccept, head_size, why), ResponseStatus::rejected);
}

}  // namespace
}  // namespace wshub::load
