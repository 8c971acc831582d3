#include "hub/codes.h"

namespace wshub::hub {

std::string_view error_message(ErrorCode code) {
  switch (code) {
    case ErrorCode::internal: return "internal server error";
    case ErrorCode::unauthorized: return "unauthorized";
    case ErrorCode::unknown_channel: return "unknown channel";
    case ErrorCode::permission_denied: return "permission denied";
    case ErrorCode::method_not_found: return "method not found";
    case ErrorCode::already_subscribed: return "already subscribed";
    case ErrorCode::limit_exceeded: return "limit exceeded";
    case ErrorCode::bad_request: return "bad request";
    case ErrorCode::not_available: return "not available";
    case ErrorCode::token_expired: return "token expired";
    case ErrorCode::too_many_requests: return "too many requests";
    case ErrorCode::unrecoverable_position: return "unrecoverable position";
    case ErrorCode::too_large: return "too large";
    case ErrorCode::inbox_full: return "inbox full";
    case ErrorCode::backend_unavailable: return "backend unavailable";
  }
  return "error";
}

bool error_retryable(ErrorCode code) {
  switch (code) {
    case ErrorCode::internal:
    case ErrorCode::too_many_requests:
    case ErrorCode::inbox_full:
    case ErrorCode::backend_unavailable: return true;
    default: return false;
  }
}

std::string_view close_reason(HubClose code) {
  switch (code) {
    case HubClose::disconnected: return "disconnected by the server";
    case HubClose::shutdown: return "server shutting down";
    case HubClose::token_expired: return "token expired";
    case HubClose::slow_consumer: return "slow consumer: the client does not read fast enough";
    case HubClose::no_pong: return "no pong: the client did not answer the heartbeat";
    case HubClose::resume_window_expired: return "resume window expired";
    case HubClose::invalid_token: return "invalid token";
    case HubClose::bad_request: return "bad request";
    case HubClose::connection_limit: return "connection limit reached";
    case HubClose::replaced: return "replaced by a newer connection of the same device";
    case HubClose::forbidden: return "refused by the backend";
  }
  return "closed";
}

}  // namespace wshub::hub
