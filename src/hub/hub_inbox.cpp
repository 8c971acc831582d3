// The device inbox on a worker (docs/hub-protocol.md, Inbox): the inbox opened at connect,
// msg pushes read from the store after what was pushed, at most `window` unacked in flight,
// pushed again after ack_timeout, cumulative acks, and new messages announced by the API. The
// store's receipts become webhooks here too.
#include <spdlog/spdlog.h>

#include "hub/hub.h"
#include "hub/hub_request_support.h"
#include "hub/hub_worker.h"
#include "hub/json_writer.h"

namespace wshub::hub {

namespace {

constexpr uint64_t kReadRetryMs = 1000;  // a failed inbox read is tried again after this

BackendEvent backend_event(InboxEventType type) {
  switch (type) {
    case InboxEventType::delivered: return BackendEvent::inbox_delivered;
    case InboxEventType::acked: return BackendEvent::inbox_acked;
    case InboxEventType::expired: return BackendEvent::inbox_expired;
    case InboxEventType::undelivered: break;
  }
  return BackendEvent::inbox_undelivered;
}

// Receipts as notices to the backend: sent like disconnect (retried until they arrive).
class HubInboxEvents final : public InboxEvents {
 public:
  explicit HubInboxEvents(Hub& hub) : hub_(hub) {}
  void on_inbox_events(std::vector<InboxEvent>& events) override {
    for (InboxEvent& event : events) {
      const BackendEvent kind = backend_event(event.type);
      if (!hub_.has_webhook(kind)) continue;
      std::string body;
      JsonWriter(body).begin_object().member("type", inbox_event_name(event.type)).member("user", event.user)
          .member("device", event.device).member("id", event.id).member("seq", event.seq).end_object();
      hub_.backend()->notify(kind, std::move(body));
    }
  }

