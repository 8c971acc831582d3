// The endpoints of the backend HTTP API (internal to the api layer): each reads its request,
// asks the hub, and answers once through an ApiReply, at once or when the hub is done.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "api/api_service.h"
#include "api/json_body.h"
#include "hub/broker.h"

namespace wshub::api {

// {"error":{"code":CODE,"message":MESSAGE}} and a newline.
std::string api_error_body(uint32_t code, std::string_view message);

// One request's answer, counted by endpoint and status. Copyable: a handler keeps it for later.
struct ApiReply {
  server::HttpResponder responder;
  ApiCounters* counters = nullptr;
  ApiEndpoint endpoint = ApiEndpoint::unknown;
  void send(uint16_t status, std::string body, std::string_view content_type = "application/json",
            std::string extra_headers = {}) const;
  void error(uint16_t status, uint32_t code, std::string_view message) const;
};

class ApiService::Handlers {
 public:
  explicit Handlers(hub::Hub& hub) : hub_(hub) {}
  void handle(ApiEndpoint endpoint, const server::HttpRequest& request, const ApiReply& reply);

 private:
  void publish(const server::HttpRequest& request, const ApiReply& reply);
  void broadcast(const server::HttpRequest& request, const ApiReply& reply);
  void subscription(bool subscribe, const server::HttpRequest& request, const ApiReply& reply);
  void disconnect(const server::HttpRequest& request, const ApiReply& reply);
  void presence(const server::HttpRequest& request, const ApiReply& reply);
  static std::string presence_body(const std::vector<hub::PresenceEntry>& entries, size_t total);
  void channels(const server::HttpRequest& request, const ApiReply& reply);
  void history(const server::HttpRequest& request, const ApiReply& reply);
  void info(const server::HttpRequest& request, const ApiReply& reply);
  // The inbox (api_inbox.cpp).
  void send(const server::HttpRequest& request, const ApiReply& reply);
  void messages(const server::HttpRequest& request, const ApiReply& reply);
  std::string inbox_info(const server::HttpRequest& request);
  // A publish with an idempotency_key: claimed, then published (or answered from the first).
  void publish_once(uint32_t worker, std::string channel, std::string data, std::string key, const ApiReply& reply);
  // Reads the body as a JSON object; false after answering 400 when it is not one.
  bool read_body(const server::HttpRequest& request, const ApiReply& reply);
  // Checks a channel a backend publishes to; false after answering when it is refused.
  bool check_channel(std::string_view channel, const ApiReply& reply);

  // The body being read: one reader per worker thread (the service serves every worker).
  static JsonBody& body();

  hub::Hub& hub_;
};

// The API key a request presents: 'Authorization: Bearer KEY' or 'X-API-Key: KEY'; empty
// when it presents none.
std::string_view presented_key(const proto::HttpRequestHead& head);

// The value of `key` in a query string (percent-decoded); false when absent.
bool query_value(std::string_view query, std::string_view key, std::string& out);

}  // namespace wshub::api
