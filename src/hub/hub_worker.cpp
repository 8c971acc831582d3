// A hub session's life on its worker: open, frames in, the heartbeat and token deadlines, the
// close; and the delivery of publications to the worker's subscribers.
#include "hub/hub_worker.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "hub/hub.h"
#include "hub/json_writer.h"
#include "net/reactor.h"

namespace wshub::hub {

namespace {

constexpr std::string_view kPing = R"({"t":"ping"})";

const char* digits36 = "0123456789abcdefghijklmnopqrstuvwxyz";

}  // namespace

HubWorker::HubWorker(Hub& hub, server::RouteHost& host)
    : hub_(hub), host_(host), parser_(hub.config().commands),
      jitter_(std::random_device{}() ^ (host.worker_index() * 0x9e3779b9u)) {}

HubWorker::~HubWorker() = default;

uint64_t HubWorker::now_ms() const { return host_.reactor().now_ms(); }

void HubWorker::open(server::Session& session, const HubRouteParams& params) {
  auto state = std::make_unique<HubSession>();
  HubSession& s = *state;
  s.ref = session.ref();
  s.params = &params;
  // A cid unique in this process: the worker's index, then a counter, in base 36.
  std::string cid;
  for (uint64_t n = ++next_cid_; n; n /= 36) cid.push_back(digits36[n % 36]);
  s.cid = std::to_string(index()) + "-" + std::string(cid.rbegin(), cid.rend());
  if (auto it = upgraded_.find(s.ref.connection); it != upgraded_.end()) {
    if (it->second.first == s.ref.generation) {
      s.identity = std::move(it->second.second);
      s.identified_at_upgrade = true;
    }
    upgraded_.erase(it);
  }
  session.set_state(std::move(state));
  bump(counters_.sessions);
  session.set_deadline(now_ms() + hub_.config().connect_timeout_ms);
}

void HubWorker::message(server::Session& session, proto::Opcode opcode, Bytes payload) {
  HubSession* s = session_of(session);
  if (!s || s->stage == SessionStage::ended) return;
  if (opcode != proto::Opcode::text) {
    // Every hub frame is JSON text (docs/hub-protocol.md). A connected session is told so in a
    // disconnect push (before_close), and leaves like any other (close: counters, webhook).
    bump(counters_.binary_frames);
    hub_.fault_log().write("hub {}: closing with 1003: a binary frame", s->cid);
    session.close(1003, "the hub protocol takes text frames holding JSON, not binary");
    return;
  }
  current_ = s;
  current_session_ = &session;
  close_after_frame_ = false;
  const bool intact = parser_.parse(as_text(payload), *this);
  // Null when a request of the frame closed the session (close() cleared it: `s` is gone).
  HubSession* still_open = current_;
  current_ = nullptr;
  current_session_ = nullptr;
  if ((!intact || close_after_frame_) && still_open && still_open->stage != SessionStage::ended)
    end_session(*still_open, HubClose::bad_request);
}

void HubWorker::on_command_error(CommandError error, uint64_t id, std::string_view detail) {
  if (!current_) return;  // the session was closed by an earlier request of the frame
  HubSession& s = *current_;
  bump(counters_.command_errors[size_t(error)]);
  // `detail` may quote the peer's bytes (an unknown type's name): escaped and cut short.
  if (id == 0 || command_error_is_fatal(error)) {
    hub_.fault_log().write("hub {}: closing with 3501: {}: {:?}", s.cid, command_error_name(error),
                           detail.substr(0, 80));
    close_after_frame_ = true;
    return;
  }
  hub_.fault_log().write_at(spdlog::level::debug, "hub {}: request {} refused: {}: {:?}", s.cid, id,
                            command_error_name(error), detail.substr(0, 80));
  std::string message(command_error_code(error) == ErrorCode::method_not_found
                          ? "unknown request type: "
                          : "");
  message += detail;
  answer_error(s, id, command_error_code(error), message);
}

void HubWorker::on_command(const Command& c) {
  if (!current_) return;  // the session was closed by an earlier request of the frame
  HubSession& s = *current_;
  if (s.stage == SessionStage::ended || close_after_frame_) return;
  bump(counters_.commands[size_t(c.type)]);
  if (c.id && s.has_pending(c.id)) {
    // In its turn, settling nothing: the pending request keeps its own answer.
    return send_answer(s, 0, error_text(c.id, ErrorCode::bad_request,
                                        "duplicate id: a request with this id is still pending"));
  }
  if (s.stage == SessionStage::connecting && c.type != CommandType::connect) return hold_request(s, c);
  if (s.stage != SessionStage::connected && c.type != CommandType::connect) {
    if ((c.type == CommandType::pong || c.type == CommandType::ping) && !c.id) return;
    // The first request must be connect (docs/hub-protocol.md §Connection).
    if (c.id) answer_error(s, c.id, ErrorCode::unauthorized, "connect first");
    close_after_frame_ = true;
    return;
  }
  switch (c.type) {
    case CommandType::connect: return connect(s, c);
    case CommandType::subscribe: return subscribe(s, c);
    case CommandType::unsubscribe: return unsubscribe(s, c);
    case CommandType::publish: return publish(s, c);
    case CommandType::rpc: return rpc(s, c);
    case CommandType::presence: return presence(s, c);
    case CommandType::refresh: return refresh(s, c);
    case CommandType::pong:
      s.awaiting_pong = false;
      s.pong_deadline_ms = 0;
      return schedule(s);
    case CommandType::ping:
      if (c.id) answer_ok(s, c.id);
      return;
    case CommandType::ack: return inbox_ack(s, c);
    case CommandType::history: return history(s, c);
    case CommandType::count_: break;
  }
}

void HubWorker::hold_request(HubSession& s, const Command& c) {
  // A client that sends requests right after connect is served once the backend has decided;
  // within bounds, since nothing is answered meanwhile.
  std::string json;
  append_command_json(json, c);
  const uint32_t max_requests = hub_.config().limits.max_pending_requests;
  if (s.held_requests.size() >= max_requests || s.held_bytes + json.size() > kMaxHeldBytes) {
    // No answer can precede connect's: the close reason says why.
    current_ = nullptr;
    end_session(s, HubClose::bad_request, "too many requests before connect was answered");
    return;
  }
  s.held_bytes += json.size();
  s.held_requests.push_back(std::move(json));
}

void HubWorker::run_held_requests(HubSession& s) {
  if (s.held_requests.empty()) return;
  std::vector<std::string> held = std::move(s.held_requests);
  s.held_requests.clear();
  s.held_bytes = 0;
  host_.with_session(s.ref, [&](server::Session& session) {
    for (const std::string& frame : held) {
      if (session_of(session) != &s || s.stage != SessionStage::connected) break;
      message(session, proto::Opcode::text, as_bytes(frame));
    }
  });
}

void HubWorker::deadline(server::Session& session) {
  HubSession* s = session_of(session);
  if (!s || s->stage == SessionStage::ended) return;
  const uint64_t now = now_ms();
  if (s->stage != SessionStage::connected) {
    // No connect (or no decision on it) within connect_timeout.
    hub_.fault_log().write_at(spdlog::level::debug, "hub {}: no connect within {} ms", s->cid,
                              hub_.config().connect_timeout_ms);
    if (s->stage == SessionStage::connecting) {
      // The connect request is the first answer owed: a backend that is slow gives 116, never
      // a silent close.
      if (!s->owed.empty()) answer_error(*s, s->owed.front().id, ErrorCode::backend_unavailable);
      return end_session(*s, HubClose::disconnected, "the connect webhook did not answer in time");
    }
    return end_session(*s, HubClose::bad_request, "no connect request within the connect timeout");
  }
  if (s->expiry_deadline_ms && now >= s->expiry_deadline_ms)
    return end_session(*s, HubClose::token_expired);
  if (s->awaiting_pong && s->pong_deadline_ms && now >= s->pong_deadline_ms)
    return end_session(*s, HubClose::no_pong);
  if (!s->awaiting_pong && now >= s->next_ping_ms) {
    session.send_text(kPing);
    s->awaiting_pong = true;
    s->pong_deadline_ms = now + s->params->pong_timeout_ms;
  }
  inbox_deadline(*s, now);
  schedule(*s);
}

// The session's one deadline: the next ping, the pong it waits for, the token's expiry, or the
// inbox's (a push again after ack_timeout, a read tried again).
void HubWorker::schedule(HubSession& s) {
  if (s.stage != SessionStage::connected) return;
  const uint64_t now = now_ms();
  if (!s.awaiting_pong && s.next_ping_ms <= now) s.next_ping_ms = now + s.params->ping_interval_ms;
  uint64_t due = s.awaiting_pong ? s.pong_deadline_ms : s.next_ping_ms;
  if (s.expiry_deadline_ms && (due == 0 || s.expiry_deadline_ms < due)) due = s.expiry_deadline_ms;
  if (const uint64_t inbox = inbox_due(s); inbox && (due == 0 || inbox < due)) due = inbox;
  host_.with_session(s.ref, [&](server::Session& session) { session.set_deadline(due); });
}

void HubWorker::before_close(server::Session& session, uint16_t code, std::string_view reason) {
  // Every close the server starts passes here, the server layer's own (3008 slow consumer,
  // 3001 shutdown) and the API's disconnects included: count them all by code.
  for (size_t i = 0; i < std::size(kAllHubCloses); ++i)
    if (uint16_t(kAllHubCloses[i]) == code) bump(counters_.closes[i]);
  HubSession* s = session_of(session);
  if (!s || s->stage != SessionStage::connected) return;
  std::string& json = scratch_;
  json.clear();
  JsonWriter writer(json);
  writer.begin_object().member("t", "disconnect").member("code", uint64_t(code)).member("reason", reason);
  if (const uint32_t wait_ms = retry_after_for(code)) writer.member("retry_after", uint64_t(wait_ms));
  writer.end_object();
  session.send_urgent(proto::Opcode::text, as_bytes(json));
}

uint32_t HubWorker::retry_after_for(uint16_t code) {
  if (code != uint16_t(HubClose::shutdown) && code != uint16_t(HubClose::slow_consumer)) return 0;
  const uint32_t low = hub_.config().retry_after_min_ms;
  const uint32_t high = std::max(low, hub_.config().retry_after_max_ms);
  if (high == 0) return 0;
  return std::uniform_int_distribution<uint32_t>(low, high)(jitter_);
}

void HubWorker::close(server::Session& session) {
  HubSession* s = session_of(session);
  if (!s) return;
  if (s == current_) current_ = nullptr;  // closed while its frame is handled
  const bool was_connected = s->stage == SessionStage::connected;
  s->stage = SessionStage::ended;
  while (!s->subscriptions.empty()) {
    SessionSubscription& last = s->subscriptions.back();
    remove_subscription(*s, last.channel->name);
  }
  if (!s->identity.user.empty()) {
    auto [first, end] = by_user_.equal_range(s->identity.user);
    for (auto it = first; it != end; ++it)
      if (it->second == s) {
        by_user_.erase(it);
        break;
      }
  }
  if (!s->identity.device.empty()) {
    auto [first, end] = by_device_.equal_range(s->identity.device);
    for (auto it = first; it != end; ++it)
      if (it->second == s) {
        by_device_.erase(it);
        break;
      }
  }
  bump(counters_.sessions, -1);
  if (s->inbox.open) hub_.inbox()->seen(s->identity.device, s->identity.user);
  if (was_connected) {
    bump(counters_.connected, -1);
    if (hub_.has_webhook(BackendEvent::disconnect)) {
      std::string body;
      JsonWriter(body).begin_object().member("type", "disconnect").member("cid", s->cid)
          .member("user", s->identity.user).member("device", s->identity.device).end_object();
      hub_.backend()->notify(BackendEvent::disconnect, std::move(body));
    }
  }
}

void HubWorker::deliver(std::string_view channel, uint64_t offset,
                        const std::shared_ptr<const proto::FrameVariants>& frame) {
  deliver_to_members(channel, *frame, counters_.publications_delivered,
                     [this, offset, channel, &frame](const LocalChannel::Member& member) {
                       if (offset > member.from_offset) return false;
                       // A member whose history is being read keeps what comes after it.
                       if ((member.from_offset & LocalChannel::kHeld) &&
                           offset > (member.from_offset & ~LocalChannel::kHeld))
                         hold_delivery(*member.session, channel, frame);
                       return true;
                     });
}

void HubWorker::deliver_push(std::string_view channel, std::string_view except_cid,
                             const std::shared_ptr<const proto::FrameVariants>& frame) {
  deliver_to_members(channel, *frame, counters_.pushes_delivered,
                     [except_cid](const LocalChannel::Member& member) { return member.session->cid == except_cid; });
}

template <typename Skip>
void HubWorker::deliver_to_members(std::string_view channel, const proto::FrameVariants& frame,
                                   std::atomic<uint64_t>& delivered, Skip&& skip) {
  auto it = channels_.find(channel);
  if (it == channels_.end()) return;
  LocalChannel& local = it->second;
  local.delivering = true;
  uint64_t sent = 0;
  for (size_t i = 0; i < local.members.size(); ++i) {
    const LocalChannel::Member& member = local.members[i];
    if (!member.connection || skip(member)) continue;
    host_.send_variants(*member.connection, frame);
    ++sent;
  }
  local.delivering = false;
  bump(delivered, int64_t(sent));
  if (local.has_holes) {
    size_t kept = 0;
    for (size_t i = 0; i < local.members.size(); ++i) {
      LocalChannel::Member& member = local.members[i];
      if (!member.connection) continue;
      for (SessionSubscription& sub : member.session->subscriptions)
        if (sub.channel == &local) sub.member = uint32_t(kept);
      local.members[kept++] = member;
    }
    local.members.resize(kept);
    local.has_holes = false;
    // remove_member told the broker of each subscriber that left; only the list goes now.
    if (local.members.empty()) channels_.erase(it);
  }
}

size_t HubWorker::subscribe_user(std::string_view user, std::string_view channel) {
  size_t count = 0;
  auto [first, end] = by_user_.equal_range(user);
  std::vector<HubSession*> sessions;
  for (auto it = first; it != end; ++it) sessions.push_back(it->second);
  for (HubSession* s : sessions) {
    if (subscribed(*s, channel) || !s->connected()) continue;
    ChannelPosition position;
    add_subscription(*s, channel, position);
    std::string json;
    JsonWriter(json).begin_object().member("t", "sub").member("ch", channel).member("ep", position.epoch)
        .member("off", position.offset).end_object();
    send_push(*s, json);
    ++count;
  }
  return count;
}

size_t HubWorker::unsubscribe_user(std::string_view user, std::string_view channel) {
  size_t count = 0;
  auto [first, end] = by_user_.equal_range(user);
  std::vector<HubSession*> sessions;
  for (auto it = first; it != end; ++it) sessions.push_back(it->second);
  for (HubSession* s : sessions) {
    if (!remove_subscription(*s, channel)) continue;
    std::string json;
    JsonWriter(json).begin_object().member("t", "unsub").member("ch", channel)
        .member("code", uint64_t(3000)).member("reason", "unsubscribed by the server").end_object();
    send_push(*s, json);
    ++count;
  }
  return count;
}

std::vector<PresenceEntry> HubWorker::connections_of(std::string_view id, bool by_device) const {
  std::vector<PresenceEntry> out;
  const auto& index = by_device ? by_device_ : by_user_;
  auto [first, end] = index.equal_range(id);
  for (auto it = first; it != end; ++it) {
    const HubSession& s = *it->second;
    if (s.connected()) out.push_back({s.cid, s.identity.user, s.identity.device, s.identity.info_json});
  }
  return out;
}

size_t HubWorker::disconnect(std::string_view id, bool by_device, uint16_t code, std::string_view reason) {
  auto& index = by_device ? by_device_ : by_user_;
  auto [first, end] = index.equal_range(id);
  std::vector<server::ConnectionRef> refs;
  for (auto it = first; it != end; ++it) refs.push_back(it->second->ref);
  for (server::ConnectionRef ref : refs)
    host_.with_session(ref, [&](server::Session& session) { session.close(code, reason); });
  return refs.size();
}

}  // namespace wshub::hub
