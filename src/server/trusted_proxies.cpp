#include "server/trusted_proxies.h"

#include <charconv>

namespace wshub::server {

namespace {

bool prefix_equal(const net::IpAddress& a, const net::IpAddress& b, unsigned bits) {
  const unsigned whole = bits / 8;
  for (unsigned i = 0; i < whole; ++i)
    if (a.bytes[i] != b.bytes[i]) return false;
  const unsigned rest = bits % 8;
  if (rest == 0) return true;
  const uint8_t mask = uint8_t(0xFF << (8 - rest));
  return (a.bytes[whole] & mask) == (b.bytes[whole] & mask);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

bool IpNetwork::contains(const net::IpAddress& ip) const { return prefix_equal(ip, base, prefix_bits); }

bool parse_ip_network(std::string_view text, IpNetwork& out, std::string& why) {
  const size_t slash = text.find('/');
  const std::string_view address = text.substr(0, slash);
  if (!net::IpAddress::parse(address, out.base)) {
    why = "'" + std::string(address) + "' is not an IPv4 or IPv6 address";
    return false;
  }
  const unsigned width = out.base.is_v4() ? 32 : 128;
  unsigned bits = width;
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), bits);
    if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty() || bits > width) {
      why = "the prefix length after '/' must be a number from 0 to " + std::to_string(width);
      return false;
    }
  }
  out.prefix_bits = uint8_t(bits + (width == 32 ? 96 : 0));
  // Host bits must be zero: "10.0.0.1/8" is more likely a typo than a wish for 10.0.0.0/8.
  net::IpAddress masked{};
  for (unsigned i = 0; i < 16; ++i) {
    const unsigned bit_index = i * 8;
    if (bit_index + 8 <= out.prefix_bits) masked.bytes[i] = out.base.bytes[i];
    else if (bit_index < out.prefix_bits)
      masked.bytes[i] = uint8_t(out.base.bytes[i] & (0xFF << (8 - (out.prefix_bits - bit_index))));
  }
  if (!(masked == out.base)) {
    why = "'" + std::string(text) + "' has bits set after the prefix; write " +
          masked.to_string() + "/" + std::to_string(bits);
    return false;
  }
  return true;
}

bool TrustedProxies::contains(const net::IpAddress& ip) const {
  for (const IpNetwork& network : networks_)
    if (network.contains(ip)) return true;
  return false;
}

bool parse_forwarded_address(std::string_view text, net::IpAddress& out) {
  text = trim(text);
  if (text.empty()) return false;
  if (text.front() == '[') {  // "[v6]" or "[v6]:port"
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return false;
    return net::IpAddress::parse(text.substr(1, close - 1), out);
  }
  if (net::IpAddress::parse(text, out)) return true;
  // "1.2.3.4:5678": an IPv4 address with a port (a bare IPv6 address has several colons).
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos || text.find(':', colon + 1) != std::string_view::npos) return false;
  if (!net::IpAddress::parse(text.substr(0, colon), out)) return false;
  return out.is_v4();
}

bool select_forwarded_for(std::span<const std::string_view> values, const TrustedProxies& trusted,
                          net::IpAddress& out) {
  bool any = false;
  for (size_t v = values.size(); v-- > 0;) {
    std::string_view list = values[v];
    for (;;) {
      const size_t comma = list.rfind(',');
      const std::string_view entry = trim(comma == std::string_view::npos ? list : list.substr(comma + 1));
      if (!entry.empty()) {
        net::IpAddress ip;
        if (!parse_forwarded_address(entry, ip)) return false;
        out = ip;
        any = true;
        if (!trusted.contains(ip)) return true;
      }
      if (comma == std::string_view::npos) break;
      list = list.substr(0, comma);
    }
  }
  return any;  // every entry was a trusted proxy: `out` holds the left-most
}

bool forwarded_client(const proto::HttpRequestHead& head, const TrustedProxies& trusted,
                      net::IpAddress& out) {
  std::string_view values[8];
  size_t count = 0;
  for (uint32_t i = 0; i < head.header_count; ++i) {
    if (!proto::equals_ignore_case(head.headers[i].name, "X-Forwarded-For")) continue;
    if (count == std::size(values)) return false;  // more hops than any real chain: ignore all
    values[count++] = head.headers[i].value;
  }
  if (count && select_forwarded_for({values, count}, trusted, out)) return true;
  const proto::HttpHeader* real_ip = head.find("X-Real-IP");
  return real_ip && parse_forwarded_address(real_ip->value, out);
}

}  // namespace wshub::server
