// The --source-ips option: loopback source addresses the load generator binds its sockets to
// before connect, round-robin. Each source address has its own ephemeral port range (ports
// 32768-60999 by default, about 28,000 connections to one server port), so eight of them
// allow 200,000. Pure parsing; no sockets here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace wshub::load {

// Parses a comma-separated list of IPv4 addresses and inclusive ranges, for example
// "127.0.0.1-127.0.0.8" or "127.0.0.1,127.0.0.5-127.0.0.6". Every address must be in
// 127.0.0.0/8, because the tool only ever talks to loopback. Appends the addresses, in
// host byte order, to `out`; at most kMaxSourceIps in all.
bool parse_source_ips(std::string_view text, std::vector<uint32_t>& out, std::string& why);

constexpr size_t kMaxSourceIps = 65536;

// Dotted-quad parsing and printing, host byte order.
bool parse_ipv4(std::string_view text, uint32_t& address);
std::string format_ipv4(uint32_t address);

}  // namespace wshub::load
