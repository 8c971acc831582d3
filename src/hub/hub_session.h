// One hub connection's state: who it is, what it is subscribed to, its heartbeat and the
// answers it still owes. Lives in the connection (server::RouteState) and only on its worker.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hub/hub_config.h"
#include "hub/identity.h"
#include "proto/frame_variants.h"
#include "server/connection.h"

namespace wshub::hub {

class LocalChannel;

enum class SessionStage : uint8_t {
  awaiting_connect,  // open, no `connect` yet (connect_timeout runs)
  connecting,        // `connect` taken, the connect webhook is deciding
  connected,
  ended,             // closed or closing: nothing more is handled
};

// One subscription as the session knows it; the channel's member list holds the other half.
struct SessionSubscription {
  LocalChannel* channel = nullptr;
  uint32_t member = 0;  // index in channel->members
};

// An answer owed in request order: sent once every answer before it has been sent.
struct OwedAnswer {
  uint64_t id = 0;
  bool ready = false;
  bool releases_held = false;  // a subscribe with history: live pushes held for it follow it
  std::string text;
};

// A subscription whose missed publications are being read: live ones delivered meanwhile wait
// here until the subscribe answer (with the missed ones) is sent.
struct HeldSubscription {
  LocalChannel* channel = nullptr;
  uint64_t answer_id = 0;
  std::vector<std::shared_ptr<const proto::FrameVariants>> frames;
};

// The connection's side of its device's inbox (docs/hub-protocol.md, Inbox).
struct InboxCursor {
  struct InFlight {
    uint64_t seq = 0;
    uint64_t sent_ms = 0;  // reactor clock of the last push
    std::string push;      // the msg push, for a push again
  };
  // What connect asked: `inbox {ep, acked}`.
  std::string client_epoch;
  uint64_t client_acked = 0;
  bool open = false;     // the store opened the device's inbox for this connection
  bool started = false;  // connect's answer is sent: msg pushes may follow
  bool reading = false;  // a read of the store is under way
  bool more = false;     // the store may hold messages after sent_upto
  uint64_t acked = 0;      // acknowledged up to
  uint64_t sent_upto = 0;  // pushed up to
  uint64_t retry_ms = 0;   // reactor clock: a failed read is tried again then; 0: none
  std::vector<InFlight> in_flight;  // ascending seq, at most the window
};

class HubSession final : public server::RouteState {
 public:
  server::ConnectionRef ref;
  const HubRouteParams* params = nullptr;
  std::string cid;
  Identity identity;
  SessionStage stage = SessionStage::awaiting_connect;
  bool identified_at_upgrade = false;  // `identity` came from the connect webhook at the upgrade
  bool awaiting_pong = false;
  int64_t connected_ms = 0;
  uint64_t connect_sequence = 0;  // Hub::next_connect_sequence at connect: newer devices win
  uint64_t next_ping_ms = 0;     // reactor clock
  uint64_t pong_deadline_ms = 0;  // reactor clock; 0 while no ping is unanswered
  uint64_t expiry_deadline_ms = 0;  // reactor clock of the token's exp; 0: none
  std::vector<SessionSubscription> subscriptions;
  std::vector<uint64_t> pending_ids;  // requests whose answer waits for the backend
  std::vector<OwedAnswer> owed;        // answers held back behind an earlier pending one
  std::vector<HeldSubscription> held;  // subscriptions waiting for their history
  // Requests that arrived while the connect webhook decided, as single-request frames: run in
  // order once connected, dropped if the connect fails.
  std::vector<std::string> held_requests;
  size_t held_bytes = 0;
  InboxCursor inbox;

  bool connected() const { return stage == SessionStage::connected; }
  bool has_pending(uint64_t id) const {
    for (uint64_t pending : pending_ids)
      if (pending == id) return true;
    return false;
  }
  void forget_pending(uint64_t id) {
    for (size_t i = 0; i < pending_ids.size(); ++i)
      if (pending_ids[i] == id) {
        pending_ids[i] = pending_ids.back();
        pending_ids.pop_back();
        return;
      }
  }
};

}  // namespace wshub::hub
