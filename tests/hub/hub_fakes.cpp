#include "hub_fakes.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>

namespace wshub::hub::testing {

namespace {

class NullStreamHandler final : public net::StreamHandler {
 public:
  net::Stream* open_stream(int, const net::PeerAddress&, uint16_t) override { return nullptr; }
  void on_data(net::Stream&, MutableBytes) override {}
  void on_hangup(net::Stream&) override {}
  void on_drained(net::Stream&) override {}
  void on_timer(net::Stream&) override {}
  void on_closed(net::Stream&) override {}
  void on_shutdown() override {}
};

net::StreamHandler& null_stream_handler() {
  static NullStreamHandler handler;
  return handler;
}

}  // namespace

FakeReactor::FakeReactor() : net::Reactor(null_stream_handler(), net::ReactorOptions{}) {}

// --- FakeSession -------------------------------------------------------------------------------

FakeSession::FakeSession(FakeHost& host, uint32_t generation)
    : host_(host), connection_(std::make_unique<server::Connection>()) {
  connection_->fd = 1000 + int(generation);
  connection_->generation = generation;
  connection_->state = server::ConnectionState::open;
  host_.add(*this);
}

FakeSession::~FakeSession() { host_.remove(*this); }

bool FakeSession::record(proto::Opcode opcode, Bytes payload, bool urgent) {
  if (!open_) return false;
  EXPECT_EQ(opcode, proto::Opcode::text) << "the hub sends text frames only";
  frames_.push_back({std::string(as_text(payload)), urgent});
  return true;
}

bool FakeSession::send(proto::Opcode opcode, Bytes payload) { return record(opcode, payload, false); }

bool FakeSession::send_frame(const SharedBuffer&) {
  ADD_FAILURE() << "the hub sends shared frames as FrameVariants";
  return false;
}

bool FakeSession::send_variants(const proto::FrameVariants& frame) {
  if (overflow_code_ && open_) {
    close(overflow_code_, "send buffer limit reached");
    return false;
  }
  return record(frame.opcode(), frame.payload(), false);
}

bool FakeSession::send_urgent(proto::Opcode opcode, Bytes payload) { return record(opcode, payload, true); }

void FakeSession::close(uint16_t code, std::string_view reason) {
  if (!open_) return;
  // As server::Worker::close_connection: the notice, then the close frame, then the handler
  // learns the connection left the open state and its state is released.
  host_.handler().before_close(*this, code, reason);
  open_ = false;
  close_code_ = code;
  close_reason_ = std::string(reason);
  connection_->state = server::ConnectionState::closing;
  host_.handler().on_close(*this);
  state_.reset();
  deadline_ms_ = 0;
}

void FakeSession::drop() {
  if (!open_) return;
  open_ = false;
  connection_->state = server::ConnectionState::closing;
  host_.handler().on_close(*this);
  state_.reset();
  deadline_ms_ = 0;
}

uint64_t FakeSession::now_ms() const { return const_cast<FakeHost&>(host_).reactor().now_ms(); }

std::vector<std::string> FakeSession::take() {
  std::vector<std::string> out;
  for (; taken_ < frames_.size(); ++taken_) out.push_back(frames_[taken_].text);
  return out;
}

// --- FakeHost ----------------------------------------------------------------------------------

FakeSession* FakeHost::find(const server::Connection* connection) {
  for (FakeSession* session : sessions_)
    if (&session->connection() == connection) return session;
  return nullptr;
}

void FakeHost::remove(FakeSession& session) {
  sessions_.erase(std::remove(sessions_.begin(), sessions_.end(), &session), sessions_.end());
}

bool FakeHost::send_variants(server::Connection& connection, const proto::FrameVariants& frame) {
  FakeSession* session = find(&connection);
  EXPECT_NE(session, nullptr) << "a fan-out to a connection that is not this worker's";
  return session && session->send_variants(frame);
}

bool FakeHost::visit_session(server::ConnectionRef ref, SessionUse& use) {
  FakeSession* session = find(ref.connection);
  if (!session || !session->open() || ref.generation != session->connection().generation) return false;
  use(*session);
  return true;
}

// --- FakeBackend, FakeVerifier -----------------------------------------------------------------

void FakeBackend::answer(size_t index, std::string body) {
  ASSERT_LT(index, calls.size());
  ASSERT_TRUE(calls[index].done) << "call " << index << " was completed already";
  BackendResponse response;
  response.answered = true;
  response.status = 200;
  response.body = std::move(body);
  auto done = std::move(calls[index].done);
  done->on_response(std::move(response));
}

void FakeBackend::fail(size_t index, std::string detail) {
  ASSERT_LT(index, calls.size());
  ASSERT_TRUE(calls[index].done) << "call " << index << " was completed already";
  BackendResponse response;
  response.detail = std::move(detail);
  auto done = std::move(calls[index].done);
  done->on_response(std::move(response));
}

TokenCheck FakeVerifier::verify(std::string_view token, int64_t now_ms, Identity& identity) const {
  auto it = known_.find(token);
  if (it == known_.end()) return {false, ErrorCode::unauthorized, "unknown token"};
  if (!it->second.ok) return it->second.refusal;
  identity = it->second.identity;
  if (identity.expires_ms) identity.expires_ms += now_ms;
  return {true, ErrorCode::unauthorized, {}};
}

NamespaceConfig namespace_of(std::string name, SubscribePolicy subscribe, PublishPolicy publish,
                             bool presence, bool join_leave) {
  NamespaceConfig ns;
  ns.name = std::move(name);
  ns.subscribe = subscribe;
  ns.publish = publish;
  ns.presence = presence;
  ns.join_leave = join_leave;
  return ns;
}

Identity identity_of(std::string user, std::string device, int64_t expires_in_ms) {
  Identity identity;
  identity.user = std::move(user);
  identity.device = std::move(device);
  identity.expires_ms = expires_in_ms;
  return identity;
}

// --- HubHarness --------------------------------------------------------------------------------

HubHarness::HubHarness(HubConfig config, std::set<BackendEvent> webhooks, HubRouteParams params,
                       bool with_verifier, std::unique_ptr<Store> store) {
  auto verifier = std::make_unique<FakeVerifier>();
  verifier_ = verifier.get();
  if (!with_verifier) {
    verifier.reset();
    verifier_ = nullptr;
  }
  hub_ = std::make_unique<Hub>(std::move(config), store ? std::move(store) : make_memory_store(), std::move(verifier));
  backend_ = std::make_shared<FakeBackend>(std::move(webhooks));
  hub_->set_backend(backend_);
  route_ = hub_->make_route(params);
  handler_ = route_->make_handler(host_);
  host_.set_handler(handler_.get());
  now_ = reactor().now_ms();
}

HubHarness::~HubHarness() {
  // The peers leave; the hub must let go of every session.
  for (auto& session : sessions_) session->drop();
  drain();
  EXPECT_EQ(worker().counters().sessions.load(), 0u);
  EXPECT_EQ(worker().counters().connected.load(), 0u);
  EXPECT_EQ(worker().counters().subscriptions.load(), 0u);
  sessions_.clear();
}

bool FakeHost::finish_upgrade(server::ConnectionRef ref, const server::UpgradeVerdict& verdict) {
  auto it = std::find(waiting_upgrades.begin(), waiting_upgrades.end(), ref.connection);
  if (it == waiting_upgrades.end() || !ref.alive()) return false;
  waiting_upgrades.erase(it);
  upgrades.push_back({ref, verdict});
  return true;
}

FakeSession& HubHarness::upgrade(std::string_view head, server::UpgradeVerdict& verdict) {
  sessions_.push_back(std::make_unique<FakeSession>(host_, next_generation_++));
  FakeSession& session = *sessions_.back();
  proto::HttpRequestHead parsed;
  EXPECT_EQ(proto::parse_complete_head(head, {}, parsed), proto::HttpHeadError::none);
  const server::UpgradeRequest request{parsed, session.client(), "wshub.v1.json", session.ref()};
  host_.waiting_upgrades.push_back(&session.connection());
  verdict = handler_->on_upgrade(request);
  if (verdict.decision != server::UpgradeVerdict::Decision::defer) {
    host_.waiting_upgrades.pop_back();
    if (verdict.decision == server::UpgradeVerdict::Decision::accept) handler_->on_open(session);
  }
  return session;
}

FakeSession& HubHarness::open() {
  sessions_.push_back(std::make_unique<FakeSession>(host_, next_generation_++));
  FakeSession& session = *sessions_.back();
  handler_->on_open(session);
  return session;
}

void HubHarness::send(FakeSession& session, std::string_view text) {
  ASSERT_TRUE(session.open()) << "sending on a closed session: " << text;
  handler_->on_message(session, proto::Opcode::text, as_bytes(text));
}

void HubHarness::send_binary(FakeSession& session, std::string_view bytes) {
  handler_->on_message(session, proto::Opcode::binary, as_bytes(bytes));
}

FakeSession& HubHarness::connected(std::string_view token) {
  FakeSession& session = open();
  std::string connect = R"({"t":"connect","id":1,"token":")" + std::string(token) + R"("})";
  send(session, connect);
  std::vector<std::string> sent = session.take();
  EXPECT_EQ(sent.size(), 1u);
  if (!sent.empty()) {
    EXPECT_EQ(json_str(sent[0], "/t"), "ok") << sent[0];
  }
  return session;
}

void HubHarness::advance(uint64_t ms) {
  const uint64_t target = now_ + ms;
  for (;;) {
    FakeSession* due = nullptr;
    for (auto& session : sessions_) {
      const uint64_t at = session->deadline_ms();
      if (session->open() && at && at <= target && (!due || at < due->deadline_ms())) due = session.get();
    }
    if (!due) break;
    // The hub sees the earliest moment its deadline may fire.
    now_ = std::max(now_, due->deadline_ms());
    reactor().set_now(now_);
    due->clear_deadline();
    handler_->on_deadline(*due);
  }
  now_ = target;
  reactor().set_now(now_);
}

// --- JSON fields -------------------------------------------------------------------------------

namespace {

simdjson::dom::element element_at(simdjson::dom::parser& parser, std::string_view json,
                                   std::string_view pointer, bool& found) {
  simdjson::dom::element root, element;
  found = !parser.parse(json.data(), json.size()).get(root) && !root.at_pointer(pointer).get(element);
  return element;
}

}  // namespace

uint64_t json_u64(std::string_view json, std::string_view pointer) {
  simdjson::dom::parser parser;
  bool found = false;
  uint64_t value = 0;
  auto element = element_at(parser, json, pointer, found);
  if (!found || element.get(value)) ADD_FAILURE() << "no whole number at " << pointer << " in " << json;
  return value;
}

int64_t json_i64(std::string_view json, std::string_view pointer) {
  simdjson::dom::parser parser;
  bool found = false;
  int64_t value = 0;
  auto element = element_at(parser, json, pointer, found);
  if (!found || element.get(value)) ADD_FAILURE() << "no integer at " << pointer << " in " << json;
  return value;
}

std::string json_str(std::string_view json, std::string_view pointer) {
  simdjson::dom::parser parser;
  bool found = false;
  std::string_view value;
  auto element = element_at(parser, json, pointer, found);
  if (!found || element.get(value)) ADD_FAILURE() << "no string at " << pointer << " in " << json;
  return std::string(value);
}

bool json_bool(std::string_view json, std::string_view pointer) {
  simdjson::dom::parser parser;
  bool found = false;
  bool value = false;
  auto element = element_at(parser, json, pointer, found);
  if (!found || element.get(value)) ADD_FAILURE() << "no boolean at " << pointer << " in " << json;
  return value;
}

bool json_has(std::string_view json, std::string_view pointer) {
  simdjson::dom::parser parser;
  bool found = false;
  element_at(parser, json, pointer, found);
  return found;
}

std::string json_at(std::string_view json, std::string_view pointer) {
  simdjson::dom::parser parser;
  bool found = false;
  auto element = element_at(parser, json, pointer, found);
  if (!found) {
    ADD_FAILURE() << "nothing at " << pointer << " in " << json;
    return {};
  }
  return simdjson::minify(element);
}

}  // namespace wshub::hub::testing
