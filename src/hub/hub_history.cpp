// Channel history on a worker: `subscribe` with `since` on a channel that keeps history (the
// missed publications in the answer, then live ones, none twice and none skipped), and the
// `history` request. Reads run on the store's reader thread; their pages come back here.
#include "base/clock.h"
#include "hub/channel_name.h"
#include "hub/history_window.h"
#include "hub/hub.h"
#include "hub/hub_request_support.h"

namespace wshub::hub {

namespace {

// Resumes up to this many publications behind are answered in one go and then go live; a
// client further behind gets pages (`more: true`) and subscribes again from the last one.
constexpr uint64_t kResumeWindow = kHistoryMaxLimit;

void append_pubs(JsonWriter& json, const std::vector<StoredPublication>& pubs) {
  json.key("pubs").begin_array();
  for (const StoredPublication& pub : pubs)
    json.begin_object().member("off", pub.offset).raw_member("data", pub.data).member("ts", pub.ts_ms).end_object();
  json.end_array();
}

}  // namespace

HubWorker::ResumeDone HubWorker::settle_resumed(uint64_t id) {
  return [this, id](HubSession& s, ErrorCode error, std::string text) {
    settle_answer(s, id, error == ErrorCode(0) ? ok_text(id, text) : error_text(id, error, text));
  };
}

void HubWorker::hold_last_subscription(HubSession& s, uint64_t answer_id) {
  OwedAnswer* owed = nullptr;
  for (OwedAnswer& answer : s.owed)
    if (answer.id == answer_id && !answer.ready) owed = &answer;
  if (!owed || s.subscriptions.empty()) return;  // sent already: nothing to hold for
  owed->releases_held = true;
  LocalChannel& local = *s.subscriptions.back().channel;
  uint64_t& from = local.members[s.subscriptions.back().member].from_offset;
  if (from & LocalChannel::kHeld) return;
  from |= LocalChannel::kHeld;
  s.held.push_back({&local, answer_id, {}});
}

void HubWorker::resume_subscription(HubSession& s, uint64_t id, std::string_view channel, std::string_view epoch,
                                    uint64_t since, ResumeDone done) {
  const ChannelPosition current = hub_.broker().position(channel);
  if (epoch != current.epoch || since > current.offset) {
    // Another epoch, or a position the channel never reached: nothing to read.
    std::string fields = subscribed_fields(s, channel, true, epoch, since);
    hold_last_subscription(s, id);
    return done(s, ErrorCode(0), std::move(fields));
  }
  const uint64_t behind = current.offset - since;
  if (behind > kResumeWindow) {
    // Far behind: one page now, not subscribed yet; the client asks again from its last one.
    hub_.broker().read_history(
        index(), channel, since, kHistoryMaxLimit, kHistoryPageBytes,
        [this, ref = s.ref, id, done = std::move(done), channel = std::string(channel), epoch = std::string(epoch),
         since](HistoryPage& page) {
          HubRequests::with_live(*this, ref, [&](HubSession& s) {
            if (!page.error.empty()) return done(s, ErrorCode::internal, page.error);
            if (subscribed(s, channel))
              return done(s, ErrorCode::already_subscribed, std::string(error_message(ErrorCode::already_subscribed)));
            if (page.stored.epoch != epoch || !history_unbroken(page, since)) {
              std::string fields = subscribed_fields(s, channel, true, "", 0);
              hold_last_subscription(s, id);
              return done(s, ErrorCode(0), std::move(fields));
            }
            std::string fields;
            JsonWriter json(fields);
            json.member("ep", page.stored.epoch).member("off", page.stored.offset).member("rec", true);
            append_pubs(json, page.pubs);
            json.member("more", true);
            done(s, ErrorCode(0), std::move(fields));
          });
        });
    return;
  }
  ChannelPosition position;
  add_subscription(s, channel, position);
  hold_last_subscription(s, id);
  if (position.offset == since) {
    std::string fields;
    JsonWriter(fields).member("ep", position.epoch).member("off", position.offset).member("rec", true)
        .key("pubs").begin_array().end_array().member("more", false);
    return done(s, ErrorCode(0), std::move(fields));
  }
  // Live publications after `position` are held until the answer with the missed ones is sent:
  // the read covers (since, position.offset], live delivery starts after it.
  hold_last_subscription(s, id);
  const uint64_t missed = position.offset - since;
  hub_.broker().read_history(
      index(), channel, since, uint32_t(missed), kHistoryPageBytes,
      [this, ref = s.ref, done = std::move(done), channel = std::string(channel), position, since,
       missed](HistoryPage& page) {
        HubRequests::with_live(*this, ref, [&](HubSession& s) {
          const bool whole = page.error.empty() && page.stored.epoch == position.epoch &&
                             page.pubs.size() == missed && history_unbroken(page, since);
          std::string fields;
          JsonWriter json(fields);
          if (!whole && page.error.empty() && page.pubs.size() < missed && history_unbroken(page, since) &&
              page.stored.epoch == position.epoch) {
            // The page's byte limit cut it: page mode after all, unsubscribed again.
            remove_subscription(s, channel);
            json.member("ep", position.epoch).member("off", position.offset).member("rec", true);
            append_pubs(json, page.pubs);
            json.member("more", true);
            return done(s, ErrorCode(0), std::move(fields));
          }
          json.member("ep", position.epoch).member("off", position.offset).member("rec", whole);
          if (whole) append_pubs(json, page.pubs);
          else json.key("pubs").begin_array().end_array();
          json.member("more", false);
          done(s, ErrorCode(0), std::move(fields));
        });
      });
}

void HubWorker::hold_delivery(HubSession& s, std::string_view channel,
                              const std::shared_ptr<const proto::FrameVariants>& frame) {
  for (HeldSubscription& held : s.held)
    if (held.channel->name == channel) return held.frames.push_back(frame);
}

void HubWorker::release_held(HubSession& s, uint64_t answer_id) {
  // Every subscription that waited for this answer (a connect's may be several), in the order
  // they were made.
  std::vector<HeldSubscription> released;
  for (size_t h = 0; h < s.held.size();) {
    if (s.held[h].answer_id != answer_id) {
      ++h;
      continue;
    }
    released.push_back(std::move(s.held[h]));
    s.held.erase(s.held.begin() + ptrdiff_t(h));
  }
  for (HeldSubscription& held : released) {
    for (const SessionSubscription& sub : s.subscriptions)
      if (sub.channel == held.channel) sub.channel->members[sub.member].from_offset &= ~LocalChannel::kHeld;
    host_.with_session(s.ref, [&](server::Session& session) {
      for (const auto& frame : held.frames) session.send_variants(*frame);
    });
    bump(counters_.publications_delivered, int64_t(held.frames.size()));
  }
}

void HubWorker::history(HubSession& s, const Command& c) {
  ChannelName name;
  if (ChannelNameError bad = parse_channel_name(c.channel, name); bad != ChannelNameError::none)
    return answer_error(s, c.id, ErrorCode::bad_request, channel_name_error_sentence(bad));
  const bool personal = name.kind == ChannelKind::personal_user || name.kind == ChannelKind::personal_device;
  if (!personal && !hub_.config().find_namespace(name.ns)) return answer_error(s, c.id, ErrorCode::unknown_channel);
  if (!hub_.broker().keeps_history(c.channel))
    return answer_error(s, c.id, ErrorCode::not_available, "history is not kept for this channel");
  // Permission to subscribe is enough; where a webhook decides that, a subscription is needed.
  ErrorCode error{};
  std::string message;
  if (!subscribed(s, c.channel) && !check_subscribe(s, c.channel, error, message))
    return answer_error(s, c.id, error == ErrorCode(0) ? ErrorCode::permission_denied : error, message);
  if (s.pending_ids.size() >= hub_.config().limits.max_pending_requests)
    return answer_error(s, c.id, ErrorCode::too_many_requests);
  const uint32_t limit = c.limit ? std::min(c.limit, kHistoryMaxLimit) : kHistoryDefaultLimit;
  const ChannelPosition current = hub_.broker().position(c.channel);
  if (c.since.present && (c.since.epoch != current.epoch || c.since.offset > current.offset)) {
    std::string fields;
    JsonWriter json(fields);
    json.key("pubs").begin_array().end_array().member("ep", current.epoch).member("off", current.offset)
        .member("rec", false).member("more", false);
    return answer_ok(s, c.id, fields);
  }
  const uint64_t after = history_after(c.since.present, c.since.offset, limit, current.offset);
  owe_answer(s, c.id);
  hub_.broker().read_history(index(), c.channel, after, limit, kHistoryPageBytes,
                             [this, ref = s.ref, id = c.id, after](HistoryPage& page) {
                               HubRequests::with_live(*this, ref, [&](HubSession& s) {
                                 if (!page.error.empty())
                                   return settle_answer(s, id, error_text(id, ErrorCode::internal, page.error));
                                 std::string fields;
                                 JsonWriter json(fields);
                                 append_pubs(json, page.pubs);
                                 json.member("ep", page.stored.epoch).member("off", page.stored.offset)
                                     .member("rec", history_unbroken(page, after))
                                     .member("more", history_more(page, after));
                                 settle_answer(s, id, ok_text(id, fields));
                               });
                             });
}

}  // namespace wshub::hub
