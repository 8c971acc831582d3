// The hub's requests that carry data or ask about others: publish (checked by the namespace's
// rule and, where configured, the publish webhook), rpc (answered by the backend), presence,
// and refresh (a new token without reconnecting).
#include <spdlog/spdlog.h>

#include "base/clock.h"
#include "hub/channel_name.h"
#include "hub/hub.h"
#include "hub/hub_request_support.h"
#include "hub/json_writer.h"

namespace wshub::hub {

namespace {

ErrorCode publish_refusal(const HubConfig& config, const HubSession& s, std::string_view channel,
                          const NamespaceConfig*& ns, std::string& message) {
  ChannelName name;
  if (ChannelNameError bad = parse_channel_name(channel, name); bad != ChannelNameError::none) {
    message = channel_name_error_sentence(bad);
    return ErrorCode::bad_request;
  }
  if (name.kind == ChannelKind::personal_user || name.kind == ChannelKind::personal_device) {
    message = "personal channels are published to by the backend only";
    return ErrorCode::permission_denied;
  }
  if (name.kind == ChannelKind::internal) {
    message = "$admin: channels are published to by the server only";
    return ErrorCode::permission_denied;
  }
  ns = config.find_namespace(name.ns);
  if (!ns) {
    message = "no namespace '" + std::string(name.ns) + "' is configured";
    return ErrorCode::unknown_channel;
  }
  if (name.kind == ChannelKind::user_limited && !name.allows_user(s.identity.user))
    return ErrorCode::permission_denied;
  return ErrorCode(0);
}

// The MidTable key of `mid` sent by `s` with a request of `kind` ('p' publish, 'r' rpc): one
// sender is the connection's user, else its device; "" for an anonymous connection without a
// device (nothing to key it by: its mids are not remembered). The id's length comes first so
// no user, device and mid can spell another's key.
std::string mid_key(const HubSession& s, char kind, std::string_view mid) {
  if (mid.empty()) return {};
  const bool by_user = !s.identity.user.empty();
  const std::string& sender = by_user ? s.identity.user : s.identity.device;
  if (sender.empty()) return {};
  std::string key;
  key.reserve(sender.size() + mid.size() + 16);
  key.push_back(kind);
  key.push_back(by_user ? 'u' : 'd');
  key += std::to_string(sender.size());
  key.push_back(':');
  key += sender;
  key += mid;
  return key;
}

constexpr std::string_view kMidInFlight =
    "a request with this mid is still in progress; retry after its answer";

}  // namespace

void HubWorker::publish(HubSession& s, const Command& c) {
  const NamespaceConfig* ns = nullptr;
  std::string message;
  if (ErrorCode refused = publish_refusal(hub_.config(), s, c.channel, ns, message); refused != ErrorCode(0))
    return answer_error(s, c.id, refused, message);
  if (c.data.size() > hub_.config().limits.max_data_bytes)
    return answer_error(s, c.id, ErrorCode::too_large, "data is larger than hub.max_data_bytes");
  switch (ns->publish) {
    case PublishPolicy::backend:
      return answer_error(s, c.id, ErrorCode::permission_denied,
                          "clients may not publish to this namespace (publish = \"backend\")");
    case PublishPolicy::subscribers:
      if (!subscribed(s, c.channel))
        return answer_error(s, c.id, ErrorCode::permission_denied, "subscribe before publishing here");
      break;
    case PublishPolicy::webhook:
      if (!hub_.has_webhook(BackendEvent::publish))
        return answer_error(s, c.id, ErrorCode::not_available,
                            "the namespace asks a publish webhook and none is configured");
      break;
  }
  if (s.pending_ids.size() >= hub_.config().limits.max_pending_requests)
    return answer_error(s, c.id, ErrorCode::too_many_requests);
  // A mid seen before answers what its first publish got, and nothing is published again.
  std::string key = hub_.mids().enabled() ? mid_key(s, 'p', c.mid) : std::string();
  const int64_t now_wall = wall_ms();
  if (!key.empty()) {
    MidRecord seen;
    switch (hub_.mids().claim(key, now_wall, seen)) {
      case MidTable::Claim::answered: {
        std::string fields;
        JsonWriter(fields).member("off", seen.offset).member("ep", seen.epoch).member("dup", true);
        bump(counters_.mid_duplicates);
        return answer_ok(s, c.id, fields);
      }
      case MidTable::Claim::in_flight: return answer_error(s, c.id, ErrorCode::too_many_requests, kMidInFlight);
      case MidTable::Claim::first: break;
    }
  }
  owe_answer(s, c.id);
  // The mid's entry is settled whether or not the connection is still there for the answer.
  auto place = [this, mid = key, expires = hub_.mids().expiry_for(now_wall)](
                   server::ConnectionRef ref, uint64_t id, std::string_view channel, std::string_view data) {
    hub_.broker().publish(
        index(), Publication{channel, data, wall_ms(), mid, expires},
        std::make_unique<PublishDone<std::function<void(const PublishResult&)>>>(
            [this, ref, id, mid, expires](const PublishResult& result) {
              if (!mid.empty()) {
                if (result.ok) hub_.mids().complete(MidRecord{mid, expires, result.position.epoch, result.position.offset, {}});
                else hub_.mids().release(mid);
              }
              HubRequests::with_live(*this, ref, [&](HubSession& s) {
                if (!result.ok) return settle_answer(s, id, error_text(id, result.error, result.message));
                std::string fields;
                JsonWriter(fields).member("off", result.position.offset).member("ep", result.position.epoch)
                    .member("dup", false);
                settle_answer(s, id, ok_text(id, fields));
              });
            }));
  };
  if (ns->publish != PublishPolicy::webhook) return place(s.ref, c.id, c.channel, c.data);
  std::string body;
  JsonWriter json(body);
  json.begin_object();
  append_webhook_head(json, "publish", s);
  json.member("ch", c.channel).raw_member("data", c.data);
  if (!c.mid.empty()) json.member("mid", c.mid);
  json.end_object();
  hub_.backend()->call(
      index(), BackendEvent::publish, std::move(body),
      callback([this, place, ref = s.ref, id = c.id, channel = std::string(c.channel),
                data = std::string(c.data), mid = std::move(key)](BackendResponse response) {
        bool placed = false;
        HubRequests::with_live(*this, ref, [&](HubSession& s) {
          bool replaced = false;
          std::string rewritten, problem;
          BackendRefusal refusal;
          if (!response.answered || !read_decision_answer(response.body, replaced, rewritten, refusal, problem)) {
            hub_.fault_log().write("hub: publish webhook failed: {}", response.answered ? problem : response.detail);
            return settle_answer(s, id, error_text(id, ErrorCode::backend_unavailable));
          }
          if (refusal.present)
            return settle_answer(s, id, error_text(id, refusal_code(refusal, ErrorCode::permission_denied), refusal.message));
          placed = true;
          place(ref, id, channel, replaced ? rewritten : data);
        });
        // Refused, failed, or the connection went before the decision: a retry may run again.
        if (!placed && !mid.empty()) hub_.mids().release(mid);
      }));
}

void HubWorker::rpc(HubSession& s, const Command& c) {
  if (!hub_.has_webhook(BackendEvent::rpc))
    return answer_error(s, c.id, ErrorCode::not_available, "no rpc webhook is configured");
  if (c.data.size() > hub_.config().limits.max_data_bytes)
    return answer_error(s, c.id, ErrorCode::too_large, "data is larger than hub.max_data_bytes");
  if (s.pending_ids.size() >= hub_.config().limits.max_pending_requests)
    return answer_error(s, c.id, ErrorCode::too_many_requests);
  // A mid seen before answers the data its first call got; the backend is not called again.
  std::string key = hub_.mids().enabled() ? mid_key(s, 'r', c.mid) : std::string();
  const int64_t now_wall = wall_ms();
  if (!key.empty()) {
    MidRecord seen;
    switch (hub_.mids().claim(key, now_wall, seen)) {
      case MidTable::Claim::answered: {
        std::string fields;
        JsonWriter(fields).raw_member("data", seen.data).member("dup", true);
        bump(counters_.mid_duplicates);
        return answer_now(s, c.id, ok_text(c.id, fields));
      }
      case MidTable::Claim::in_flight: return answer_error(s, c.id, ErrorCode::too_many_requests, kMidInFlight);
      case MidTable::Claim::first: break;
    }
  }
  s.pending_ids.push_back(c.id);
  std::string body;
  JsonWriter json(body);
  json.begin_object();
  append_webhook_head(json, "rpc", s);
  json.member("m", c.method).raw_member("data", c.has_data ? c.data : "null");
  if (!c.mid.empty()) json.member("mid", c.mid);
  json.end_object();
  hub_.backend()->call(index(), BackendEvent::rpc, std::move(body),
                       callback([this, ref = s.ref, id = c.id, mid = std::move(key),
                                 expires = hub_.mids().expiry_for(now_wall)](BackendResponse response) {
                         std::string data, problem;
                         BackendRefusal refusal;
                         const bool read = response.answered && read_rpc_answer(response.body, data, refusal, problem);
                         // Only data is remembered: after a refusal or a failure the client's
                         // retry with the same mid asks the backend again.
                         if (!mid.empty()) {
                           if (read && !refusal.present) {
                             MidRecord record{mid, expires, {}, 0, data};
                             hub_.store().remember_mid(record);
                             hub_.mids().complete(std::move(record));
                           } else {
                             hub_.mids().release(mid);
                           }
                         }
                         HubRequests::with_live(*this, ref, [&](HubSession& s) {
                           if (!read) {
                             hub_.fault_log().write("hub: rpc webhook failed: {}",
                                                    response.answered ? problem : response.detail);
                             return answer_now(s, id, error_text(id, ErrorCode::backend_unavailable));
                           }
                           if (refusal.present)
                             return answer_now(s, id, error_text(id, refusal_code(refusal, ErrorCode::internal), refusal.message));
                           std::string fields;
                           JsonWriter(fields).raw_member("data", data);
                           answer_now(s, id, ok_text(id, fields));
                         });
                       }));
}

void HubWorker::presence(HubSession& s, const Command& c) {
  ErrorCode error{};
  std::string message;
  ChannelName name;
  if (ChannelNameError bad = parse_channel_name(c.channel, name); bad != ChannelNameError::none)
    return answer_error(s, c.id, ErrorCode::bad_request, channel_name_error_sentence(bad));
  const NamespaceConfig* ns = hub_.config().find_namespace(name.ns);
  if (!ns) return answer_error(s, c.id, ErrorCode::unknown_channel);
  if (!ns->presence) return answer_error(s, c.id, ErrorCode::not_available, "presence is off in this namespace");
  // Permission to subscribe is enough; where a webhook decides that, a subscription is needed.
  if (!subscribed(s, c.channel) && !check_subscribe(s, c.channel, error, message))
    return answer_error(s, c.id, error == ErrorCode(0) ? ErrorCode::permission_denied : error, message);
  size_t total = 0;
  const std::vector<PresenceEntry> entries =
      hub_.broker().presence(c.channel, hub_.config().limits.max_presence_clients, total);
  std::string fields;
  JsonWriter json(fields);
  json.key("clients").begin_object();
  for (const PresenceEntry& entry : entries) {
    json.key(entry.cid).begin_object().member("user", entry.user).member("device", entry.device);
    if (!entry.info_json.empty()) json.raw_member("info", entry.info_json);
    json.end_object();
  }
  json.end_object().member("total", uint64_t(total));
  answer_ok(s, c.id, fields);
}

void HubWorker::refresh(HubSession& s, const Command& c) {
  const TokenVerifier* verifier = hub_.verifier();
  if (!verifier) return answer_error(s, c.id, ErrorCode::not_available, "tokens are not used here");
  Identity identity;
  TokenCheck check = verifier->verify(c.token, wall_ms(), identity);
  if (!check.ok) return answer_error(s, c.id, check.error, check.reason);
  if (identity.user != s.identity.user || identity.device != s.identity.device)
    return answer_error(s, c.id, ErrorCode::unauthorized, "the new token names another user or device");
  const int64_t now_wall = wall_ms();
  // As at connect: a token already past its exp (a verifier's clock-skew leeway lets some
  // through) is expired; taken, it would make a deadline far in the future.
  if (identity.expires_ms && identity.expires_ms <= now_wall) return answer_error(s, c.id, ErrorCode::token_expired);
  s.identity.expires_ms = identity.expires_ms;
  s.identity.channels = std::move(identity.channels);
  s.expiry_deadline_ms = identity.expires_ms ? now_ms() + uint64_t(identity.expires_ms - now_wall) : 0;
  std::string fields;
  if (identity.expires_ms) JsonWriter(fields).member("exp", identity.expires_ms);
  answer_ok(s, c.id, fields);
  schedule(s);
}

}  // namespace wshub::hub
