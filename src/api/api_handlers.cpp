#include "api/api_handlers.h"

#include <mutex>

#include "base/clock.h"
#include "hub/channel_name.h"
#include "hub/history_window.h"
#include "hub/hub.h"
#include "hub/hub_worker.h"
#include "hub/json_writer.h"

namespace wshub::api {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Answers a publication placed by the broker.
class PublishReply final : public hub::PublishCompletion {
 public:
  explicit PublishReply(ApiReply reply) : reply_(reply) {}
  void on_published(const hub::PublishResult& result) override {
    if (!result.ok) return reply_.error(503, uint32_t(result.error), result.message);
    std::string body;
    hub::JsonWriter(body).begin_object().member("epoch", result.position.epoch)
        .member("offset", result.position.offset).end_object();
    body.push_back('\n');
    reply_.send(200, std::move(body));
  }

 private:
  ApiReply reply_;
};

}  // namespace

bool query_value(std::string_view query, std::string_view key, std::string& out) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) != key) continue;
    std::string_view value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    out.clear();
    for (size_t i = 0; i < value.size(); ++i) {
      if (value[i] == '+') {
        out.push_back(' ');
      } else if (value[i] == '%' && i + 2 < value.size() && hex_value(value[i + 1]) >= 0 &&
                 hex_value(value[i + 2]) >= 0) {
        out.push_back(char(hex_value(value[i + 1]) * 16 + hex_value(value[i + 2])));
        i += 2;
      } else {
        out.push_back(value[i]);
      }
    }
    return true;
  }
  return false;
}

JsonBody& ApiService::Handlers::body() {
  thread_local JsonBody reader;
  return reader;
}

void ApiService::Handlers::handle(ApiEndpoint endpoint, const server::HttpRequest& request,
                                  const ApiReply& reply) {
  switch (endpoint) {
    case ApiEndpoint::publish: return publish(request, reply);
    case ApiEndpoint::broadcast: return broadcast(request, reply);
    case ApiEndpoint::subscribe: return subscription(true, request, reply);
    case ApiEndpoint::unsubscribe: return subscription(false, request, reply);
    case ApiEndpoint::disconnect: return disconnect(request, reply);
    case ApiEndpoint::presence: return presence(request, reply);
    case ApiEndpoint::channels: return channels(request, reply);
    case ApiEndpoint::info: return info(request, reply);
    case ApiEndpoint::history: return history(request, reply);
    case ApiEndpoint::send: return send(request, reply);
    case ApiEndpoint::messages: return messages(request, reply);
    default: return reply.error(404, 104, "no such endpoint");
  }
}

bool ApiService::Handlers::read_body(const server::HttpRequest& request, const ApiReply& reply) {
  std::string problem;
  if (body().parse(request.body, problem)) return true;
  reply.error(400, 107, problem);
  return false;
}

bool ApiService::Handlers::check_channel(std::string_view channel, const ApiReply& reply) {
  hub::ChannelName name;
  if (hub::ChannelNameError bad = hub::parse_channel_name(channel, name); bad != hub::ChannelNameError::none) {
    reply.error(400, 107, std::string(hub::channel_name_error_sentence(bad)) + ": '" +
                              std::string(channel.substr(0, 255)) + "'");
    return false;
  }
  if (name.kind == hub::ChannelKind::internal) {
    reply.error(403, 103, "$admin: channels are the server's own; the backend cannot publish to them");
    return false;
  }
  const bool personal = name.kind == hub::ChannelKind::personal_user || name.kind == hub::ChannelKind::personal_device;
  if (!personal && !hub_.config().find_namespace(name.ns)) {
    reply.error(404, 102, "no namespace '" + std::string(name.ns) + "' is configured ([[hub.namespace]])");
    return false;
  }
  return true;
}

