// Who a connection is: what a token or the connect webhook says. The token check is an
// interface so the hub does not know how tokens are verified (hub/jwt.* implements it).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hub/codes.h"

namespace wshub::hub {

struct Identity {
  std::string user;                   // `sub`; "" for an anonymous connection
  std::string device;                 // "" when the connection has no device (and no inbox)
  std::vector<std::string> channels;  // the token's `channels` claim: may subscribe to these
  std::string info_json;              // the `info` object, raw JSON; "" when none
  int64_t expires_ms = 0;             // when the token expires (ms since the epoch); 0: never
};

struct TokenCheck {
  bool ok = false;
  ErrorCode error = ErrorCode::unauthorized;  // unauthorized (close 3500) or token_expired (3005)
  std::string reason;                         // a sentence for the log and the answer's msg
};

class TokenVerifier {
 public:
  virtual ~TokenVerifier() = default;
  // `now_ms` is wall-clock time (ms since the epoch).
  virtual TokenCheck verify(std::string_view token, int64_t now_ms, Identity& identity) const = 0;
};

// Whether `identity`'s token lists `channel`: exactly, or by a prefix ending in '*'.
bool token_allows_channel(const Identity& identity, std::string_view channel);

}  // namespace wshub::hub
