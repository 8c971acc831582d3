// One client WebSocket connection of the load generator, as a state machine driven by epoll
// readiness: non-blocking connect, optional TLS, the upgrade, then frames. It reads into the
// thread's shared buffer, parses with proto::MessageReader, and writes queued frames once per
// wake-up (flush), so many messages answered in one read cost one write. What to send and
// what a message means is the mode's business (ConnectionEvents), not this file's.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "byte_buffer.h"
#include "proto/frame.h"
#include "proto/message_reader.h"
#include "tls_client.h"
#include "ws_url.h"
#include "xorshift.h"

namespace wshub::load {

// Where every connection of a run goes; read-only once the threads start.
struct ConnectTarget {
  TargetAddress address;
  std::string request_target;  // "/echo?x=1"
  std::string host_header;
  std::string tls_server_name;           // for SNI and certificate checks
  const TlsClientContext* tls = nullptr;  // null for ws://
};

// Per-thread state every connection on the thread shares.
struct LoopContext {
  int epoll_fd = -1;
  uint8_t* read_buffer = nullptr;
  size_t read_capacity = 0;
  Xorshift64 rng{1};
  uint64_t now_ns = 0;  // monotonic time of the last read (or of the turn, outside reads)
};

enum class ConnectionPhase : uint8_t { unused, connecting, tls_handshake, upgrading, open, closing, closed };

enum class CloseCause : uint8_t {
  clean,        // we sent close, the server answered and closed TCP
  peer_closed,  // the server started the close handshake
  failed,       // connect, TLS, upgrade or protocol failure; `why` says which
};

class ClientConnection;

// What a mode implements. Callbacks run inside ClientConnection::on_ready; the connection
// flushes whatever they queued when they return. on_closed is the last thing a connection
// does in a wake-up: the mode may start() the slot again, but only outside the callback.
class ConnectionEvents {
 public:
  virtual void on_open(ClientConnection& connection, LoopContext& context) = 0;
  virtual void on_message(ClientConnection& connection, proto::Opcode opcode, Bytes payload,
                          LoopContext& context) = 0;
  virtual void on_closed(ClientConnection& connection, CloseCause cause, std::string_view why,
                         LoopContext& context) = 0;

 protected:
  ~ConnectionEvents() = default;
};

class ClientConnection {
 public:
  ClientConnection();
  ClientConnection(const ClientConnection&) = delete;
  ClientConnection& operator=(const ClientConnection&) = delete;
  ~ClientConnection();

  // Opens a socket (bound to `source_ip`, host byte order, when not 0) and starts a
  // non-blocking connect, registered in the thread's epoll under (slot, generation). On
  // false nothing is left open and `why` says what failed.
  bool start(const ConnectTarget& target, uint32_t slot, uint32_t source_ip, LoopContext& context,
             std::string& why);

  // Handles readiness reported by epoll, then flushes.
  void on_ready(uint32_t epoll_events, LoopContext& context, ConnectionEvents& events);

  // Queues one masked, unfragmented data frame; it is written at the next flush.
  void queue_message(proto::Opcode opcode, Bytes payload, uint32_t mask_key);
  // Queues a close frame with `code` and starts waiting for the server's close and TCP FIN.
  void queue_close(uint16_t code, uint32_t mask_key);
  // Reserves room for `bytes` of queued frames so steady-state sends never allocate.
  void reserve_output(size_t bytes) { output_.reserve(bytes); }

  // Writes queued bytes; when the socket is full, asks epoll for EPOLLOUT and returns. A write
  // failure closes the connection (on_closed).
  void flush(LoopContext& context, ConnectionEvents& events);

  // Closes the socket now, without a callback (end of run).
  void abort();

  ConnectionPhase phase() const { return phase_; }
  bool is_open() const { return phase_ == ConnectionPhase::open; }
  bool is_active() const { return phase_ != ConnectionPhase::unused && phase_ != ConnectionPhase::closed; }
  uint32_t slot() const { return slot_; }
  uint32_t generation() const { return generation_; }
  uint64_t started_ns() const { return started_ns_; }  // when connect() was called

  static uint64_t epoll_tag(uint32_t slot, uint32_t generation) {
    return uint64_t(generation) << 32 | slot;
  }

 private:
  struct Handshake;
  enum class Io : uint8_t { ok, would_block, eof, failed };

  void on_connected(LoopContext& context, ConnectionEvents& events);
  void continue_tls(LoopContext& context, ConnectionEvents& events);
  void begin_upgrade(LoopContext& context, ConnectionEvents& events);
  void read_response(LoopContext& context, ConnectionEvents& events);
  void read_frames(LoopContext& context, ConnectionEvents& events);
  // False once the connection closed while consuming.
  bool consume_frames(MutableBytes input, LoopContext& context, ConnectionEvents& events);
  void on_close_frame(uint16_t code, LoopContext& context);
  void on_end_of_stream(LoopContext& context, ConnectionEvents& events);
  void finish(CloseCause cause, std::string_view why, LoopContext& context, ConnectionEvents& events);
  void fail(std::string_view why, LoopContext& context, ConnectionEvents& events) {
    finish(CloseCause::failed, why, context, events);
  }
  void set_interest(uint32_t interest, LoopContext& context);
  Io read_some(uint8_t* data, size_t size, size_t& got);
  Io write_some(const uint8_t* data, size_t size, size_t& wrote);
  void queue_control(proto::Opcode opcode, Bytes payload, uint32_t mask_key);

  proto::MessageReader reader_;
  ByteBuffer output_;
  std::unique_ptr<Handshake> handshake_;  // only between start() and the 101
  SSL* ssl_ = nullptr;
  uint64_t started_ns_ = 0;
  int fd_ = -1;
  uint32_t slot_ = 0;
  uint32_t generation_ = 0;
  uint32_t interest_ = 0;  // the epoll events currently asked for
  ConnectionPhase phase_ = ConnectionPhase::unused;
  bool we_closed_ = false;       // we sent the first close frame
  bool close_received_ = false;  // the server's close frame arrived
  uint16_t server_close_code_ = 0;
};

}  // namespace wshub::load
