#include "api/admin_sessions.h"

#include <openssl/rand.h>

#include <algorithm>

namespace wshub::api {

std::string AdminSessions::open(uint64_t now_ms) {
  std::array<uint8_t, 32> random{};
  if (RAND_bytes(random.data(), int(random.size())) != 1) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string token;
  token.reserve(random.size() * 2);
  for (uint8_t byte : random) {
    token.push_back(kHex[byte >> 4]);
    token.push_back(kHex[byte & 15]);
  }
  std::lock_guard lock(mutex_);
  drop_expired_locked(now_ms);
  if (sessions_.size() >= kMaxSessions) {
    auto soonest = std::min_element(sessions_.begin(), sessions_.end(),
                                    [](const Session& a, const Session& b) { return a.expires_ms < b.expires_ms; });
    sessions_.erase(soonest);
  }
  sessions_.push_back({secret_digest(token), now_ms + lifetime_ms_});
  return token;
}

bool AdminSessions::valid(std::string_view token, uint64_t now_ms) {
  if (token.empty()) return false;
  const SecretDigest digest = secret_digest(token);
  std::lock_guard lock(mutex_);
  drop_expired_locked(now_ms);
  bool found = false;
  // Every entry is compared, so the time taken says nothing about which one matched.
  for (const Session& session : sessions_)
    found |= same_digest(session.digest, digest);
  return found;
}

void AdminSessions::close(std::string_view token) {
  const SecretDigest digest = secret_digest(token);
  std::lock_guard lock(mutex_);
  std::erase_if(sessions_, [&](const Session& s) { return same_digest(s.digest, digest); });
}

size_t AdminSessions::size() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

void AdminSessions::drop_expired_locked(uint64_t now_ms) {
  std::erase_if(sessions_, [now_ms](const Session& s) { return s.expires_ms <= now_ms; });
}

std::string AdminSessions::set_cookie_line(std::string_view token) const {
  // Path=/admin: the cookie goes to the admin page's own requests, never to /api/ (which
  // takes the key only). No Secure attribute: the API listener is plain HTTP; behind a TLS
  // proxy the browser still keeps it to this site by SameSite=Strict.
  std::string line = "Set-Cookie: " + std::string(kCookieName) + "=" + std::string(token) +
                     "; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=";
  line += token.empty() ? "0" : std::to_string(lifetime_ms_ / 1000);
  line += "\r\n";
  return line;
}

bool cookie_value(std::string_view header, std::string_view name, std::string_view& value) {
  while (!header.empty()) {
    const size_t semicolon = header.find(';');
    std::string_view pair = header.substr(0, semicolon);
    header = semicolon == std::string_view::npos ? std::string_view{} : header.substr(semicolon + 1);
    while (!pair.empty() && (pair.front() == ' ' || pair.front() == '\t')) pair.remove_prefix(1);
    while (!pair.empty() && (pair.back() == ' ' || pair.back() == '\t')) pair.remove_suffix(1);
    const size_t eq = pair.find('=');
    if (eq == std::string_view::npos || pair.substr(0, eq) != name) continue;
    value = pair.substr(eq + 1);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    return true;
  }
  return false;
}

}  // namespace wshub::api
