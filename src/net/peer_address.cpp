#include "net/peer_address.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace wshub::net {

namespace {
constexpr uint8_t kV4MappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
}

bool IpAddress::is_v4() const { return std::memcmp(bytes.data(), kV4MappedPrefix, 12) == 0; }

std::string IpAddress::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (is_v4())
    inet_ntop(AF_INET, bytes.data() + 12, text, sizeof text);
  else
    inet_ntop(AF_INET6, bytes.data(), text, sizeof text);
  return text;
}

bool IpAddress::parse(std::string_view text, IpAddress& out) {
  char buffer[INET6_ADDRSTRLEN + 1];
  if (text.size() >= sizeof buffer) return false;
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = 0;
  if (inet_pton(AF_INET, buffer, out.bytes.data() + 12) == 1) {
    std::memcpy(out.bytes.data(), kV4MappedPrefix, 12);
    return true;
  }
  return inet_pton(AF_INET6, buffer, out.bytes.data()) == 1;
}

IpAddress IpAddress::from_sockaddr(const sockaddr* address) {
  IpAddress ip;
  if (address->sa_family == AF_INET) {
    std::memcpy(ip.bytes.data(), kV4MappedPrefix, 12);
    std::memcpy(ip.bytes.data() + 12, &reinterpret_cast<const sockaddr_in*>(address)->sin_addr, 4);
  } else if (address->sa_family == AF_INET6) {
    std::memcpy(ip.bytes.data(), &reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr, 16);
  }
  return ip;
}

size_t IpAddressHash::operator()(const IpAddress& ip) const {
  uint64_t a, b;
  std::memcpy(&a, ip.bytes.data(), 8);
  std::memcpy(&b, ip.bytes.data() + 8, 8);
  return size_t((a * 0x9E3779B97F4A7C15ull) ^ (b * 0xC2B2AE3D27D4EB4Full));
}

PeerAddress PeerAddress::from_sockaddr(const sockaddr* address) {
  PeerAddress peer;
  peer.ip = IpAddress::from_sockaddr(address);
  if (address->sa_family == AF_INET)
    peer.port = ntohs(reinterpret_cast<const sockaddr_in*>(address)->sin_port);
  else if (address->sa_family == AF_INET6)
    peer.port = ntohs(reinterpret_cast<const sockaddr_in6*>(address)->sin6_port);
  return peer;
}

std::string PeerAddress::to_string() const {
  std::string host = ip.to_string();
  if (!ip.is_v4()) host = "[" + host + "]";
  return host + ":" + std::to_string(port);
}

bool parse_listen_address(std::string_view text, sockaddr_storage& out, socklen_t& length,
                          std::string& error) {
  std::memset(&out, 0, sizeof out);
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    error = "expected HOST:PORT, e.g. 127.0.0.1:8077 or [::]:8077";
    return false;
  }
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    error = "the port '" + std::string(port_text) + "' is not a number from 0 to 65535";
    return false;
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty() || host == "*") host = "0.0.0.0";
  if (host == "localhost") host = "127.0.0.1";
  IpAddress ip;
  if (!IpAddress::parse(host, ip)) {
    error = "the host '" + std::string(host) + "' is not an IPv4 or IPv6 address";
    return false;
  }
  if (ip.is_v4()) {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&out);
    v4->sin_family = AF_INET;
    v4->sin_port = htons(uint16_t(port));
    std::memcpy(&v4->sin_addr, ip.bytes.data() + 12, 4);
    length = sizeof(sockaddr_in);
  } else {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&out);
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(uint16_t(port));
    std::memcpy(&v6->sin6_addr, ip.bytes.data(), 16);
    length = sizeof(sockaddr_in6);
  }
  return true;
}

}  // namespace wshub::net
