#include "ws_url.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace wshub::load {

namespace {

bool starts_with_ignore_case(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

}  // namespace

bool parse_ws_url(std::string_view text, WsUrl& url, std::string& why) {
  url = WsUrl{};
  if (starts_with_ignore_case(text, "ws://")) {
    text.remove_prefix(5);
  } else if (starts_with_ignore_case(text, "wss://")) {
    url.secure = true;
    text.remove_prefix(6);
  } else {
    why = "the URL must start with ws:// or wss:// (example: ws://127.0.0.1:8077/echo)";
    return false;
  }
  if (text.find('#') != std::string_view::npos) {
    why = "WebSocket URLs cannot have a #fragment (RFC 6455 §3)";
    return false;
  }
  size_t authority_end = text.find_first_of("/?");
  if (authority_end == std::string_view::npos) authority_end = text.size();
  const std::string_view authority = text.substr(0, authority_end);
  std::string_view target = text.substr(authority_end);
  if (authority.find('@') != std::string_view::npos) {
    why = "user:password@ in the URL is not supported";
    return false;
  }
  std::string_view host;
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      why = "unterminated [IPv6] literal in the URL";
      return false;
    }
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        why = "unexpected text after ']' in the URL";
        return false;
      }
      port_text = after.substr(1);
      if (port_text.empty()) {
        why = "empty port after ':' in the URL";
        return false;
      }
    }
  } else {
    const size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) {
        why = "empty port after ':' in the URL";
        return false;
      }
    }
  }
  if (host.empty()) {
    why = "the URL has no host";
    return false;
  }
  url.port = url.secure ? 443 : 80;
  if (!port_text.empty()) {
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 || port > 65535) {
      why = "bad port '" + std::string(port_text) + "' in the URL (1-65535)";
      return false;
    }
    url.port = uint16_t(port);
  }
  url.host = std::string(host);
  url.host_header = std::string(authority);
  url.target = target.empty() ? "/" : std::string(target);
  if (url.target.front() == '?') url.target.insert(0, "/");
  return true;
}

bool is_loopback_address(const sockaddr* address) {
  if (address->sa_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
    return (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
  }
  if (address->sa_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
    if (IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr)) return true;
    // ::ffff:127.x.y.z is IPv4 loopback written as IPv6.
    return IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr) && v6->sin6_addr.s6_addr[12] == 127;
  }
  return false;
}

bool resolve_loopback_target(const WsUrl& url, TargetAddress& target, std::string& why) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_family = AF_UNSPEC;
  addrinfo* results = nullptr;
  const std::string port = std::to_string(url.port);
  const int rc = getaddrinfo(url.host.c_str(), port.c_str(), &hints, &results);
  if (rc != 0) {
    why = "cannot resolve '" + url.host + "': " + gai_strerror(rc);
    return false;
  }
  const addrinfo* chosen = nullptr;
  for (const addrinfo* ai = results; ai; ai = ai->ai_next) {
    if (ai->ai_family == AF_INET) {
      chosen = ai;
      break;
    }
    if (!chosen && ai->ai_family == AF_INET6) chosen = ai;
  }
  bool ok = false;
  if (!chosen) {
    why = "'" + url.host + "' has no IPv4 or IPv6 address";
  } else if (!is_loopback_address(chosen->ai_addr)) {
    char text[INET6_ADDRSTRLEN] = "?";
    const void* raw = chosen->ai_family == AF_INET
                          ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(chosen->ai_addr)->sin_addr)
                          : static_cast<const void*>(&reinterpret_cast<const sockaddr_in6*>(chosen->ai_addr)->sin6_addr);
    inet_ntop(chosen->ai_family, raw, text, sizeof text);
    why = "refusing to load '" + url.host + "' (" + text +
          "): wshub-load only targets loopback (127.0.0.0/8 or ::1), so it cannot be pointed "
          "at someone else's server. Run it on the server's machine against 127.0.0.1.";
  } else {
    std::memcpy(&target.address, chosen->ai_addr, chosen->ai_addrlen);
    target.length = socklen_t(chosen->ai_addrlen);
    ok = true;
  }
  freeaddrinfo(results);
  return ok;
}

}  // namespace wshub::load
