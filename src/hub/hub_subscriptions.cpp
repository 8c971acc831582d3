// Subscriptions on one worker: the local channel lists that fan-out walks, their registration
// with the broker, presence and join/leave.
#include "hub/channel_name.h"
#include "hub/hub.h"
#include "hub/hub_worker.h"
#include "hub/json_writer.h"

namespace wshub::hub {

namespace {

void append_presence_push(std::string& out, std::string_view type, std::string_view channel,
                          const HubSession& s) {
  JsonWriter(out).begin_object().member("t", type).member("ch", channel).member("cid", s.cid)
      .member("user", s.identity.user).member("device", s.identity.device).end_object();
}

}  // namespace

bool HubWorker::subscribed(const HubSession& s, std::string_view channel) const {
  for (const SessionSubscription& sub : s.subscriptions)
    if (sub.channel->name == channel) return true;
  return false;
}

void HubWorker::add_subscription(HubSession& s, std::string_view channel, ChannelPosition& position) {
  auto [it, created] = channels_.try_emplace(std::string(channel));
  LocalChannel& local = it->second;
  if (created) local.name = it->first;
  // The broker counts every subscriber; a publication placed after this call reaches this
  // worker, and one placed before has an offset at or below `position.offset`.
  position = hub_.broker().subscribe(index(), channel);
  s.subscriptions.push_back({&local, uint32_t(local.members.size())});
  local.members.push_back({s.ref.connection, &s, position.offset});
  bump(counters_.subscriptions);
  ChannelName name;
  if (parse_channel_name(channel, name) != ChannelNameError::none) return;
  const NamespaceConfig* ns = hub_.config().find_namespace(name.ns);
  if (!ns || !ns->presence) return;
  hub_.broker().presence_add(channel, {s.cid, s.identity.user, s.identity.device, s.identity.info_json});
  if (ns->join_leave) {
    std::string& json = scratch_;
    json.clear();
    append_presence_push(json, "join", channel, s);
    hub_.broker().push(channel, json, s.cid);
  }
}

bool HubWorker::remove_subscription(HubSession& s, std::string_view channel) {
  for (size_t i = 0; i < s.subscriptions.size(); ++i) {
    SessionSubscription sub = s.subscriptions[i];
    if (sub.channel->name != channel) continue;
    s.subscriptions[i] = s.subscriptions.back();
    s.subscriptions.pop_back();
    LocalChannel& local = *sub.channel;
    bump(counters_.subscriptions, -1);
    for (size_t h = 0; h < s.held.size(); ++h)
      if (s.held[h].channel == &local) {
        s.held.erase(s.held.begin() + ptrdiff_t(h));
        break;
      }
    ChannelName name;
    const NamespaceConfig* ns = parse_channel_name(channel, name) == ChannelNameError::none
                                    ? hub_.config().find_namespace(name.ns)
                                    : nullptr;
    if (ns && ns->presence) {
      hub_.broker().presence_remove(channel, s.cid);
      if (ns->join_leave) {
        std::string& json = scratch_;
        json.clear();
        append_presence_push(json, "leave", channel, s);
        hub_.broker().push(channel, json, s.cid);
      }
    }
    remove_member(local, sub.member);  // may erase `local`: `channel` may point into it
    return true;
  }
  return false;
}

void HubWorker::remove_member(LocalChannel& local, uint32_t member) {
  const std::string name = local.name;
  hub_.broker().unsubscribe(index(), name);
  if (local.delivering) {
    // The delivery loop walks the list: leave a hole, compacted when it ends.
    local.members[member].connection = nullptr;
    local.has_holes = true;
    return;
  }
  const uint32_t last = uint32_t(local.members.size() - 1);
  if (member != last) {
    LocalChannel::Member moved = local.members[last];
    local.members[member] = moved;
    for (SessionSubscription& sub : moved.session->subscriptions)
      if (sub.channel == &local) sub.member = member;
  }
  local.members.pop_back();
  if (local.members.empty()) channels_.erase(name);
}

}  // namespace wshub::hub
