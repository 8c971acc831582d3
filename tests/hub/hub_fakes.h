// Test doubles for driving the hub below the network: a reactor whose clock and mailbox the test
// drives, a RouteHost and Sessions that record what the hub sends and close the way the server's
// worker does (before_close, then on_close, then the state is gone), a Backend whose calls the
// test answers, and a TokenVerifier that knows a few tokens. Knows nothing of sockets.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "hub/backend.h"
#include "hub/hub.h"
#include "hub/hub_worker.h"
#include "hub/identity.h"
#include "net/reactor.h"
#include "server/route_handler.h"

namespace wshub::hub::testing {

// A reactor that does no I/O: the test sets its clock and runs its mailbox on its own thread.
class FakeReactor final : public net::Reactor {
 public:
  FakeReactor();
  void set_now(uint64_t ms) { now_ms_ = ms; }
  // Runs every item posted so far (on the calling thread, which must be this reactor's).
  size_t drain() { return mailbox_.drain(); }

  void run() override {}
  void add_listener(int, uint16_t) override {}
  void abort(net::Stream&) override {}

 protected:
  void emit_ciphertext(net::Stream&, Bytes) override {}
  net::SendResult send_raw(net::Stream&, const iovec*, int, size_t, bool) override {
    return net::SendResult::sent;
  }
  net::SendResult send_shared_raw(net::Stream&, const SharedBuffer&) override { return net::SendResult::sent; }
  void restart_accepting() override {}
  void flush_raw_cork(net::Stream&) override {}
  void drop_raw_cork() override {}
  void flush_held(net::Stream&) override {}
  bool has_unsent(const net::Stream&) const override { return false; }
  void watch(net::Stream&) override {}
};

class FakeHost;

struct SentFrame {
  std::string text;
  bool urgent = false;  // sent with send_urgent (past the buffered-bytes cap)
};

// One connection as the hub sees it. Closing it behaves as the server's worker does: the
// handler's before_close, then its on_close, then the route state is deleted, all inside close().
class FakeSession final : public server::Session {
 public:
  FakeSession(FakeHost& host, uint32_t generation);
  ~FakeSession();

  bool send(proto::Opcode opcode, Bytes payload) override;
  bool send_frame(const SharedBuffer& frame) override;
  bool send_variants(const proto::FrameVariants& frame) override;
  bool send_urgent(proto::Opcode opcode, Bytes payload) override;
  void close(uint16_t code, std::string_view reason) override;
  const net::PeerAddress& peer() const override { return peer_; }
  const net::IpAddress& client() const override { return peer_.ip; }
  server::ConnectionRef ref() const override { return {connection_.get(), connection_->generation}; }
  size_t unsent_bytes() const override { return 0; }
  server::RouteState* state() const override { return state_.get(); }
  void set_state(std::unique_ptr<server::RouteState> state) override { state_ = std::move(state); }
  void set_deadline(uint64_t deadline_ms) override { deadline_ms_ = deadline_ms; }
  uint64_t now_ms() const override;

  // The peer went away (no close frame from the server): on_close only, as the worker does.
  void drop();
  // What was sent since the last take(), texts only.
  std::vector<std::string> take();
  const std::vector<SentFrame>& frames() const { return frames_; }
  bool open() const { return open_; }
  uint16_t close_code() const { return close_code_; }
  const std::string& close_reason() const { return close_reason_; }
  uint64_t deadline_ms() const { return deadline_ms_; }
  void clear_deadline() { deadline_ms_ = 0; }
  // The next fan-out send finds this client over its buffered-bytes cap: the server closes it
  // with `code` in the middle of the fan-out, as server::Worker does for a slow consumer.
  void overflow_on_next_fanout(uint16_t code) { overflow_code_ = code; }
  server::Connection& connection() { return *connection_; }

 private:
  bool record(proto::Opcode opcode, Bytes payload, bool urgent);

  FakeHost& host_;
  std::unique_ptr<server::Connection> connection_;
  std::unique_ptr<server::RouteState> state_;
  net::PeerAddress peer_{};
  std::vector<SentFrame> frames_;
  size_t taken_ = 0;
  bool open_ = true;
  uint16_t close_code_ = 0;
  std::string close_reason_;
  uint64_t deadline_ms_ = 0;
  uint16_t overflow_code_ = 0;
};

class FakeHost final : public server::RouteHost {
 public:
  explicit FakeHost(uint32_t index = 0) : index_(index) {}
  uint32_t worker_index() const override { return index_; }
  net::Reactor& reactor() override { return reactor_; }
  FakeReactor& fake_reactor() { return reactor_; }
  bool send_variants(server::Connection& connection, const proto::FrameVariants& frame) override;
  // Records the decision; true while the connection waits for one.
  bool finish_upgrade(server::ConnectionRef ref, const server::UpgradeVerdict& verdict) override;
  struct Upgrade {
    server::ConnectionRef ref;
    server::UpgradeVerdict verdict;
  };
  std::vector<Upgrade> upgrades;
  std::vector<const server::Connection*> waiting_upgrades;

  void set_handler(server::RouteHandler* handler) { handler_ = handler; }
  server::RouteHandler& handler() { return *handler_; }
  void add(FakeSession& session) { sessions_.push_back(&session); }
  void remove(FakeSession& session);
  const std::vector<FakeSession*>& sessions() const { return sessions_; }

