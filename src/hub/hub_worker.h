// The hub on one worker thread: its sessions, the index of its local subscribers by channel
// and by user and device, the requests of its clients, and the delivery of publications to
// its subscribers. Every hub route of the worker shares it; nothing here is touched by another
// thread (work from elsewhere arrives through the worker's mailbox).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <random>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "hub/broker.h"
#include "hub/command_parser.h"
#include "hub/hub_session.h"
#include "hub/name_hash.h"
#include "server/route_handler.h"

namespace wshub::hub {

class Hub;

// The subscribers of one channel on one worker.
class LocalChannel {
 public:
  struct Member {
    server::Connection* connection = nullptr;  // null: a hole left during a delivery
    HubSession* session = nullptr;
    uint64_t from_offset = 0;  // publications at or before it were not for this subscriber
  };
  // Set in from_offset while the member's history is read: later publications are held for it
  // (HubSession::held) instead of sent, and the offset under the bit still says where live starts.
  static constexpr uint64_t kHeld = uint64_t(1) << 63;
  std::string name;
  std::vector<Member> members;
  bool delivering = false;
  bool has_holes = false;
};

// What a worker's hub did, for /health and /metrics. One writer (the worker's thread).
struct HubWorkerCounters {
  std::atomic<uint64_t> commands[size_t(CommandType::count_)] = {};
  std::atomic<uint64_t> command_errors[size_t(CommandError::count_)] = {};
  std::atomic<uint64_t> errors[17] = {};  // answers by error code - 100
  std::atomic<uint64_t> publications_delivered{0};  // pub pushes written to subscribers
  std::atomic<uint64_t> pushes_delivered{0};        // join/leave pushes
  std::atomic<uint64_t> sessions{0};                // open hub connections (gauge)
  std::atomic<uint64_t> connected{0};               // of which connected (gauge)
  std::atomic<uint64_t> subscriptions{0};           // (gauge)
  std::atomic<uint64_t> closes[std::size(kAllHubCloses)] = {};  // by hub_close_index
  std::atomic<uint64_t> backend_unavailable{0};     // requests answered 116
  std::atomic<uint64_t> mid_duplicates{0};          // publish and rpc answered from MidTable (dup)
  std::atomic<uint64_t> binary_frames{0};           // closed with 1003
};

class HubWorker final : public PublicationSink, private CommandSink {
 public:
  HubWorker(Hub& hub, server::RouteHost& host);
  ~HubWorker();

  // From the hub routes' handlers, on this worker's thread.
  server::UpgradeVerdict upgrade(const server::UpgradeRequest& request);
  void open(server::Session& session, const HubRouteParams& params);
  void message(server::Session& session, proto::Opcode opcode, Bytes payload);
  void deadline(server::Session& session);
  void before_close(server::Session& session, uint16_t code, std::string_view reason);
  void close(server::Session& session);

  // PublicationSink
  void deliver(std::string_view channel, uint64_t offset,
               const std::shared_ptr<const proto::FrameVariants>& frame) override;
  void deliver_push(std::string_view channel, std::string_view except_cid,
                    const std::shared_ptr<const proto::FrameVariants>& frame) override;

  // Server-side actions for the API, run on this thread (see Hub::for_each_worker).
  // Subscribes (or unsubscribes) every local connection of `user`; returns how many.
  size_t subscribe_user(std::string_view user, std::string_view channel);
  size_t unsubscribe_user(std::string_view user, std::string_view channel);
  // Closes every local connection of `user` (or of `device` when `by_device`) with `code`.
  size_t disconnect(std::string_view id, bool by_device, uint16_t code, std::string_view reason);
  // The connected sessions of `user` (or of `device` when `by_device`) on this worker.
  std::vector<PresenceEntry> connections_of(std::string_view id, bool by_device) const;

  // New messages were queued for `devices`: their connections here push them. Returns how many.
  size_t inbox_arrived(const std::vector<std::string>& devices);

  uint32_t index() const { return host_.worker_index(); }
  server::RouteHost& host() { return host_; }
  const HubWorkerCounters& counters() const { return counters_; }

 private:
  friend class HubRequests;
  // CommandSink: the requests of the frame being handled, for current_.
  void on_command(const Command& command) override;
  void on_command_error(CommandError error, uint64_t id, std::string_view detail) override;

  // Answers (hub_answers.cpp).
  std::string ok_text(uint64_t id, std::string_view fields_json = {});
  std::string error_text(uint64_t id, ErrorCode code, std::string_view message = {});
  void answer_ok(HubSession& s, uint64_t id, std::string_view fields_json = {});
  void answer_error(HubSession& s, uint64_t id, ErrorCode code, std::string_view message = {});
  // An answer out of order (rpc's): sent as soon as it is known.
  void answer_now(HubSession& s, uint64_t id, std::string text);
  // Sends `text` now, or keeps it behind an answer still owed (answers follow request order).
  // When `id` is owed (the request waited for the backend), `text` settles it; 0 settles nothing.
  void send_answer(HubSession& s, uint64_t id, std::string text);
  // A request that will be answered later, in its place among the others (not rpc).
  void owe_answer(HubSession& s, uint64_t id);
  void settle_answer(HubSession& s, uint64_t id, std::string text);
  void send_push(HubSession& s, std::string_view json);
  // Sends {"t":"disconnect",...} and closes with `code`.
  void end_session(HubSession& s, HubClose code, std::string_view reason = {});

