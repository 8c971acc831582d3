// The seam between the connection engine and the backend HTTP API: a listener marked `api`
// carries keep-alive HTTP/1.1 requests (Content-Length or chunked bodies) to one HttpService,
// which the api layer implements. A request is answered exactly once, at once or later on the
// same worker thread; until then the connection reads no further request.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "net/peer_address.h"
#include "proto/http_head.h"
#include "server/connection.h"

namespace wshub::server {

struct HttpResponse {
  uint16_t status = 200;
  std::string_view content_type = "application/json";
  std::string body;
  std::string extra_headers;  // whole lines, each ending in CRLF
};

// Implemented by the worker: where a deferred answer goes.
class HttpResponseSink {
 public:
  // False when the connection is gone or the request was already answered.
  virtual bool respond_http(ConnectionRef ref, uint32_t serial, const HttpResponse& response) = 0;

 protected:
  ~HttpResponseSink() = default;
};

// One request's answer, to give now or keep for later (on the same worker thread).
class HttpResponder {
 public:
  HttpResponder() = default;
  HttpResponder(HttpResponseSink* sink, ConnectionRef ref, uint32_t serial)
      : sink_(sink), ref_(ref), serial_(serial) {}
  bool respond(const HttpResponse& response) const {
    return sink_ && sink_->respond_http(ref_, serial_, response);
  }
  bool alive() const { return ref_.alive(); }

 private:
  HttpResponseSink* sink_ = nullptr;
  ConnectionRef ref_;
  uint32_t serial_ = 0;
};

// A request as the service sees it. Views are valid during on_request only: a service that
// answers later copies what it needs.
struct HttpRequest {
  const proto::HttpRequestHead& head;
  std::string_view method;
  std::string_view path;
  std::string_view query;  // after '?', without it
  std::string_view body;
  const net::IpAddress& client;
  uint32_t worker = 0;     // the worker thread it runs on
  HttpResponder responder;
};

class HttpService {
 public:
  virtual ~HttpService() = default;
  // On the connection's worker thread; answer through `request.responder`, now or later.
  virtual void on_request(const HttpRequest& request) = 0;
};

}  // namespace wshub::server
