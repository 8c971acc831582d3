// The hub's settings as plain values: namespaces and their rules, limits, identity. The app
// layer fills them from TOML ([hub], [[hub.namespace]], the hub routes' own keys); nothing
// here reads files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hub/command.h"
#include "hub/inbox.h"

namespace wshub::hub {

// Who may subscribe to a namespace's channels.
enum class SubscribePolicy : uint8_t {
  anyone,         // any connection, anonymous ones included
  authenticated,  // any connection with a user
  token,          // channels listed in the token's `channels` claim (a trailing * matches a prefix)
  webhook,        // the backend's subscribe webhook decides
};

// Who may publish to a namespace's channels from a client connection.
enum class PublishPolicy : uint8_t {
  backend,      // only the backend, over the HTTP API (clients get 103)
  subscribers,  // connections subscribed to the channel
  webhook,      // the backend's publish webhook decides, and may rewrite `data`
};

const char* subscribe_policy_name(SubscribePolicy policy);
const char* publish_policy_name(PublishPolicy policy);

struct NamespaceConfig {
  std::string name;  // "" is the default namespace (channels without ':')
  SubscribePolicy subscribe = SubscribePolicy::authenticated;
  PublishPolicy publish = PublishPolicy::backend;
  bool presence = false;    // who is subscribed can be asked (`presence`, GET /api/presence)
  bool join_leave = false;  // subscribers get join/leave pushes (needs presence)
  // History (durable, per namespace): the next store keeps these many publications, bytes and
  // seconds; 0 turns history off (a gap can then never be filled).
  uint32_t history_size = 0;
  uint64_t history_bytes = 0;
  uint32_t history_ttl_s = 0;
};

struct JwtSettings;  // hub/jwt.h

struct HubLimits {
  uint32_t max_subscriptions = 1024;      // per connection
  uint32_t max_pending_requests = 64;     // answers outstanding per connection (rpc, webhooks)
  uint32_t max_data_bytes = 65536;        // `data` of one publish or rpc
  uint32_t max_presence_clients = 10000;  // entries one presence answer lists
  uint32_t max_info_bytes = 1024;         // `info` of a connection
};

struct HubConfig {
  std::vector<NamespaceConfig> namespaces;  // must contain the default "" to serve plain names
  HubLimits limits;
  CommandLimits commands;
  InboxSettings inbox;             // [inbox]
  bool allow_anonymous = false;    // connect without a token (user "") where no webhook decides
  bool allow_no_exp = false;       // tokens without `exp`
  uint32_t connect_timeout_ms = 10000;
  // A user's connections are subscribed to $user:ID and a device's to $device:ID at connect.
  bool personal_channels = true;
  // The connect webhook decides at the WebSocket upgrade, from the request's headers (cookies,
  // Authorization): the 101 waits for it, and `connect` then needs no token.
  bool connect_at_upgrade = false;
  // Deduplication of client publish and rpc by `mid` (docs/hub-protocol.md, Deduplication): a
  // mid is remembered this long (0: not at all), and at most this many are (the oldest go first).
  uint32_t mid_ttl_s = 86400;
  uint32_t max_mids = 100000;
  uint32_t mid_memory_bytes = 64u << 20;  // what the table in memory may use (rpc answers are large)
  // The `retry_after` of the disconnect before a 3001 (shutdown) or 3008 (slow consumer) close:
  // drawn uniformly from [min, max] for each connection, so a restart or a burst does not bring
  // every client back at the same instant.
  uint32_t retry_after_min_ms = 1000;
  uint32_t retry_after_max_ms = 15000;

  const NamespaceConfig* find_namespace(std::string_view name) const {
    for (const NamespaceConfig& ns : namespaces)
      if (ns.name == name) return &ns;
    return nullptr;
  }
};

// What differs between hub routes that share one hub: a mini-program and a field terminal
// need different heartbeats.
struct HubRouteParams {
  uint32_t ping_interval_ms = 25000;  // hb.iv: the server sends {"t":"ping"} this often
  uint32_t pong_timeout_ms = 10000;   // hb.to: no pong within this closes with 3012
};

// The defaults with no config: one default namespace where any connected user may subscribe
// and only the backend publishes.
HubConfig default_hub_config();

}  // namespace wshub::hub