void ApiService::Handlers::publish(const server::HttpRequest& request, const ApiReply& reply) {
  if (!read_body(request, reply)) return;
  std::string channel, data;
  if (body().string("channel", channel) != JsonBody::Field::ok)
    return reply.error(400, 107, "channel is required: a string");
  if (body().raw("data", data) != JsonBody::Field::ok) return reply.error(400, 107, "data is required: any JSON value");
  if (!check_channel(channel, reply)) return;
  if (data.size() > hub_.config().limits.max_data_bytes)
    return reply.error(413, 114, "data is larger than hub.max_data_bytes");
  std::string key;
  if (body().string("idempotency_key", key) == JsonBody::Field::wrong_type || key.size() > 128)
    return reply.error(400, 107, "idempotency_key must be a string of at most 128 bytes");
  if (!key.empty()) return publish_once(request.worker, std::move(channel), std::move(data), std::move(key), reply);
  hub_.broker().publish(request.worker, hub::Publication{channel, data, wall_ms()},
                        std::make_unique<PublishReply>(reply));
}

void ApiService::Handlers::broadcast(const server::HttpRequest& request, const ApiReply& reply) {
  if (!read_body(request, reply)) return;
  std::vector<std::string> channels;
  std::string data;
  if (body().string_list("channels", channels) != JsonBody::Field::ok || channels.empty())
    return reply.error(400, 107, "channels is required: a list of channel names");
  if (channels.size() > 1000) return reply.error(400, 106, "at most 1000 channels per broadcast");
  if (body().raw("data", data) != JsonBody::Field::ok) return reply.error(400, 107, "data is required: any JSON value");
  if (data.size() > hub_.config().limits.max_data_bytes)
    return reply.error(413, 114, "data is larger than hub.max_data_bytes");
  for (const std::string& channel : channels)
    if (!check_channel(channel, reply)) return;
  // The in-process broker places each publication before returning; a later broker that
  // answers later keeps the order of `channels` in its results all the same.
  struct Results {
    std::vector<hub::PublishResult> results;
    size_t remaining = 0;
    ApiReply reply;
    std::vector<std::string> channels;
  };
  auto results = std::make_shared<Results>();
  results->results.resize(channels.size());
  results->remaining = channels.size();
  results->reply = reply;
  results->channels = channels;
  class One final : public hub::PublishCompletion {
   public:
    One(std::shared_ptr<Results> all, size_t index) : all_(std::move(all)), index_(index) {}
    void on_published(const hub::PublishResult& result) override {
      all_->results[index_] = result;
      if (--all_->remaining) return;
      std::string body;
      hub::JsonWriter json(body);
      json.begin_object().key("results").begin_array();
      for (size_t i = 0; i < all_->results.size(); ++i) {
        const hub::PublishResult& r = all_->results[i];
        json.begin_object().member("channel", all_->channels[i]);
        if (r.ok) json.member("epoch", r.position.epoch).member("offset", r.position.offset);
        else json.key("error").begin_object().member("code", uint64_t(r.error)).member("message", r.message).end_object();
        json.end_object();
      }
      json.end_array().end_object();
      body.push_back('\n');
      all_->reply.send(200, std::move(body));
    }

   private:
    std::shared_ptr<Results> all_;
    size_t index_;
  };
  const int64_t now = wall_ms();
  for (size_t i = 0; i < channels.size(); ++i)
    hub_.broker().publish(request.worker, hub::Publication{channels[i], data, now},
                          std::make_unique<One>(results, i));
}

void ApiService::Handlers::subscription(bool subscribe, const server::HttpRequest& request,
                                        const ApiReply& reply) {
  if (!read_body(request, reply)) return;
  std::string user, channel;
  if (body().string("user", user) != JsonBody::Field::ok || user.empty())
    return reply.error(400, 107, "user is required: a non-empty string");
  if (body().string("channel", channel) != JsonBody::Field::ok)
    return reply.error(400, 107, "channel is required: a string");
  if (!check_channel(channel, reply)) return;
  const char* field = subscribe ? "subscribed" : "unsubscribed";
  hub_.for_each_worker(
      request.worker,
      [subscribe, user, channel](hub::HubWorker& worker) {
        return subscribe ? worker.subscribe_user(user, channel) : worker.unsubscribe_user(user, channel);
      },
      [reply, field](size_t count) {
        std::string body;
        hub::JsonWriter(body).begin_object().member(field, uint64_t(count)).end_object();
        body.push_back('\n');
        reply.send(200, std::move(body));
      });
}

