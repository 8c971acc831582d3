// Sessions of the admin page: a login with the API key gets a random token kept here (as its
// SHA-256, compared in constant time) and sent back as an HttpOnly, SameSite=Strict cookie.
// In memory only: a restart logs everyone out. Bounded: past kMaxSessions the session closest
// to its end is dropped. Knows nothing about HTTP beyond the cookie's name and attributes.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "api/secret_digest.h"

namespace wshub::api {

class AdminSessions {
 public:
  static constexpr size_t kMaxSessions = 64;
  static constexpr std::string_view kCookieName = "wshub_admin";

  explicit AdminSessions(uint64_t lifetime_ms = 8 * 3600 * 1000) : lifetime_ms_(lifetime_ms) {}

  // A new session valid until `now_ms` + the lifetime: its token, 64 hex digits from 32 random
  // bytes (OpenSSL's RAND_bytes). Empty when the random generator fails. Any thread.
  std::string open(uint64_t now_ms);
  // Whether `token` names a session that has not expired at `now_ms`. Any thread.
  bool valid(std::string_view token, uint64_t now_ms);
  // Ends the session `token` names, if any (logout).
  void close(std::string_view token);
  size_t size() const;
  uint64_t lifetime_ms() const { return lifetime_ms_; }

  // The Set-Cookie header line (with CRLF) that gives `token` to the browser; an empty token
  // writes one that deletes the cookie.
  std::string set_cookie_line(std::string_view token) const;

 private:
  struct Session {
    SecretDigest digest{};
    uint64_t expires_ms = 0;
  };
  void drop_expired_locked(uint64_t now_ms);

  uint64_t lifetime_ms_;
  mutable std::mutex mutex_;  // logins and page requests only: a handful a second at most
  std::vector<Session> sessions_;
};

// The value of cookie `name` in a Cookie header's value ("a=1; b=2"); false when absent.
bool cookie_value(std::string_view header, std::string_view name, std::string_view& value);

}  // namespace wshub::api
