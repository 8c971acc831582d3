// A peer's IP address and port, small enough to keep per connection and to key per-IP limits.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace wshub::net {

struct IpAddress {
  std::array<uint8_t, 16> bytes{};  // IPv4 stored as IPv4-mapped IPv6 (::ffff:a.b.c.d)
  bool operator==(const IpAddress&) const = default;
  bool is_v4() const;
  std::string to_string() const;
  // Parses "1.2.3.4" or "::1"; false when `text` is neither.
  static bool parse(std::string_view text, IpAddress& out);
  static IpAddress from_sockaddr(const sockaddr* address);
};

struct IpAddressHash {
  size_t operator()(const IpAddress& ip) const;
};

struct PeerAddress {
  IpAddress ip;
  uint16_t port = 0;
  static PeerAddress from_sockaddr(const sockaddr* address);
  std::string to_string() const;  // "1.2.3.4:5678" or "[::1]:5678"
};

// "host:port", "[v6]:port" or ":port" into a socket address. False with `error` set on failure.
bool parse_listen_address(std::string_view text, sockaddr_storage& out, socklen_t& length,
                          std::string& error);

}  // namespace wshub::net
