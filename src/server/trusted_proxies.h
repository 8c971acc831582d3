// Which TCP peers are proxies whose X-Forwarded-For / X-Real-IP headers are believed, and the
// client address those headers name. Pure functions over addresses and header values; the
// worker applies them once per request head.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "net/peer_address.h"
#include "proto/http_head.h"

namespace wshub::server {

// An address block: "10.0.0.0/8", "fd00::/8", or one address ("127.0.0.1" is 127.0.0.1/32).
struct IpNetwork {
  net::IpAddress base;       // host bits zero; IPv4 as IPv4-mapped IPv6
  uint8_t prefix_bits = 0;   // of the 128-bit form (an IPv4 /8 is 96 + 8)
  bool contains(const net::IpAddress& ip) const;
};

// Parses `text`; false with `why` (a sentence) when it is not an address or block, or when
// host bits are set ("10.0.0.1/8": the fix is 10.0.0.0/8).
bool parse_ip_network(std::string_view text, IpNetwork& out, std::string& why);

class TrustedProxies {
 public:
  TrustedProxies() = default;
  explicit TrustedProxies(std::vector<IpNetwork> networks) : networks_(std::move(networks)) {}
  bool empty() const { return networks_.empty(); }
  bool contains(const net::IpAddress& ip) const;
  const std::vector<IpNetwork>& networks() const { return networks_; }

 private:
  std::vector<IpNetwork> networks_;
};

// One address from a forwarding header: "1.2.3.4", "1.2.3.4:5678", "::1", "[::1]:5678";
// also the quoted and obfuscated forms are refused. False when it is none of those.
bool parse_forwarded_address(std::string_view text, net::IpAddress& out);

// The client named by X-Forwarded-For header values (in header order, each a comma list):
// walking from the right, trusted proxies are skipped and the first other address is the
// client; if every entry is trusted, the left-most is. An entry that is not an address ends
// the walk with no answer (false), because what lies left of it cannot be checked.
bool select_forwarded_for(std::span<const std::string_view> values, const TrustedProxies& trusted,
                          net::IpAddress& out);

// For a request from a trusted proxy: the client per X-Forwarded-For, else X-Real-IP.
// False when neither header gives a usable address (then the TCP peer stays the client).
bool forwarded_client(const proto::HttpRequestHead& head, const TrustedProxies& trusted,
                      net::IpAddress& out);

}  // namespace wshub::server
