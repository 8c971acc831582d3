// ws:// and wss:// URLs as the load generator accepts them (RFC 6455 §3), and the check that
// the target is a loopback address. Parsing is pure; resolution uses getaddrinfo.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace wshub::load {

struct WsUrl {
  bool secure = false;      // wss://
  std::string host;         // without the brackets of an IPv6 literal
  uint16_t port = 0;        // 80 or 443 when the URL gives none
  std::string target;       // path and query for the request line, "/" when the URL has none
  std::string host_header;  // the Host header value: host as written, with ":port" if given
};

// Accepts ws://host[:port][/path][?query] and wss://...; refuses other schemes, user info,
// fragments, empty hosts and ports outside 1-65535.
bool parse_ws_url(std::string_view text, WsUrl& url, std::string& why);

// The socket address to connect to.
struct TargetAddress {
  sockaddr_storage address{};
  socklen_t length = 0;
  int family() const { return address.ss_family; }
};

bool is_loopback_address(const sockaddr* address);

// Resolves the URL's host (IPv4 first) and refuses anything outside 127.0.0.0/8 and ::1:
// this is a benchmark tool, and it must never be turned on somebody else's server.
bool resolve_loopback_target(const WsUrl& url, TargetAddress& target, std::string& why);

}  // namespace wshub::load
