// What a hub session sends: answers (in request order, except rpc), pushes, and the
// disconnect notice before a close the server starts.
#include <spdlog/spdlog.h>

#include "hub/hub.h"
#include "hub/hub_worker.h"
#include "hub/json_writer.h"

namespace wshub::hub {

std::string HubWorker::ok_text(uint64_t id, std::string_view fields_json) {
  std::string text;
  text.reserve(32 + fields_json.size());
  JsonWriter json(text);
  json.begin_object().member("t", "ok").member("id", id);
  if (!fields_json.empty()) {
    // `fields_json` is a run of members ("a":1,"b":2) to append.
    text.push_back(',');
    text.append(fields_json);
  }
  json.end_object();
  return text;
}

std::string HubWorker::error_text(uint64_t id, ErrorCode code, std::string_view message) {
  count_error(code);
  if (code == ErrorCode::backend_unavailable) bump(counters_.backend_unavailable);
  std::string text;
  JsonWriter(text)
      .begin_object()
      .member("t", "err")
      .member("id", id)
      .member("code", uint64_t(code))
      .member("msg", message.empty() ? error_message(code) : message)
      .member("retry", error_retryable(code))
      .end_object();
  return text;
}

void HubWorker::answer_ok(HubSession& s, uint64_t id, std::string_view fields_json) {
  send_answer(s, id, ok_text(id, fields_json));
}

void HubWorker::answer_error(HubSession& s, uint64_t id, ErrorCode code, std::string_view message) {
  send_answer(s, id, error_text(id, code, message));
}

void HubWorker::answer_now(HubSession& s, uint64_t id, std::string text) {
  s.forget_pending(id);
  host_.with_session(s.ref, [&](server::Session& session) { session.send_text(text); });
}

void HubWorker::send_answer(HubSession& s, uint64_t id, std::string text) {
  for (OwedAnswer& owed : s.owed)
    if (owed.id == id && !owed.ready) return settle_answer(s, id, std::move(text));
  if (!s.owed.empty()) {
    s.owed.push_back({id, true, false, std::move(text)});
    return;
  }
  host_.with_session(s.ref, [&](server::Session& session) { session.send_text(text); });
}

void HubWorker::owe_answer(HubSession& s, uint64_t id) {
  s.pending_ids.push_back(id);
  s.owed.push_back({id, false, false, {}});
}

void HubWorker::settle_answer(HubSession& s, uint64_t id, std::string text) {
  s.forget_pending(id);
  for (OwedAnswer& owed : s.owed)
    if (owed.id == id && !owed.ready) {
      owed.ready = true;
      owed.text = std::move(text);
      break;
    }
  // Send every answer that no earlier pending one holds back.
  size_t ready = 0;
  while (ready < s.owed.size() && s.owed[ready].ready) ++ready;
  if (!ready) return;
  std::vector<uint64_t> releases;
  host_.with_session(s.ref, [&](server::Session& session) {
    for (size_t i = 0; i < ready; ++i) {
      session.send_text(s.owed[i].text);
      if (s.owed[i].releases_held) releases.push_back(s.owed[i].id);
    }
  });
  s.owed.erase(s.owed.begin(), s.owed.begin() + ptrdiff_t(ready));
  for (uint64_t released : releases) release_held(s, released);
}

void HubWorker::send_push(HubSession& s, std::string_view json) {
  host_.with_session(s.ref, [&](server::Session& session) { session.send_text(json); });
}

void HubWorker::end_session(HubSession& s, HubClose code, std::string_view reason) {
  if (reason.empty()) reason = close_reason(code);
  hub_.fault_log().write_at(spdlog::level::info, "hub {} (user {:?}): closing with {}: {}", s.cid,
                            std::string_view(s.identity.user).substr(0, 80), uint16_t(code), reason);
  // before_close sends the disconnect push while the session still counts as connected. The
  // server then leaves the open state and calls on_close, which deletes `s`, before close()
  // returns: nothing may touch `s` after a close.
  const bool closed =
      host_.with_session(s.ref, [&](server::Session& session) { session.close(uint16_t(code), reason); });
  if (!closed) s.stage = SessionStage::ended;
}

}  // namespace wshub::hub