  // Requests that wait for the connect webhook's decision, and their run once connected.
  static constexpr size_t kMaxHeldBytes = 64 * 1024;
  void hold_request(HubSession& s, const Command& c);
  void run_held_requests(HubSession& s);

  // Requests (hub_requests.cpp).
  void connect(HubSession& s, const Command& c);
  void finish_connect(HubSession& s, uint64_t id, Identity identity, std::string subs_json);
  // Closes this worker's connections of `device` that connected before the one numbered
  // `sequence` (Hub::next_connect_sequence), whatever order the workers hear of them in.
  size_t replace_device(std::string_view device, uint64_t sequence);
  bool check_subscribe(const HubSession& s, std::string_view channel, ErrorCode& error,
                       std::string& message);
  // The fields of a subscribe answer, once subscribed.
  std::string subscribed_fields(HubSession& s, std::string_view channel, bool has_since,
                                std::string_view epoch, uint64_t offset);
  void subscribe(HubSession& s, const Command& c);
  void unsubscribe(HubSession& s, const Command& c);
  void publish(HubSession& s, const Command& c);
  void rpc(HubSession& s, const Command& c);
  void presence(HubSession& s, const Command& c);

  // History (hub_history.cpp).
  // What a resume gives: the fields of a subscribe answer (error 0), or an error and its message.
  using ResumeDone = std::function<void(HubSession&, ErrorCode, std::string)>;
  // Subscribes `s` to `channel`, which keeps history, resuming after `since` in `epoch`; `done`
  // runs (now, or once the missed publications are read) while the session lives. `answer_id`
  // is the owed answer that carries the result: live pushes wait until it is sent.
  void resume_subscription(HubSession& s, uint64_t answer_id, std::string_view channel, std::string_view epoch,
                           uint64_t since, ResumeDone done);
  // The ResumeDone of a `subscribe` request: settles its answer.
  ResumeDone settle_resumed(uint64_t id);
  // The subscription `s` made last keeps its live pushes until answer `answer_id` is sent.
  void hold_last_subscription(HubSession& s, uint64_t answer_id);
  void history(HubSession& s, const Command& c);
  // The subscribe answer `answer_id` was sent: the live publications held for it follow.
  void release_held(HubSession& s, uint64_t answer_id);
  void hold_delivery(HubSession& s, std::string_view channel,
                     const std::shared_ptr<const proto::FrameVariants>& frame);
  void refresh(HubSession& s, const Command& c);

  // The device inbox (hub_inbox.cpp).
  // Opens the inbox of `s`'s device; `done` gets the connect answer's `inbox` object.
  void inbox_open(HubSession& s, std::function<void(HubSession&, std::string)> done);
  // Connect's answer is sent: msg pushes may start.
  void inbox_start(HubSession& s);
  void inbox_pump(HubSession& s);
  void inbox_page(HubSession& s, InboxPage& page, uint32_t limit);
  void inbox_ack(HubSession& s, const Command& c);
  // Pushes again what waited past ack_timeout; retries a failed read.
  void inbox_deadline(HubSession& s, uint64_t now);
  // The earliest inbox deadline of `s` (reactor clock), 0 when none.
  uint64_t inbox_due(const HubSession& s) const;

  // Subscriptions (hub_subscriptions.cpp).
  // Joins the local channel and the broker; fills `position` with where the stream stands.
  void add_subscription(HubSession& s, std::string_view channel, ChannelPosition& position);
  bool remove_subscription(HubSession& s, std::string_view channel);
  void remove_member(LocalChannel& channel, uint32_t member);
  bool subscribed(const HubSession& s, std::string_view channel) const;
  void schedule(HubSession& s);

  void count_error(ErrorCode code) {
    const size_t index = size_t(code) - 100;
    if (index < std::size(counters_.errors)) bump(counters_.errors[index]);
  }
  static void bump(std::atomic<uint64_t>& counter, int64_t by = 1) {
    counter.store(counter.load(std::memory_order_relaxed) + uint64_t(by), std::memory_order_relaxed);
  }
  HubSession* session_of(server::Session& session) { return session.state_as<HubSession>(); }
  uint64_t now_ms() const;
  // A disconnect's retry_after for `code` in ms, or 0 for none (see HubConfig::retry_after_min_ms).
  uint32_t retry_after_for(uint16_t code);

  Hub& hub_;
  server::RouteHost& host_;
  CommandParser parser_;
  HubWorkerCounters counters_;
  std::unordered_map<std::string, LocalChannel, NameHash, NameEqual> channels_;
  std::unordered_multimap<std::string, HubSession*, NameHash, NameEqual> by_user_;
  std::unordered_multimap<std::string, HubSession*, NameHash, NameEqual> by_device_;
  uint64_t next_cid_ = 0;
  // Identities the connect webhook gave at the upgrade, by connection, until on_open.
  std::unordered_map<server::Connection*, std::pair<uint32_t, Identity>> upgraded_;
  // The frame being handled: its session (the CommandSink callbacks need it).
  HubSession* current_ = nullptr;
  server::Session* current_session_ = nullptr;
  bool close_after_frame_ = false;
  std::string scratch_;
  std::minstd_rand jitter_;  // retry_after draws; seeded per worker

  // The delivery loop of deliver and deliver_push: `skip(member)` leaves one out.
  template <typename Skip>
  void deliver_to_members(std::string_view channel, const proto::FrameVariants& frame,
                          std::atomic<uint64_t>& delivered, Skip&& skip);
};

}  // namespace wshub::hub
