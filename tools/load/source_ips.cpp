#include "source_ips.h"

#include <charconv>

namespace wshub::load {

namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

bool is_loopback_v4(uint32_t address) { return (address >> 24) == 127; }

}  // namespace

bool parse_ipv4(std::string_view text, uint32_t& address) {
  uint32_t result = 0;
  const char* p = text.data();
  const char* end = text.data() + text.size();
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (p == end || *p != '.') return false;
      ++p;
    }
    // Leading zeros are refused: "010" means octal to inet_aton, which surprises people.
    if (p == end || *p < '0' || *p > '9' || (*p == '0' && p + 1 != end && p[1] >= '0' && p[1] <= '9'))
      return false;
    unsigned value = 0;
    const auto [next, ec] = std::from_chars(p, end, value);
    if (ec != std::errc() || value > 255) return false;
    p = next;
    result = result << 8 | value;
  }
  if (p != end) return false;
  address = result;
  return true;
}

std::string format_ipv4(uint32_t address) {
  return std::to_string(address >> 24) + "." + std::to_string((address >> 16) & 255) + "." +
         std::to_string((address >> 8) & 255) + "." + std::to_string(address & 255);
}

bool parse_source_ips(std::string_view text, std::vector<uint32_t>& out, std::string& why) {
  if (trim(text).empty()) {
    why = "--source-ips is empty; give addresses like 127.0.0.1-127.0.0.8";
    return false;
  }
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    const std::string_view item = trim(text.substr(start, comma - start));
    start = comma + 1;
    const size_t dash = item.find('-');
    const std::string_view first_text = trim(item.substr(0, dash));
    const std::string_view last_text =
        dash == std::string_view::npos ? first_text : trim(item.substr(dash + 1));
    uint32_t first = 0;
    uint32_t last = 0;
    if (!parse_ipv4(first_text, first) || !parse_ipv4(last_text, last)) {
      why = "--source-ips: '" + std::string(item) +
            "' is not an IPv4 address or range (example: 127.0.0.1-127.0.0.8)";
      return false;
    }
    if (!is_loopback_v4(first) || !is_loopback_v4(last)) {
      why = "--source-ips: '" + std::string(item) +
            "' is outside 127.0.0.0/8; only loopback source addresses are allowed";
      return false;
    }
    if (last < first) {
      why = "--source-ips: range '" + std::string(item) + "' ends before it starts";
      return false;
    }
    if (uint64_t(last - first) + 1 + out.size() > kMaxSourceIps) {
      why = "--source-ips: more than " + std::to_string(kMaxSourceIps) + " addresses";
      return false;
    }
    for (uint64_t address = first; address <= last; ++address) out.push_back(uint32_t(address));
    if (comma == text.size()) break;
  }
  return true;
}

}  // namespace wshub::load
