// The hub protocol's error codes (answers to requests) and close codes (ends of connections),
// each with the one sentence that explains it (docs/hub-protocol.md §Codes). Close codes from
// 3000 to 3499 tell a client to reconnect; from 3500 to 3999, not to.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string_view>

namespace wshub::hub {

enum class ErrorCode : uint16_t {
  internal = 100,
  unauthorized = 101,
  unknown_channel = 102,
  permission_denied = 103,
  method_not_found = 104,
  already_subscribed = 105,
  limit_exceeded = 106,
  bad_request = 107,
  not_available = 108,
  token_expired = 109,
  too_many_requests = 111,
  unrecoverable_position = 112,
  too_large = 114,
  inbox_full = 115,
  backend_unavailable = 116,
};

// The default message of an error (an answer may carry a more precise one).
std::string_view error_message(ErrorCode code);
// Whether retrying the same request later may succeed (the `retry` field of an answer).
bool error_retryable(ErrorCode code);

enum class HubClose : uint16_t {
  disconnected = 3000,          // the backend or an operator ended the connection
  shutdown = 3001,
  token_expired = 3005,
  slow_consumer = 3008,
  no_pong = 3012,
  resume_window_expired = 3015,
  invalid_token = 3500,
  bad_request = 3501,
  connection_limit = 3503,
  replaced = 3520,              // a newer connection of the same device took over
  forbidden = 3502,             // the backend refused the connection for good
};

inline constexpr HubClose kAllHubCloses[] = {
    HubClose::disconnected,  HubClose::shutdown,    HubClose::token_expired,
    HubClose::slow_consumer, HubClose::no_pong,     HubClose::resume_window_expired,
    HubClose::invalid_token, HubClose::bad_request, HubClose::forbidden,
    HubClose::connection_limit, HubClose::replaced};
// The position of `code` in kAllHubCloses (for counters).
constexpr size_t hub_close_index(HubClose code) {
  for (size_t i = 0; i < std::size(kAllHubCloses); ++i)
    if (kAllHubCloses[i] == code) return i;
  return 0;
}

std::string_view close_reason(HubClose code);
constexpr bool close_means_reconnect(uint16_t code) {
  return (code >= 3000 && code < 3500) || (code >= 4000 && code < 4500);
}

}  // namespace wshub::hub
