#include "server/counters.h"

#include <fmt/format.h>

namespace wshub::server {

const char* limit_name(Limit limit) {
  switch (limit) {
    case Limit::max_connections: return "max_connections";
    case Limit::max_connections_per_ip: return "max_connections_per_ip";
    case Limit::handshake_timeout: return "handshake_timeout";
    case Limit::idle_timeout: return "idle_timeout";
    case Limit::close_timeout: return "close_timeout";
    case Limit::buffered_bytes: return "max_buffered_bytes";
    case Limit::handshake_rate_per_ip: return "max_handshakes_per_second_per_ip";
    case Limit::handshake_rate_total: return "max_handshakes_per_second";
    case Limit::ping_flood: return "ping_flood";
    case Limit::pongs_withheld: return "pongs_withheld";
    case Limit::count_: break;
  }
  return "?";
}

namespace {

template <typename NameOf>
std::string json_group(const std::atomic<uint64_t>* values, size_t count, NameOf&& name_of) {
  std::string out = "{";
  for (size_t i = 0; i < count; ++i) {
    uint64_t v = values[i].load(std::memory_order_relaxed);
    if (v == 0) continue;
    if (out.size() > 1) out += ',';
    out += fmt::format("\"{}\":{}", name_of(i), v);
  }
  return out + "}";
}

}  // namespace

std::string ServerCounters::to_json(uint64_t accept_pauses) const {
  auto load = [](const std::atomic<uint64_t>& v) { return v.load(std::memory_order_relaxed); };
  return fmt::format(
      "{{\"connections_accepted\":{},\"upgrades\":{},\"http_responses\":{},\"not_found\":{},"
      "\"closes_received\":{},\"accept_pauses\":{},\"head_errors\":{},\"message_errors\":{},"
      "\"handshake_errors\":{},\"frame_errors\":{},\"limits\":{}}}",
      load(connections_accepted), load(upgrades), load(http_responses), load(not_found),
      load(closes_received), accept_pauses,
      json_group(head_errors, std::size(head_errors),
                 [](size_t i) { return proto::http_error_name(proto::HttpHeadError(i)); }),
      json_group(message_errors, std::size(message_errors),
                 [](size_t i) { return proto::http_error_name(proto::HttpMessageError(i)); }),
      json_group(handshake_errors, std::size(handshake_errors),
                 [](size_t i) { return proto::handshake_error_name(proto::HandshakeError(i)); }),
      json_group(frame_errors, std::size(frame_errors),
                 [](size_t i) { return proto::reader_error_name(proto::ReaderError(i)); }),
      json_group(limits, std::size(limits), [](size_t i) { return limit_name(Limit(i)); }));
}

}  // namespace wshub::server
