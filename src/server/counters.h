// Process-wide counters for everything a peer did wrong and every limit that bit, so an
// operator can see at /health what is happening. Incremented only on rejections and other
// rare events; relaxed atomics are enough.
#pragma once

#include <atomic>
#include <cstdint>
#include <iterator>
#include <string>

#include "proto/handshake.h"
#include "proto/http_head.h"
#include "proto/http_message_error.h"
#include "proto/reader_error.h"

namespace wshub::server {

enum class Limit : uint8_t {
  max_connections,
  max_connections_per_ip,
  handshake_timeout,
  idle_timeout,
  close_timeout,
  buffered_bytes,
  handshake_rate_per_ip,
  handshake_rate_total,
  ping_flood,
  pongs_withheld,
  count_
};
const char* limit_name(Limit limit);

struct ServerCounters {
  std::atomic<uint64_t> connections_accepted{0};
  std::atomic<uint64_t> upgrades{0};
  std::atomic<uint64_t> http_responses{0};
  std::atomic<uint64_t> not_found{0};
  std::atomic<uint64_t> head_errors[size_t(proto::HttpHeadError::count_)] = {};
  // API requests refused for their framing or body (413, request smuggling, chunked coding);
  // the errors only a response can have come last in HttpMessageError and are left out.
  std::atomic<uint64_t> message_errors[size_t(proto::HttpMessageError::bad_status_line)] = {};
  std::atomic<uint64_t> handshake_errors[size_t(proto::HandshakeError::count_)] = {};
  std::atomic<uint64_t> frame_errors[size_t(proto::ReaderError::count_)] = {};
  std::atomic<uint64_t> limits[size_t(Limit::count_)] = {};
  std::atomic<uint64_t> closes_received{0};

  void count(proto::HttpHeadError e) { head_errors[size_t(e)].fetch_add(1, std::memory_order_relaxed); }
  void count(proto::HttpMessageError e) {
    if (size_t(e) < std::size(message_errors)) message_errors[size_t(e)].fetch_add(1, std::memory_order_relaxed);
  }
  void count(const proto::HttpReadError& e) {
    if (e.head != proto::HttpHeadError::none) count(e.head);
    else count(e.message);
  }
  void count(proto::HandshakeError e) { handshake_errors[size_t(e)].fetch_add(1, std::memory_order_relaxed); }
  void count(proto::ReaderError e) { frame_errors[size_t(e)].fetch_add(1, std::memory_order_relaxed); }
  void count(Limit l) { limits[size_t(l)].fetch_add(1, std::memory_order_relaxed); }

  // {"head_errors":{...},"handshake_errors":{...},...}: only the non-zero entries.
  // `accept_pauses` comes from the reactors, which count their own.
  std::string to_json(uint64_t accept_pauses) const;
};

}  // namespace wshub::server
