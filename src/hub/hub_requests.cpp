// The hub's requests: connect, subscribe, unsubscribe, publish, rpc, presence, refresh. Each
// checks its input and permission, asks the backend where the config says so, and answers.
#include <spdlog/spdlog.h>

#include "base/clock.h"
#include "hub/backend_answers.h"
#include "hub/channel_name.h"
#include "hub/hub.h"
#include "hub/hub_worker.h"
#include "hub/hub_request_support.h"
#include "hub/json_writer.h"

namespace wshub::hub {

server::UpgradeVerdict HubWorker::upgrade(const server::UpgradeRequest& request) {
  if (!hub_.config().connect_at_upgrade || !hub_.has_webhook(BackendEvent::connect))
    return server::UpgradeVerdict::accept();
  // The backend decides from what the browser sends by itself: its cookies, or an
  // Authorization header a native client set.
  std::string body;
  JsonWriter json(body);
  json.begin_object().member("type", "connect").member("stage", "upgrade")
      .member("ip", request.client.to_string()).member("path", request.head.path());
  json.key("headers").begin_object();
  for (std::string_view name : {"Cookie", "Authorization", "Origin", "User-Agent"})
    if (const proto::HttpHeader* header = request.head.find(name)) json.member(name, header->value);
  json.end_object().end_object();
  hub_.backend()->call(
      index(), BackendEvent::connect, std::move(body),
      callback([this, ref = request.ref](BackendResponse response) {
        if (!ref.alive()) return;
        Identity identity;
        BackendRefusal refusal;
        std::string problem;
        if (!response.answered || !read_connect_answer(response.body, identity, refusal, problem)) {
          hub_.fault_log().write("hub: connect webhook at upgrade failed: {}",
                                 response.answered ? problem : response.detail);
          bump(counters_.backend_unavailable);
          host_.finish_upgrade(ref, server::UpgradeVerdict::refuse(
                                        503, "The backend that checks connections is unavailable; retry later.\n"));
          return;
        }
        if (refusal.present) {
          host_.finish_upgrade(ref, server::UpgradeVerdict::refuse(
                                        403, (refusal.message.empty() ? std::string("refused by the backend")
                                                                      : refusal.message) + "\n"));
          return;
        }
        upgraded_[ref.connection] = {ref.generation, std::move(identity)};
        if (!host_.finish_upgrade(ref, server::UpgradeVerdict::accept())) upgraded_.erase(ref.connection);
      }));
  return server::UpgradeVerdict::defer();
}

void HubWorker::connect(HubSession& s, const Command& c) {
  if (s.stage != SessionStage::awaiting_connect)
    return answer_error(s, c.id, ErrorCode::bad_request, "already connected");
  // The client's inbox cursor (`inbox {ep, acked}`; `{}` on a first connect).
  if (c.has_inbox && c.since.present) {
    s.inbox.client_epoch = std::string(c.since.epoch);
    s.inbox.client_acked = c.since.offset;
  }
  if (s.identified_at_upgrade) return finish_connect(s, c.id, s.identity, std::string(c.subs_json));
  const TokenVerifier* verifier = hub_.verifier();
  if (!c.token.empty() && verifier) {
    Identity identity;
    TokenCheck check = verifier->verify(c.token, wall_ms(), identity);
    if (!check.ok) {
      hub_.fault_log().write_at(spdlog::level::debug, "hub {}: connect refused: {}", s.cid, check.reason);
      answer_error(s, c.id, check.error, check.reason);
      return end_session(s, check.error == ErrorCode::token_expired ? HubClose::token_expired
                                                                    : HubClose::invalid_token,
                         check.reason);
    }
    return finish_connect(s, c.id, std::move(identity), std::string(c.subs_json));
  }
  if (hub_.has_webhook(BackendEvent::connect)) {
    s.stage = SessionStage::connecting;
    owe_answer(s, c.id);
    std::string body;
    JsonWriter json(body);
    json.begin_object().member("type", "connect").member("cid", s.cid).member("token", c.token);
    if (!c.client_json.empty()) json.raw_member("client", c.client_json);
    json.end_object();
    hub_.backend()->call(index(), BackendEvent::connect, std::move(body),
                         callback([this, ref = s.ref, id = c.id, subs = std::string(c.subs_json)](
                                      BackendResponse response) mutable {
                           HubRequests::with_live(*this, ref, [&](HubSession& s) {
                             if (s.stage != SessionStage::connecting) return;
                             s.stage = SessionStage::awaiting_connect;
                             Identity identity;
                             BackendRefusal refusal;
                             std::string problem;
                             if (!response.answered ||
                                 !read_connect_answer(response.body, identity, refusal, problem)) {
                               hub_.fault_log().write("hub: connect webhook failed: {}",
                                                      response.answered ? problem : response.detail);
                               answer_error(s, id, ErrorCode::backend_unavailable);
                               return end_session(s, HubClose::disconnected, "backend unavailable");
                             }
                             if (refusal.present) {
                               answer_error(s, id, refusal_code(refusal, ErrorCode::unauthorized), refusal.message);
                               return end_session(s, HubClose::forbidden, refusal.message);
                             }
                             finish_connect(s, id, std::move(identity), std::move(subs));
                           });
                         }));
    return;
  }
  if (c.token.empty() && hub_.config().allow_anonymous)
    return finish_connect(s, c.id, Identity{}, std::string(c.subs_json));
  const char* why = verifier ? "a token is required" : "no way to check identities is configured (set [hub.jwt] or a connect webhook)";
  answer_error(s, c.id, ErrorCode::unauthorized, why);
  end_session(s, HubClose::invalid_token, why);
}

void HubWorker::finish_connect(HubSession& s, uint64_t id, Identity identity, std::string subs_json) {
  const int64_t now_wall = wall_ms();
  if (identity.expires_ms && identity.expires_ms <= now_wall) {
    answer_error(s, id, ErrorCode::token_expired);
    return end_session(s, HubClose::token_expired);
  }
  if (identity.info_json.size() > hub_.config().limits.max_info_bytes) {
    answer_error(s, id, ErrorCode::too_large, "info is larger than limits allow");
    return end_session(s, HubClose::bad_request);
  }
  std::vector<SubsEntry> subs;
  std::string problem;
  if (!read_connect_subs(subs_json, hub_.config().limits.max_subscriptions, subs, problem)) {
    answer_error(s, id, ErrorCode::bad_request, problem);
    return end_session(s, HubClose::bad_request);
  }
  s.identity = std::move(identity);
  s.stage = SessionStage::connected;
  s.connected_ms = now_wall;
  s.connect_sequence = hub_.next_connect_sequence();
  bump(counters_.connected);
  if (!s.identity.user.empty()) by_user_.emplace(s.identity.user, &s);
  if (!s.identity.device.empty()) {
    by_device_.emplace(s.identity.device, &s);
    // One connection per device: an older one elsewhere is replaced (it shares the inbox).
    hub_.for_each_worker(index(), [device = s.identity.device, sequence = s.connect_sequence](HubWorker& worker) {
      return worker.replace_device(device, sequence);
    }, [](size_t) {});
  }
  // Entries of `subs` that resume from history answer once their pages are read: connect's
  // answer waits for them, and every subscription it makes holds its live pushes until that
  // answer is sent (a client learns each channel's position before its first `pub`).
  bool resumes = false;
  for (const SubsEntry& entry : subs) resumes |= entry.has_since && hub_.broker().keeps_history(entry.channel);
  // A device's inbox is opened by the store's writer: the answer waits for it likewise.
  const bool has_inbox = !s.identity.device.empty() && hub_.inbox();
  const bool waits = resumes || has_inbox;
  if (waits) {
    bool owed = false;
    for (const OwedAnswer& answer : s.owed) owed |= answer.id == id;
    if (!owed) owe_answer(s, id);
    for (OwedAnswer& answer : s.owed)
      if (answer.id == id) answer.releases_held = true;
  }
  ChannelPosition ignored;
  if (hub_.config().personal_channels) {
    // Only ids that make valid channel names get a personal channel: the API could not
    // publish to the others (docs/hub-protocol.md, Personal channels).
    ChannelName name;
    for (std::string channel : {"$user:" + s.identity.user, "$device:" + s.identity.device}) {
      if (channel.back() == ':') continue;
      if (parse_channel_name(channel, name) == ChannelNameError::none) {
        add_subscription(s, channel, ignored);
        if (waits) hold_last_subscription(s, id);
      } else {
        hub_.fault_log().write_at(spdlog::level::debug, "hub {}: no personal channel {:?}: not a valid channel name",
                                  s.cid, std::string_view(channel).substr(0, 80));
      }
    }
  }
  auto answer = std::make_shared<ConnectAnswer>();
  JsonWriter json(answer->head);
  json.member("cid", s.cid).member("user", s.identity.user).member("device", s.identity.device);
  json.key("hb").begin_object().member("iv", s.params->ping_interval_ms)
      .member("to", s.params->pong_timeout_ms).end_object();
  if (s.identity.expires_ms) json.member("exp", s.identity.expires_ms);
  answer->entries.resize(subs.size());
  answer->pending = 1;  // released after the loop, so an answer read at once cannot finish it early
  for (size_t i = 0; i < subs.size(); ++i) {
    const SubsEntry& entry = subs[i];
    ErrorCode error{};
    std::string message;
    if (!check_subscribe(s, entry.channel, error, message)) {
      // A namespace whose webhook decides is subscribed with its own request after connect.
      if (error == ErrorCode(0)) error = ErrorCode::not_available;
      answer->set(i, entry.channel, error, message.empty() ? std::string(error_message(error)) : message);
      continue;
    }
    if (!(entry.has_since && hub_.broker().keeps_history(entry.channel))) {
      answer->set(i, entry.channel, ErrorCode(0), subscribed_fields(s, entry.channel, entry.has_since, entry.epoch,
                                                                    entry.offset));
      if (waits) hold_last_subscription(s, id);
      continue;
    }
    ++answer->pending;
    resume_subscription(s, id, entry.channel, entry.epoch, entry.offset,
                        [this, answer, i, id, channel = entry.channel](HubSession& s, ErrorCode error, std::string text) {
                          answer->set(i, channel, error, std::move(text));
                          if (--answer->pending == 0) {
                            settle_answer(s, id, ok_text(id, answer->fields()));
                            inbox_start(s);
                          }
                        });
  }
  if (has_inbox) {
    ++answer->pending;
    inbox_open(s, [this, answer, id](HubSession& s, std::string inbox) {
      answer->inbox = std::move(inbox);
      if (--answer->pending == 0) {
        settle_answer(s, id, ok_text(id, answer->fields()));
        inbox_start(s);
      }
    });
  }
  const uint64_t now = now_ms();
  s.next_ping_ms = now + s.params->ping_interval_ms;
  s.expiry_deadline_ms = s.identity.expires_ms ? now + uint64_t(s.identity.expires_ms - now_wall) : 0;
  if (--answer->pending == 0) {
    answer_ok(s, id, answer->fields());
    inbox_start(s);
  }
  schedule(s);
  run_held_requests(s);
}

size_t HubWorker::replace_device(std::string_view device, uint64_t sequence) {
  std::vector<server::ConnectionRef> older;
  auto [first, end] = by_device_.equal_range(device);
  for (auto it = first; it != end; ++it)
    if (it->second->connect_sequence < sequence) older.push_back(it->second->ref);
  for (server::ConnectionRef ref : older)
    HubRequests::with_live(*this, ref, [&](HubSession& s) { end_session(s, HubClose::replaced); });
  return older.size();
}

// Whether `s` may subscribe to `channel` without asking the backend. False with `error` set
// when it may not; false with `error` 0 when the namespace's webhook must decide.
bool HubWorker::check_subscribe(const HubSession& s, std::string_view channel, ErrorCode& error,
                                std::string& message) {
  error = ErrorCode(0);
  ChannelName name;
  if (ChannelNameError bad = parse_channel_name(channel, name); bad != ChannelNameError::none) {
    error = ErrorCode::bad_request;
    message = channel_name_error_sentence(bad);
    return false;
  }
  if (subscribed(s, channel)) {
    error = ErrorCode::already_subscribed;
    return false;
  }
  if (s.subscriptions.size() >= hub_.config().limits.max_subscriptions) {
    error = ErrorCode::limit_exceeded;
    message = "too many subscriptions for one connection (hub.max_subscriptions)";
    return false;
  }
  switch (name.kind) {
    case ChannelKind::personal_user:
      if (s.identity.user.empty() || name.base != s.identity.user) error = ErrorCode::permission_denied;
      return error == ErrorCode(0);
    case ChannelKind::personal_device:
      if (s.identity.device.empty() || name.base != s.identity.device) error = ErrorCode::permission_denied;
      return error == ErrorCode(0);
    case ChannelKind::internal: {
      // The server's own channels: named exactly in the token (a wildcard such as "*" that a
      // backend gives its users must not reach them); the admin page mints such a token.
      bool listed = false;
      for (const std::string& allowed : s.identity.channels) listed = listed || allowed == channel;
      if (!listed) error = ErrorCode::permission_denied;
      return error == ErrorCode(0);
    }
    default: break;
  }
  const NamespaceConfig* ns = hub_.config().find_namespace(name.ns);
  if (!ns) {
    error = ErrorCode::unknown_channel;
    message = "no namespace '" + std::string(name.ns) + "' is configured";
    return false;
  }
  if (name.kind == ChannelKind::user_limited) {
    if (!name.allows_user(s.identity.user)) error = ErrorCode::permission_denied;
    return error == ErrorCode(0);
  }
  switch (ns->subscribe) {
    case SubscribePolicy::anyone: return true;
    case SubscribePolicy::authenticated:
      if (s.identity.user.empty()) error = ErrorCode::permission_denied;
      break;
    case SubscribePolicy::token:
      if (!token_allows_channel(s.identity, channel)) error = ErrorCode::permission_denied;
      break;
    case SubscribePolicy::webhook:
      if (!hub_.has_webhook(BackendEvent::subscribe)) {
        error = ErrorCode::not_available;
        message = "the namespace asks a subscribe webhook and none is configured";
      }
      return false;
  }
  return error == ErrorCode(0);
}

std::string HubWorker::subscribed_fields(HubSession& s, std::string_view channel, bool has_since,
                                         std::string_view epoch, uint64_t offset) {
  ChannelPosition position;
  add_subscription(s, channel, position);
  // Without history a gap is filled only when there is none: same epoch, same offset.
  const bool recovered = has_since && epoch == position.epoch && offset == position.offset;
  std::string fields;
  JsonWriter(fields).member("ep", position.epoch).member("off", position.offset)
      .member("rec", recovered).key("pubs").begin_array().end_array().member("more", false);
  return fields;
}

void HubWorker::subscribe(HubSession& s, const Command& c) {
  ErrorCode error{};
  std::string message;
  if (check_subscribe(s, c.channel, error, message)) {
    if (c.since.present && hub_.broker().keeps_history(c.channel)) {
      owe_answer(s, c.id);
      return resume_subscription(s, c.id, c.channel, c.since.epoch, c.since.offset, settle_resumed(c.id));
    }
    return answer_ok(s, c.id, subscribed_fields(s, c.channel, c.since.present, c.since.epoch, c.since.offset));
  }
  if (error != ErrorCode(0)) return answer_error(s, c.id, error, message);
  // The namespace's subscribe webhook decides.
  if (s.pending_ids.size() >= hub_.config().limits.max_pending_requests)
    return answer_error(s, c.id, ErrorCode::too_many_requests);
  owe_answer(s, c.id);
  std::string body;
  JsonWriter json(body);
  json.begin_object();
  append_webhook_head(json, "subscribe", s);
  json.member("ch", c.channel).end_object();
  hub_.backend()->call(
      index(), BackendEvent::subscribe, std::move(body),
      callback([this, ref = s.ref, id = c.id, channel = std::string(c.channel), has_since = c.since.present,
                epoch = std::string(c.since.epoch), offset = c.since.offset](BackendResponse response) {
        HubRequests::with_live(*this, ref, [&](HubSession& s) {
          bool replaced = false;
          std::string data, problem;
          BackendRefusal refusal;
          if (!response.answered || !read_decision_answer(response.body, replaced, data, refusal, problem)) {
            hub_.fault_log().write("hub: subscribe webhook failed: {}", response.answered ? problem : response.detail);
            return settle_answer(s, id, error_text(id, ErrorCode::backend_unavailable));
          }
          if (refusal.present)
            return settle_answer(s, id, error_text(id, refusal_code(refusal, ErrorCode::permission_denied), refusal.message));
          if (subscribed(s, channel)) return settle_answer(s, id, error_text(id, ErrorCode::already_subscribed));
          if (has_since && hub_.broker().keeps_history(channel))
            return resume_subscription(s, id, channel, epoch, offset, settle_resumed(id));
          settle_answer(s, id, ok_text(id, subscribed_fields(s, channel, has_since, epoch, offset)));
        });
      }));
}

void HubWorker::unsubscribe(HubSession& s, const Command& c) {
  ChannelName name;
  if (ChannelNameError bad = parse_channel_name(c.channel, name); bad != ChannelNameError::none)
    return answer_error(s, c.id, ErrorCode::bad_request, channel_name_error_sentence(bad));
  remove_subscription(s, c.channel);
  answer_ok(s, c.id);
}

}  // namespace wshub::hub
