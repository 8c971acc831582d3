// What fanout mode says and hears on one connection, per protocol: raw frames on a broadcast
// route, the wshub hub protocol (connect + subscribe, pub pushes), or Socket.IO (Engine.IO v4
// over WebSocket, an event to a room). It builds every frame it sends from a template made
// once per run and only overwrites digits in it, so steady-state publishing allocates nothing.
// It knows nothing about sockets or threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/bytes.h"

namespace wshub::load {

enum class FanoutProtocol : uint8_t { raw, hub, socketio };
enum class PublishVia : uint8_t { websocket, api };

// A publication's payload carries its sequence number and send time as 24 hex digits. In raw
// frames they are the first bytes; inside JSON they follow a '~' marker, which no other byte
// of a hub push or Socket.IO event contains.
constexpr size_t kSequenceDigits = 8;
constexpr size_t kTimeDigits = 16;
constexpr size_t kStampDigits = kSequenceDigits + kTimeDigits;
constexpr char kStampMarker = '~';

void write_hex(uint8_t* out, uint64_t value, size_t digits);
bool read_hex(const uint8_t* in, size_t digits, uint64_t& value);

// What a received message means to the connection that got it.
enum class Heard : uint8_t {
  publication,  // a delivery: the stamp starts at `stamp_at`
  ready,        // the protocol handshake (hub connect + subscribe, Socket.IO connect) is done
  answer,       // the protocol wants `reply` sent back (heartbeat, Socket.IO connect)
  refused,      // the server said no (hub err / disconnect, Socket.IO connect_error)
  other,        // anything else (answers to our publishes, join/leave, …): ignored
};

struct HeardMessage {
  Heard kind = Heard::other;
  size_t stamp_at = 0;  // publication: index of the first stamp digit in the payload
  std::string_view reply;
};

struct FanoutProtocolPlan {
  FanoutProtocol protocol = FanoutProtocol::raw;
  std::string token;                 // hub: the JWT every connection presents
  std::string channel = "bench";     // hub: the channel published to; every connection subscribes
  uint32_t channels_per_connection = 1;  // hub: also CHANNEL.1 … CHANNEL.(K-1), never published to
  uint32_t size = 64;                // raw: frame payload bytes; others: data string length
};

class FanoutProtocolCodec {
 public:
  explicit FanoutProtocolCodec(const FanoutProtocolPlan& plan);

  FanoutProtocol protocol() const { return protocol_; }
  // The first message a connection sends once the WebSocket is open (empty: none; raw and
  // Socket.IO wait for the server's open packet).
  std::string_view opening_message() const { return opening_; }
  // Raw needs no protocol handshake: a connection is ready when the WebSocket is open.
  bool ready_at_open() const { return protocol_ == FanoutProtocol::raw; }

  HeardMessage classify(Bytes payload) const;

  // Writes the publication frame payload with this stamp into the codec's buffer (one per
  // publishing thread) and returns it; valid until the next call.
  Bytes websocket_publication(uint32_t sequence, uint64_t sent_ns);
  // The HTTP API body {"channel":…,"data":"~…"} with this stamp; valid until the next call.
  std::string_view api_publication(uint32_t sequence, uint64_t sent_ns);

 private:
  FanoutProtocol protocol_;
  std::string opening_;
  std::string publication_;      // template for websocket_publication
  size_t publication_stamp_at_ = 0;
  size_t publication_id_at_ = 0;  // hub: where the request id's digits are
  std::string api_body_;
  size_t api_stamp_at_ = 0;
};

}  // namespace wshub::load
