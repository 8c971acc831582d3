// What the hub's request handlers share (internal to the hub's request files): running code on
// a session that may be gone by then, completions as lambdas, and the parts of webhook bodies.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>
#include <utility>

#include "hub/backend.h"
#include "hub/backend_answers.h"
#include "hub/broker.h"
#include "hub/hub_worker.h"
#include "hub/json_writer.h"

namespace wshub::hub {

// The completions of requests that wait for the backend or the broker. Each holds the
// connection's handle, never the session: the connection may be gone when it runs.
class HubRequests {
 public:
  // Runs `use(session, hub_session)` when the connection is still open, else nothing.
  template <typename Use>
  static void with_live(HubWorker& worker, server::ConnectionRef ref, Use&& use) {
    worker.host_.with_session(ref, [&](server::Session& session) {
      if (HubSession* s = session.state_as<HubSession>(); s && s->stage != SessionStage::ended) use(*s);
    });
  }
};

// The refusal a client sees for a backend's {error:{code,message}}.
inline ErrorCode refusal_code(const BackendRefusal& refusal, ErrorCode fallback) {
  return refusal.code ? ErrorCode(refusal.code) : fallback;
}

template <typename Done>
class Callback final : public BackendCall {
 public:
  explicit Callback(Done done) : done_(std::move(done)) {}
  void on_response(BackendResponse response) override { done_(std::move(response)); }

 private:
  Done done_;
};
template <typename Done>
std::unique_ptr<BackendCall> callback(Done done) {
  return std::make_unique<Callback<Done>>(std::move(done));
}

template <typename Done>
class PublishDone final : public PublishCompletion {
 public:
  explicit PublishDone(Done done) : done_(std::move(done)) {}
  void on_published(const PublishResult& result) override { done_(result); }

 private:
  Done done_;
};

// A connect answer whose `subs` entries may come in later (resumes read from history): each
// entry is kept in place, and the whole answer is written once none is pending.
struct ConnectAnswer {
  std::string head;                  // the members before "subs"
  std::vector<std::string> entries;  // "CHANNEL":{...}, in the order of the request's subs
  std::string inbox;                 // the inbox object, once opened ("" without an inbox)
  size_t pending = 0;

  void set(size_t index, std::string_view channel, ErrorCode error, std::string text) {
    std::string& out = entries[index];
    out.clear();
    JsonWriter json(out);
    json.key(channel);
    if (error == ErrorCode(0)) {
      out.push_back('{');
      out += text;
      out.push_back('}');
    } else {
      json.begin_object().key("err").begin_object().member("code", uint64_t(error)).member("msg", text)
          .end_object().end_object();
    }
  }
  std::string fields() const {
    std::string out = head + ",\"subs\":{";
    for (size_t i = 0; i < entries.size(); ++i) {
      if (i) out.push_back(',');
      out += entries[i];
    }
    out.push_back('}');
    if (!inbox.empty()) {
      out += ",\"inbox\":";
      out += inbox;
    }
    return out;
  }
};

inline void append_webhook_head(JsonWriter& json, std::string_view type, const HubSession& s) {
  json.member("type", type).member("cid", s.cid).member("user", s.identity.user)
      .member("device", s.identity.device);
}

}  // namespace wshub::hub