 private:
  Hub& hub_;
};

}  // namespace

const char* inbox_event_name(InboxEventType type) { return backend_event_name(backend_event(type)); }

std::unique_ptr<InboxEvents> make_inbox_events(Hub& hub) { return std::make_unique<HubInboxEvents>(hub); }

void HubWorker::inbox_open(HubSession& s, std::function<void(HubSession&, std::string)> done) {
  const uint32_t worker = index();
  hub_.inbox()->open(
      s.identity.device, s.identity.user, s.inbox.client_epoch, s.inbox.client_acked,
      [this, worker, ref = s.ref, done = std::move(done)](InboxOpened& opened) {
        hub_.post(worker, [this, ref, opened = std::move(opened), done] {
          HubRequests::with_live(*this, ref, [&](HubSession& s) {
            std::string json;
            JsonWriter writer(json);
            if (!opened.error.empty()) {
              // The connection works without its inbox; the answer says why it has none.
              hub_.fault_log().write("hub {}: inbox of device {:?} not opened: {}", s.cid,
                                     std::string_view(s.identity.device).substr(0, 80), opened.error);
              writer.begin_object().key("err").begin_object().member("code", uint64_t(ErrorCode::internal))
                  .member("msg", opened.error).end_object().end_object();
            } else {
              s.inbox.open = true;
              s.inbox.acked = opened.acked;
              s.inbox.sent_upto = opened.acked;
              writer.begin_object().member("ep", opened.epoch).member("head", opened.head)
                  .member("pending", opened.pending).end_object();
            }
            done(s, std::move(json));
          });
        });
      });
}

void HubWorker::inbox_start(HubSession& s) {
  if (!s.inbox.open || s.inbox.started) return;
  s.inbox.started = true;
  s.inbox.more = true;
  inbox_pump(s);
}

void HubWorker::inbox_pump(HubSession& s) {
  InboxCursor& inbox = s.inbox;
  const uint32_t window = hub_.config().inbox.window;
  if (!inbox.started || inbox.reading || !inbox.more || inbox.in_flight.size() >= window) return;
  inbox.reading = true;
  inbox.more = false;  // set again by an arrival during the read, or by a full page
  const uint32_t limit = window - uint32_t(inbox.in_flight.size());
  const uint32_t worker = index();
  hub_.inbox()->read(s.identity.device, inbox.sent_upto, limit,
                     [this, worker, ref = s.ref, limit](InboxPage& page) {
                       hub_.post(worker, [this, ref, limit, page = std::move(page)]() mutable {
                         HubRequests::with_live(*this, ref, [&](HubSession& s) { inbox_page(s, page, limit); });
                       });
                     });
}

void HubWorker::inbox_page(HubSession& s, InboxPage& page, uint32_t limit) {
  InboxCursor& inbox = s.inbox;
  inbox.reading = false;
  if (!page.error.empty()) {
    hub_.fault_log().write("hub {}: inbox read failed (tried again in {} ms): {}", s.cid, kReadRetryMs, page.error);
    inbox.more = true;
    inbox.retry_ms = now_ms() + kReadRetryMs;
    return schedule(s);
  }
  if (page.messages.size() >= limit) inbox.more = true;
  const uint64_t now = now_ms();
  uint64_t first = 0, last = 0;
  for (InboxMessage& message : page.messages) {
    if (message.seq <= inbox.sent_upto) continue;  // acked or pushed meanwhile
    std::string push;
    push.reserve(80 + message.id.size() + message.data.size());
    JsonWriter json(push);
    json.begin_object().member("t", "msg").member("seq", message.seq).member("id", message.id)
        .raw_member("data", message.data).member("ts", message.ts_ms);
    if (message.expires_ms) json.member("exp", message.expires_ms);
    json.end_object();
    send_push(s, push);
    inbox.in_flight.push_back({message.seq, now, std::move(push)});
    inbox.sent_upto = message.seq;
    if (!first) first = message.seq;
    last = message.seq;
  }
  if (first) hub_.inbox()->mark_sent(s.identity.device, first, last);
  schedule(s);
  inbox_pump(s);
}

void HubWorker::inbox_ack(HubSession& s, const Command& c) {
  InboxCursor& inbox = s.inbox;
  if (!inbox.open) return;  // no inbox (no device, or a memory store): nothing to acknowledge
  if (c.upto > inbox.sent_upto) {
    // The client counts what it never got: its cursor is broken, and acking it would lose
    // messages. Refused; the connection stays.
    hub_.fault_log().write_at(spdlog::level::debug, "hub {}: ack upto {} refused: the last msg sent is {}", s.cid,
                              c.upto, inbox.sent_upto);
    return answer_error(s, c.id, ErrorCode::bad_request,
                        "ack upto " + std::to_string(c.upto) + " is past the last msg sent (seq " +
                            std::to_string(inbox.sent_upto) + ")");
  }
  if (c.upto <= inbox.acked) return;
  inbox.acked = c.upto;
  size_t gone = 0;
  while (gone < inbox.in_flight.size() && inbox.in_flight[gone].seq <= c.upto) ++gone;
  inbox.in_flight.erase(inbox.in_flight.begin(), inbox.in_flight.begin() + ptrdiff_t(gone));
  hub_.inbox()->ack(s.identity.device, c.upto);
  inbox_pump(s);
  schedule(s);
}

void HubWorker::inbox_deadline(HubSession& s, uint64_t now) {
  InboxCursor& inbox = s.inbox;
  if (inbox.retry_ms && now >= inbox.retry_ms) {
    inbox.retry_ms = 0;
    inbox_pump(s);
  }
  const uint64_t timeout = uint64_t(hub_.config().inbox.ack_timeout_s) * 1000;
  for (InboxCursor::InFlight& flight : inbox.in_flight) {
    if (flight.sent_ms + timeout > now) continue;
    send_push(s, flight.push);
    flight.sent_ms = now;
  }
}

uint64_t HubWorker::inbox_due(const HubSession& s) const {
  uint64_t due = s.inbox.retry_ms;
  const uint64_t timeout = uint64_t(hub_.config().inbox.ack_timeout_s) * 1000;
  for (const InboxCursor::InFlight& flight : s.inbox.in_flight)
    if (due == 0 || flight.sent_ms + timeout < due) due = flight.sent_ms + timeout;
  return due;
}

size_t HubWorker::inbox_arrived(const std::vector<std::string>& devices) {
  size_t woken = 0;
  for (const std::string& device : devices) {
    auto [first, end] = by_device_.equal_range(device);
    for (auto it = first; it != end; ++it) {
      it->second->inbox.more = true;
      inbox_pump(*it->second);
      ++woken;
    }
  }
  return woken;
}

}  // namespace wshub::hub