void ApiService::Handlers::disconnect(const server::HttpRequest& request, const ApiReply& reply) {
  if (!read_body(request, reply)) return;
  std::string user, device, reason = "disconnected by the backend";
  const bool by_user = body().string("user", user) == JsonBody::Field::ok && !user.empty();
  const bool by_device = body().string("device", device) == JsonBody::Field::ok && !device.empty();
  if (by_user == by_device) return reply.error(400, 107, "give exactly one of user or device");
  int64_t code = 3000;
  if (body().integer("code", code) == JsonBody::Field::wrong_type || code < 3000 || code > 4999)
    return reply.error(400, 107, "code must be a close code from 3000 to 4999");
  if (body().string("reason", reason) == JsonBody::Field::wrong_type || reason.size() > 100)
    return reply.error(400, 107, "reason must be a string of at most 100 bytes");
  hub_.for_each_worker(
      request.worker,
      [id = by_user ? user : device, by_device, code, reason](hub::HubWorker& worker) {
        return worker.disconnect(id, by_device, uint16_t(code), reason);
      },
      [reply](size_t count) {
        std::string body;
        hub::JsonWriter(body).begin_object().member("disconnected", uint64_t(count)).end_object();
        body.push_back('\n');
        reply.send(200, std::move(body));
      });
}

void ApiService::Handlers::presence(const server::HttpRequest& request, const ApiReply& reply) {
  std::string channel;
  if (!query_value(request.query, "channel", channel))
    return reply.error(400, 107, "give the channel: /api/presence?channel=NAME");
  if (!check_channel(channel, reply)) return;
  hub::ChannelName name;
  hub::parse_channel_name(channel, name);
  if (name.kind == hub::ChannelKind::personal_user || name.kind == hub::ChannelKind::personal_device) {
    // Who is connected as a user or a device: asked of every worker, so a backend can tell
    // whether a command to a device can reach it now.
    struct Found {
      std::mutex mutex;
      std::vector<hub::PresenceEntry> entries;
    };
    auto found = std::make_shared<Found>();
    const bool by_device = name.kind == hub::ChannelKind::personal_device;
    hub_.for_each_worker(
        request.worker,
        [found, by_device, id = std::string(name.base)](hub::HubWorker& worker) {
          std::vector<hub::PresenceEntry> local = worker.connections_of(id, by_device);
          std::lock_guard lock(found->mutex);
          for (hub::PresenceEntry& entry : local) found->entries.push_back(std::move(entry));
          return local.size();
        },
        [this, found, reply](size_t total) { reply.send(200, presence_body(found->entries, total)); });
    return;
  }
  const hub::NamespaceConfig* ns = hub_.config().find_namespace(name.ns);
  if (!ns || !ns->presence) return reply.error(400, 108, "presence is off for this channel's namespace");
  size_t total = 0;
  const auto entries = hub_.broker().presence(channel, hub_.config().limits.max_presence_clients, total);
  reply.send(200, presence_body(entries, total));
}

std::string ApiService::Handlers::presence_body(const std::vector<hub::PresenceEntry>& entries, size_t total) {
  std::string body;
  hub::JsonWriter json(body);
  json.begin_object().key("clients").begin_object();
  for (const hub::PresenceEntry& entry : entries) {
    json.key(entry.cid).begin_object().member("user", entry.user).member("device", entry.device);
    if (!entry.info_json.empty()) json.raw_member("info", entry.info_json);
    json.end_object();
  }
  json.end_object().member("total", uint64_t(total)).end_object();
  body.push_back('\n');
  return body;
}