 protected:
  bool visit_session(server::ConnectionRef ref, SessionUse& use) override;

 private:
  FakeSession* find(const server::Connection* connection);

  uint32_t index_;
  FakeReactor reactor_;
  server::RouteHandler* handler_ = nullptr;
  std::vector<FakeSession*> sessions_;
};

// A backend whose webhooks the test answers one by one.
class FakeBackend final : public Backend {
 public:
  struct Call {
    uint32_t worker = 0;
    BackendEvent event{};
    std::string body;
    std::unique_ptr<BackendCall> done;
  };
  struct Notice {
    BackendEvent event{};
    std::string body;
  };

  explicit FakeBackend(std::set<BackendEvent> events) : events_(std::move(events)) {}
  bool has(BackendEvent event) const override { return events_.count(event) != 0; }
  void call(uint32_t worker, BackendEvent event, std::string body, std::unique_ptr<BackendCall> done) override {
    calls.push_back({worker, event, std::move(body), std::move(done)});
  }
  void notify(BackendEvent event, std::string body) override { notices.push_back({event, std::move(body)}); }

  // Completes call `index` with a 200 and `body`.
  void answer(size_t index, std::string body);
  // Completes call `index` as a backend that could not answer (down, slow, 5xx).
  void fail(size_t index, std::string detail = "timed out");

  std::vector<Call> calls;
  std::vector<Notice> notices;

 private:
  std::set<BackendEvent> events_;
};

// Knows tokens by name. An identity's `expires_ms` is taken as relative to the time of the check.
class FakeVerifier final : public TokenVerifier {
 public:
  void allow(std::string token, Identity identity) { known_[std::move(token)] = {true, std::move(identity), {}}; }
  void refuse(std::string token, ErrorCode error, std::string reason) {
    known_[std::move(token)] = {false, {}, {false, error, std::move(reason)}};
  }
  TokenCheck verify(std::string_view token, int64_t now_ms, Identity& identity) const override;

 private:
  struct Entry {
    bool ok = false;
    Identity identity;
    TokenCheck refusal;
  };
  std::map<std::string, Entry, std::less<>> known_;
};

NamespaceConfig namespace_of(std::string name, SubscribePolicy subscribe, PublishPolicy publish,
                             bool presence = false, bool join_leave = false);
Identity identity_of(std::string user, std::string device = {}, int64_t expires_in_ms = 0);

// A hub with one worker driven through its route handler, as the server would.
class HubHarness {
 public:
  // `with_verifier` false: the hub has no TokenVerifier (identities come from the connect webhook).
  // `store`: the hub's Store (the memory store when null).
  explicit HubHarness(HubConfig config, std::set<BackendEvent> webhooks = {}, HubRouteParams params = {},
                      bool with_verifier = true, std::unique_ptr<Store> store = nullptr);
  ~HubHarness();

  Hub& hub() { return *hub_; }
  HubWorker& worker() { return *hub_->worker(0); }
  FakeBackend& backend() { return *backend_; }
  FakeVerifier& verifier() { return *verifier_; }
  FakeReactor& reactor() { return host_.fake_reactor(); }
  server::RouteHandler& handler() { return *handler_; }

  FakeSession& open();
  // A session whose upgrade request (`head`: a whole request head) is put to the route first;
  // on_open follows only once the hub accepted it (`verdict` tells what it said, at once).
  FakeSession& upgrade(std::string_view head, server::UpgradeVerdict& verdict);
  // Runs on_open for a session upgrade() left waiting (after finish_upgrade accepted it).
  void open_upgraded(FakeSession& session) { handler_->on_open(session); }
  FakeHost& host() { return host_; }
  void send(FakeSession& session, std::string_view text);
  void send_binary(FakeSession& session, std::string_view bytes);
  // Opens a session and connects it with `token`; the connect answer is taken.
  FakeSession& connected(std::string_view token);
  // Moves the clock and fires every session deadline that is due (repeatedly, in time order).
  void advance(uint64_t ms);
  // Runs the worker's mailbox (broker deliveries, worker sweeps).
  void drain() { reactor().drain(); }
  uint64_t now() const { return now_; }

 private:
  uint64_t now_ = 0;
  FakeHost host_;
  FakeVerifier* verifier_ = nullptr;
  std::shared_ptr<FakeBackend> backend_;
  std::unique_ptr<Hub> hub_;
  std::shared_ptr<server::RouteService> route_;
  std::unique_ptr<server::RouteHandler> handler_;
  std::vector<std::unique_ptr<FakeSession>> sessions_;
  uint32_t next_generation_ = 1;
};

// Fields of a JSON text by JSON pointer ("/code"); a failed test when absent or of another type.
uint64_t json_u64(std::string_view json, std::string_view pointer);
int64_t json_i64(std::string_view json, std::string_view pointer);
std::string json_str(std::string_view json, std::string_view pointer);
bool json_bool(std::string_view json, std::string_view pointer);
bool json_has(std::string_view json, std::string_view pointer);
// The element at `pointer`, minified.
std::string json_at(std::string_view json, std::string_view pointer);

}  // namespace wshub::hub::testing
