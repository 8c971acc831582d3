#include "server/compression.h"

#include <fmt/format.h>

#include "base/single_writer_counter.h"
#include "proto/utf8.h"
#include "server/connection.h"

namespace wshub::server {

namespace {

// Buffers above this are freed after the message that grew them: a 16 MiB message once in a
// while must not leave 16 MiB per worker behind.
constexpr size_t kKeepBufferBytes = 256 * 1024;

proto::ReaderError reader_error_of(proto::InflateResult result) {
  switch (result) {
    case proto::InflateResult::ok: return proto::ReaderError::none;
    case proto::InflateResult::too_large: return proto::ReaderError::inflated_too_large;
    case proto::InflateResult::corrupt: return proto::ReaderError::corrupt_deflate;
    case proto::InflateResult::no_memory: return proto::ReaderError::inflate_no_memory;
  }
  return proto::ReaderError::corrupt_deflate;
}

}  // namespace

WorkerCompression::WorkerCompression(const proto::DeflatePolicy& policy)
    : policy_(policy),
      shared_inflater_(15, /*context_takeover=*/false),
      shared_deflaters_(policy.level, policy.mem_level) {
  reader_limits_.allow_rsv1 = true;
}

void WorkerCompression::set_reader_limits(const proto::ReaderLimits& limits) {
  reader_limits_ = limits;
  reader_limits_.allow_rsv1 = true;
}

void WorkerCompression::open(Connection& c, const proto::DeflateAgreement& agreed) {
  add_single_writer(counters_.connections);
  if (agreed.server_no_context_takeover && agreed.client_no_context_takeover) {
    for (const auto& shared : shared_agreements_) {
      if (shared->agreed == agreed) {
        c.deflate.reset(shared.get());
        return;
      }
    }
    shared_agreements_.push_back(std::make_unique<ConnectionDeflate>());
    shared_agreements_.back()->agreed = agreed;
    c.deflate.reset(shared_agreements_.back().get());
    return;
  }
  // zlib allocates lazily (the inflater's window on first use, the deflater on first message),
  // so an idle connection pays for its streams only once it has used them.
  auto own = std::make_unique<ConnectionDeflate>();
  own->agreed = agreed;
  own->owned = true;
  if (!agreed.server_no_context_takeover) {
    own->deflater = std::make_unique<proto::Deflater>(
        proto::DeflateSettings{policy_.level, agreed.server_window_bits, policy_.mem_level},
        /*context_takeover=*/true);
  }
  if (!agreed.client_no_context_takeover)
    own->inflater = std::make_unique<proto::Inflater>(agreed.client_window_bits, /*context_takeover=*/true);
  c.deflate.reset(own.release());
}

proto::ReaderError WorkerCompression::inflate(Connection& c, proto::Opcode opcode,
                                              Bytes compressed, uint64_t limit, Bytes& message) {
  proto::Inflater& inflater = c.deflate->inflater ? *c.deflate->inflater : shared_inflater_;
  inflated_.clear();
  proto::InflateResult result = inflater.feed(compressed, inflated_, limit);
  if (result == proto::InflateResult::ok) result = inflater.finish(inflated_, limit);
  if (result != proto::InflateResult::ok) {
    after_message();
    return reader_error_of(result);
  }
  message = inflated_.bytes();
  add_single_writer(counters_.messages_inflated);
  add_single_writer(counters_.inflated_from_bytes, compressed.size());
  add_single_writer(counters_.inflated_to_bytes, message.size());
  // The reader leaves a compressed text message's UTF-8 to whoever inflates it (§8.1 applies to
  // the inflated bytes).
  if (opcode == proto::Opcode::text && !proto::is_valid_utf8(message)) {
    after_message();
    return proto::ReaderError::invalid_utf8;
  }
  return proto::ReaderError::none;
}

void WorkerCompression::after_message() {
  inflated_.trim(kKeepBufferBytes);
  deflated_.trim(kKeepBufferBytes);
  shared_deflaters_.trim(kKeepBufferBytes);
}

WorkerCompression::Compressed WorkerCompression::compress(Connection& c, Bytes payload,
                                                          Bytes& out) {
  if (c.deflate->deflater) {
    // With context takeover every message goes through the stream, shrinking or not: the
    // peer's window holds what it inflated, and ours must hold the same.
    if (!c.deflate->deflater->compress(payload, deflated_)) return Compressed::failed;
    out = deflated_.bytes();
    count_compressed(payload.size(), out.size());
    return Compressed::yes;
  }
  if (!shared_deflaters_.compress(payload, c.deflate->agreed.server_window_bits, out) ||
      out.size() >= payload.size()) {
    add_single_writer(counters_.sent_plain_not_shrinking);
    return Compressed::no;
  }
  count_compressed(payload.size(), out.size());
  return Compressed::yes;
}

void WorkerCompression::count_compressed(size_t from, size_t to) {
  add_single_writer(counters_.messages_compressed);
  add_single_writer(counters_.compressed_from_bytes, from);
  add_single_writer(counters_.compressed_to_bytes, to);
}

std::string compression_json(const std::vector<const CompressionCounters*>& workers) {
  uint64_t sum[9] = {};
  for (const CompressionCounters* w : workers) {
    const std::atomic<uint64_t>* fields[9] = {
        &w->connections,         &w->messages_inflated,     &w->inflated_from_bytes,
        &w->inflated_to_bytes,   &w->messages_compressed,   &w->compressed_from_bytes,
        &w->compressed_to_bytes, &w->sent_plain_not_shrinking, &w->shared_frames_sent};
    for (size_t i = 0; i < 9; ++i) sum[i] += fields[i]->load(std::memory_order_relaxed);
  }
  return fmt::format(
      "{{\"connections\":{},\"inflated\":{{\"messages\":{},\"from_bytes\":{},\"to_bytes\":{}}},"
      "\"compressed\":{{\"messages\":{},\"from_bytes\":{},\"to_bytes\":{}}},"
      "\"sent_plain_not_shrinking\":{},\"shared_frames_sent\":{}}}",
      sum[0], sum[1], sum[2], sum[3], sum[4], sum[5], sum[6], sum[7], sum[8]);
}

}  // namespace wshub::server