void ApiService::Handlers::history(const server::HttpRequest& request, const ApiReply& reply) {
  // GET takes the query string, POST a JSON body with the same names.
  std::string channel, epoch, text;
  int64_t since = -1, limit = 0;
  const bool post = request.method == "POST";
  if (post) {
    if (!read_body(request, reply)) return;
    if (body().string("channel", channel) != JsonBody::Field::ok)
      return reply.error(400, 107, "channel is required: a string");
    if (body().string("epoch", epoch) == JsonBody::Field::wrong_type)
      return reply.error(400, 107, "epoch must be a string");
    const JsonBody::Field since_field = body().integer("since", since);
    if (since_field == JsonBody::Field::wrong_type || (since_field == JsonBody::Field::ok && since < 0))
      return reply.error(400, 107, "since must be an offset (a whole number)");
    if (body().integer("limit", limit) == JsonBody::Field::wrong_type || limit < 0)
      return reply.error(400, 107, "limit must be a whole number");
  } else {
    if (!query_value(request.query, "channel", channel))
      return reply.error(400, 107, "give the channel: /api/history?channel=NAME[&epoch=E&since=OFFSET&limit=N]");
    query_value(request.query, "epoch", epoch);
    auto number = [](const std::string& digits, int64_t& out) {
      if (digits.empty() || digits.size() > 18 || digits.find_first_not_of("0123456789") != std::string::npos)
        return false;
      out = std::stoll(digits);
      return true;
    };
    if (query_value(request.query, "since", text) && !number(text, since))
      return reply.error(400, 107, "since must be an offset (a whole number)");
    if (query_value(request.query, "limit", text) && !number(text, limit))
      return reply.error(400, 107, "limit must be a whole number");
  }
  if (!check_channel(channel, reply)) return;
  if (!hub_.broker().keeps_history(channel))
    return reply.error(400, 108, "history is not kept for this channel (its namespace has history_size = 0)");
  const bool has_since = since >= 0;
  if (has_since && epoch.empty()) return reply.error(400, 107, "since needs the epoch it counts in");
  const uint32_t count = limit > 0 ? uint32_t(std::min<int64_t>(limit, hub::kHistoryMaxLimit)) : hub::kHistoryDefaultLimit;
  const hub::ChannelPosition current = hub_.broker().position(channel);
  auto answer = [reply](const hub::HistoryPage& page, bool recovered, bool more) {
    std::string out;
    hub::JsonWriter json(out);
    json.begin_object().member("epoch", page.stored.epoch).member("offset", page.stored.offset)
        .member("recovered", recovered).member("more", more).key("publications").begin_array();
    for (const hub::StoredPublication& pub : page.pubs)
      json.begin_object().member("offset", pub.offset).raw_member("data", pub.data).member("ts", pub.ts_ms).end_object();
    json.end_array().end_object();
    out.push_back('\n');
    reply.send(200, std::move(out));
  };
  if (has_since && (epoch != current.epoch || uint64_t(since) > current.offset)) {
    hub::HistoryPage gone;
    gone.stored = current;
    return answer(gone, false, false);
  }
  const uint64_t after = hub::history_after(has_since, uint64_t(since), count, current.offset);
  hub_.broker().read_history(request.worker, channel, after, count, hub::kHistoryPageBytes,
                             [reply, after, answer](hub::HistoryPage& page) {
                               if (!page.error.empty()) return reply.error(503, 100, page.error);
                               answer(page, hub::history_unbroken(page, after), hub::history_more(page, after));
                             });
}

void ApiService::Handlers::channels(const server::HttpRequest& request, const ApiReply& reply) {
  const auto list = hub_.broker().channels(10000);
  std::string body;
  hub::JsonWriter json(body);
  json.begin_object().key("channels").begin_array();
  for (const auto& channel : list)
    json.begin_object().member("channel", channel.name).member("subscribers", channel.subscribers)
        .member("offset", channel.offset).end_object();
  json.end_array().end_object();
  body.push_back('\n');
  reply.send(200, std::move(body));
}

void ApiService::Handlers::info(const server::HttpRequest& request, const ApiReply& reply) {
  std::string body = "{\"hub\":" + hub_.health_json() + ",\"inbox\":" + inbox_info(request) + "}\n";
  reply.send(200, std::move(body));
}

}  // namespace wshub::api
