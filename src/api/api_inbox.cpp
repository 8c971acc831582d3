// The inbox's endpoints (docs/api.md): POST /api/send queues a message for a device or for
// each device of a user and answers once it is committed; GET /api/messages/{id} reads its
// receipts; /api/info's "inbox" section. Answers run on the request's worker.
#include <atomic>
#include <random>

#include "api/api_handlers.h"
#include "base/clock.h"
#include "hub/hub.h"
#include "hub/hub_worker.h"
#include "hub/json_writer.h"

namespace wshub::api {

namespace {

constexpr size_t kMaxTargetBytes = 255;  // a user or device id
constexpr size_t kMaxKeyBytes = 128;     // idempotency_key, collapse_key

constexpr std::string_view kNoInbox =
    "the device inbox needs the SQLite store, and this server runs with [store] kind = \"memory\"";

// A message id unique across restarts: the time, a per-process random start and a counter.
std::string next_message_id() {
  static std::atomic<uint64_t> counter{std::random_device{}() & 0xffffff};
  return fmt::format("m-{:x}-{:x}", wall_ms(), counter.fetch_add(1, std::memory_order_relaxed));
}

}  // namespace

void ApiService::Handlers::send(const server::HttpRequest& request, const ApiReply& reply) {
  hub::InboxStore* inbox = hub_.inbox();
  if (!inbox) return reply.error(501, 108, kNoInbox);
  if (!read_body(request, reply)) return;
  const hub::InboxSettings& settings = hub_.config().inbox;
  hub::InboxSendRequest send;
  const auto user = body().string("user", send.user);
  const auto device = body().string("device", send.device);
  if (user == JsonBody::Field::wrong_type || device == JsonBody::Field::wrong_type ||
      send.user.empty() == send.device.empty())
    return reply.error(400, 107, "give exactly one of user or device (a non-empty string)");
  if (send.user.size() > kMaxTargetBytes || send.device.size() > kMaxTargetBytes)
    return reply.error(400, 107, "user and device are at most 255 bytes");
  if (body().raw("data", send.data) != JsonBody::Field::ok) return reply.error(400, 107, "data is required: any JSON value");
  if (send.data.size() > hub_.config().limits.max_data_bytes)
    return reply.error(413, 114, "data is larger than hub.max_data_bytes");
  int64_t ttl = settings.default_ttl_s;
  const auto ttl_field = body().integer("ttl", ttl);
  if (ttl_field == JsonBody::Field::wrong_type || (ttl_field == JsonBody::Field::ok && (ttl < 1 || ttl > settings.max_ttl_s)))
    return reply.error(400, 107, "ttl must be a whole number of seconds from 1 to " + std::to_string(settings.max_ttl_s) +
                                     " (inbox.max_ttl_s)");
  if (body().string("idempotency_key", send.idempotency_key) == JsonBody::Field::wrong_type ||
      send.idempotency_key.size() > kMaxKeyBytes)
    return reply.error(400, 107, "idempotency_key must be a string of at most 128 bytes");
  if (body().string("collapse_key", send.collapse_key) == JsonBody::Field::wrong_type ||
      send.collapse_key.size() > kMaxKeyBytes)
    return reply.error(400, 107, "collapse_key must be a string of at most 128 bytes");
  send.id = next_message_id();
  send.ts_ms = wall_ms();
  send.expires_ms = ttl > 0 ? send.ts_ms + ttl * 1000 : 0;
  const uint32_t worker = request.worker;
  inbox->send(std::move(send), [this, worker, reply](hub::InboxSendResult& result) {
    hub_.post(worker, [this, worker, reply, result = std::move(result)]() mutable {
      using Status = hub::InboxSendResult::Status;
      switch (result.status) {
        case Status::stored: {
          std::vector<std::string> devices;
          for (const hub::InboxCopy& copy : result.copies) devices.push_back(copy.device);
          // Whichever worker holds a device's connection pushes it from the store.
          hub_.for_each_worker(
              worker, [devices = std::move(devices)](hub::HubWorker& w) { return w.inbox_arrived(devices); },
              [](size_t) {});
          [[fallthrough]];
        }
        case Status::duplicate: return reply.send(200, std::move(result.answer) + "\n");
        case Status::no_device: return reply.error(404, 102, result.message);
        case Status::full: return reply.error(429, 115, result.message);
        case Status::failed: return reply.error(503, 100, result.message);
      }
    });
  });
}

void ApiService::Handlers::messages(const server::HttpRequest& request, const ApiReply& reply) {
  hub::InboxStore* inbox = hub_.inbox();
  if (!inbox) return reply.error(501, 108, kNoInbox);
  const std::string_view id = request.path.substr(std::string_view("/api/messages/").size());
  if (id.empty() || id.size() > 64 || id.find('/') != std::string_view::npos)
    return reply.error(400, 107, "give a message id: GET /api/messages/ID (the id /api/send answered)");
  const uint32_t worker = request.worker;
  inbox->receipts(id, [this, worker, reply, id = std::string(id)](hub::MessageReceipts& receipts) {
    hub_.post(worker, [this, reply, id, receipts = std::move(receipts)] {
      if (!receipts.error.empty()) return reply.error(503, 100, receipts.error);
      if (!receipts.found)
        return reply.error(404, 102, "no message '" + id.substr(0, 64) + "' is known (receipts are kept " +
                                         std::to_string(hub_.config().inbox.receipt_retention_s) +
                                         " s after ack or expiry: inbox.receipt_retention_s)");
      std::string body;
      hub::JsonWriter json(body);
      json.begin_object().member("id", id).member("created", receipts.created_ms).key("states").begin_object();
      for (const auto& [device, state] : receipts.states) json.member(device, state);
      json.end_object().end_object();
      body.push_back('\n');
      reply.send(200, std::move(body));
    });
  });
}

void ApiService::Handlers::publish_once(uint32_t worker, std::string channel, std::string data, std::string key,
                                        const ApiReply& reply) {
  hub::InboxStore* inbox = hub_.inbox();
  if (!inbox) return reply.error(501, 108, "idempotency_key needs the SQLite store, and this server runs with [store] kind = \"memory\"");
  inbox->claim_key("publish", key, [this, worker, channel = std::move(channel), data = std::move(data), key,
                                    reply](hub::IdempotencyClaim& claim) {
    hub_.post(worker, [this, worker, channel, data, key, reply, claim = std::move(claim)] {
      using Status = hub::IdempotencyClaim::Status;
      switch (claim.status) {
        case Status::answered: return reply.send(200, claim.answer + "\n");
        case Status::busy:
          return reply.error(409, 107, "a publish with this idempotency_key is still in progress; retry in a moment");
        case Status::failed: return reply.error(503, 100, claim.error);
        case Status::fresh: break;
      }
      // With history the store writes the answer in the publication's transaction; without, it
      // is recorded once the publication is placed (nothing of it is stored anyway).
      const bool stored = hub_.broker().keeps_history(channel);
      class Reply final : public hub::PublishCompletion {
       public:
        Reply(hub::InboxStore& inbox, std::string key, bool stored, ApiReply reply)
            : inbox_(inbox), key_(std::move(key)), stored_(stored), reply_(std::move(reply)) {}
        void on_published(const hub::PublishResult& result) override {
          if (!result.ok) {
            inbox_.release_key("publish", key_);
            return reply_.error(503, uint32_t(result.error), result.message);
          }
          std::string body;
          hub::JsonWriter(body).begin_object().member("epoch", result.position.epoch)
              .member("offset", result.position.offset).end_object();
          if (!stored_) inbox_.record_key("publish", key_, body);
          body.push_back('\n');
          reply_.send(200, std::move(body));
        }

       private:
        hub::InboxStore& inbox_;
        std::string key_;
        bool stored_;
        ApiReply reply_;
      };
      hub::Publication publication{channel, data, wall_ms()};
      publication.idempotency_key = key;
      hub_.broker().publish(worker, publication, std::make_unique<Reply>(*hub_.inbox(), key, stored, reply));
    });
  });
}

std::string ApiService::Handlers::inbox_info(const server::HttpRequest& request) {
  std::string out;
  hub::JsonWriter json(out);
  hub::InboxStore* inbox = hub_.inbox();
  if (!inbox) {
    json.begin_object().member("available", false).member("note", kNoInbox).end_object();
    return out;
  }
  const hub::InboxTotals totals = inbox->totals();
  json.begin_object().member("available", true).member("pending", totals.pending)
      .member("devices_with_pending", inbox->devices_with_pending()).member("sent", totals.sends)
      .member("delivered", totals.delivered).member("acked", totals.acked).member("expired", totals.expired)
      .member("duplicates", totals.duplicates);
  std::string device;
  if (query_value(request.query, "device", device)) {
    const hub::InboxDeviceSummary summary = inbox->device_summary(device.substr(0, kMaxTargetBytes));
    json.key("device");
    if (!summary.found) {
      json.null();
    } else {
      json.begin_object().member("device", device).member("user", summary.user).member("ep", summary.epoch)
          .member("head", summary.head).member("acked", summary.acked).member("pending", summary.pending)
          .member("last_seen", summary.last_seen_ms).end_object();
    }
  }
  json.end_object();
  return out;
}

}  // namespace wshub::api
