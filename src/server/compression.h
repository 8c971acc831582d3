// A worker's permessage-deflate machinery (RFC 7692): one inflater and one set of deflaters
// shared by all its connections that agreed to no context takeover, the scratch buffers, and
// the per-connection streams of those that keep context. Knows connections, not sockets: the
// worker sends what this produces.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "proto/deflate_negotiation.h"
#include "proto/deflate_stream.h"
#include "proto/frame_variants.h"
#include "proto/message_reader.h"

namespace wshub::server {

struct Connection;

// What one connection agreed to, and the zlib streams it keeps between messages: only for a
// direction in which context is taken over. Connections without context takeover in either
// direction have no streams of their own; they point to one immutable instance per agreement,
// owned by their worker, so permessage-deflate costs them one pointer.
struct ConnectionDeflate {
  proto::DeflateAgreement agreed;
  bool owned = false;                          // belongs to its connection (it has streams)
  std::unique_ptr<proto::Deflater> deflater;  // server -> client, with server context takeover
  std::unique_ptr<proto::Inflater> inflater;  // client -> server, with client context takeover
};

// Deletes only what the connection owns; the shared instances live as long as their worker,
// which outlives its connections.
struct ReleaseConnectionDeflate {
  void operator()(ConnectionDeflate* deflate) const {
    if (deflate->owned) delete deflate;
  }
};
using ConnectionDeflatePtr = std::unique_ptr<ConnectionDeflate, ReleaseConnectionDeflate>;

// What a worker's compression did, for /health: written by the worker's thread only (one
// writer, so no locked instruction per message); atomics so /health may read from another.
struct CompressionCounters {
  std::atomic<uint64_t> connections{0};               // upgrades that agreed to the extension
  std::atomic<uint64_t> messages_inflated{0};
  std::atomic<uint64_t> inflated_from_bytes{0};       // compressed bytes received
  std::atomic<uint64_t> inflated_to_bytes{0};
  std::atomic<uint64_t> messages_compressed{0};       // compressed for one connection
  std::atomic<uint64_t> compressed_from_bytes{0};
  std::atomic<uint64_t> compressed_to_bytes{0};
  std::atomic<uint64_t> sent_plain_not_shrinking{0};  // no takeover, and deflate would not shrink it
  std::atomic<uint64_t> shared_frames_sent{0};        // a fan-out's compressed-once frame, per receiver
};

// {"connections":…,"inflated":{"messages":…,"from_bytes":…,"to_bytes":…},…}: the sum over
// the workers' counters.
std::string compression_json(const std::vector<const CompressionCounters*>& workers);

class WorkerCompression {
 public:
  explicit WorkerCompression(const proto::DeflatePolicy& policy);
  WorkerCompression(const WorkerCompression&) = delete;
  WorkerCompression& operator=(const WorkerCompression&) = delete;

  const proto::DeflatePolicy& policy() const { return policy_; }
  // The worker's reader limits with RSV1 allowed, for connections that negotiated the extension.
  void set_reader_limits(const proto::ReaderLimits& limits);
  const proto::ReaderLimits& reader_limits() const { return reader_limits_; }
  bool worth_compressing(size_t size) const { return size >= policy_.min_message_bytes; }

  // At the upgrade: gives the connection its agreement and the streams it keeps between
  // messages (none without context takeover).
  void open(Connection& c, const proto::DeflateAgreement& agreed);

  // Inflates one compressed message of `c`, at most `limit` bytes, and checks a text message's
  // UTF-8. On none, `message` views this worker's buffer until after_message().
  proto::ReaderError inflate(Connection& c, proto::Opcode opcode, Bytes compressed,
                             uint64_t limit, Bytes& message);
  // Gives back the buffers' memory after a large message.
  void after_message();

  enum class Compressed : uint8_t { yes, no, failed };
  // Compresses `payload` for `c`. yes: `out` holds the DEFLATE data (valid until the next call);
  // no: send it uncompressed (it would not shrink); failed: zlib failed on a stream with context,
  // and the connection cannot continue.
  Compressed compress(Connection& c, Bytes payload, Bytes& out);

  // The compressors shared by this thread's connections without context takeover, which
  // FrameVariants uses to compress a fan-out message once.
  proto::SharedDeflaters& shared_deflaters() { return shared_deflaters_; }

  CompressionCounters& counters() { return counters_; }
  const CompressionCounters& counters() const { return counters_; }

 private:
  void count_compressed(size_t from, size_t to);
  CompressionCounters counters_;
  proto::DeflatePolicy policy_;
  proto::ReaderLimits reader_limits_;
  proto::Inflater shared_inflater_;  // window 15: inflates whatever window the client used
  proto::SharedDeflaters shared_deflaters_;
  proto::DeflateBuffer inflated_;
  proto::DeflateBuffer deflated_;
  // The shared agreements of connections without context takeover, one per distinct agreement.
  std::vector<std::unique_ptr<ConnectionDeflate>> shared_agreements_;
};

}  // namespace wshub::server
