#include "upgrade_request.h"

#include <openssl/evp.h>

#include <cstdint>
#include <cstring>

#include "proto/http_head.h"

namespace wshub::load {

namespace {

std::string printable(std::string_view text, size_t limit) {
  std::string out;
  for (char c : text.substr(0, limit)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// True when the comma-separated `list` holds `token` (case-insensitive), as in
// "Connection: keep-alive, Upgrade".
bool list_has_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    if (proto::equals_ignore_case(trim(list.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

HandshakeKeys make_handshake_keys(Xorshift64& rng) {
  uint8_t nonce[16];
  const uint64_t a = rng.next();
  const uint64_t b = rng.next();
  std::memcpy(nonce, &a, 8);
  std::memcpy(nonce + 8, &b, 8);
  unsigned char encoded[kWebSocketKeySize + 1];
  EVP_EncodeBlock(encoded, nonce, sizeof nonce);
  HandshakeKeys keys;
  std::memcpy(keys.key, encoded, kWebSocketKeySize);
  proto::compute_accept_key(std::string_view(keys.key, kWebSocketKeySize), keys.expected_accept);
  return keys;
}

std::string make_upgrade_request(std::string_view target, std::string_view host_header,
                                 std::string_view key) {
  std::string request;
  request.reserve(160 + target.size() + host_header.size());
  request.append("GET ").append(target).append(" HTTP/1.1\r\nHost: ").append(host_header);
  request.append("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ");
  request.append(key).append("\r\nSec-WebSocket-Version: 13\r\nUser-Agent: wshub-load\r\n\r\n");
  return request;
}

ResponseStatus check_upgrade_response(std::string_view received, std::string_view expected_accept,
                                      size_t& head_size, std::string& why) {
  const size_t end = received.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (received.size() >= kMaxResponseHead) {
      why = "the server's response head is over 8 KiB";
      return ResponseStatus::rejected;
    }
    return ResponseStatus::need_more;
  }
  head_size = end + 4;
  std::string_view head = received.substr(0, end + 2);
  const size_t status_end = head.find("\r\n");
  const std::string_view status_line = head.substr(0, status_end);
  if (status_line.size() < 12 || status_line.substr(0, 9) != "HTTP/1.1 " ||
      status_line.substr(9, 3) != "101") {
    why = "the server answered '" + printable(status_line, 100) + "' instead of 101";
    return ResponseStatus::rejected;
  }
  bool upgrade_ok = false;
  bool connection_ok = false;
  bool accept_ok = false;
  head.remove_prefix(status_end + 2);
  while (!head.empty()) {
    const size_t line_end = head.find("\r\n");
    const std::string_view line = head.substr(0, line_end);
    head.remove_prefix(line_end + 2);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trim(line.substr(colon + 1));
    if (proto::equals_ignore_case(name, "Upgrade")) {
      upgrade_ok = proto::equals_ignore_case(value, "websocket");
    } else if (proto::equals_ignore_case(name, "Connection")) {
      connection_ok = list_has_token(value, "upgrade");
    } else if (proto::equals_ignore_case(name, "Sec-WebSocket-Accept")) {
      accept_ok = value == expected_accept;
    }
  }
  if (!upgrade_ok) why = "the 101 response lacks 'Upgrade: websocket'";
  else if (!connection_ok) why = "the 101 response lacks 'Connection: Upgrade'";
  else if (!accept_ok) why = "the 101 response has a missing or wrong Sec-WebSocket-Accept";
  else return ResponseStatus::accepted;
  return ResponseStatus::rejected;
}

}  // namespace wshub::load
