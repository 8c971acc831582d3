// What the reactor knows about one connection, and what it tells the layer above.
// The server embeds `Stream` in its own connection object, so one allocation serves both; the
// reactor never learns what the bytes mean.
#pragma once

#include <sys/uio.h>

#include <cstdint>

#include "base/bytes.h"
#include "net/peer_address.h"

namespace wshub::net {

class WriteQueue;
class StreamFilter;

struct Stream {
  int fd = -1;
  uint32_t generation = 0;       // guards against events for an fd that was closed and reused
  uint32_t timer_tick = 0;       // when the stream's one timer fires
  uint32_t send_slot = 0;        // io_uring backend: the send in flight, if any
  Stream* timer_prev = nullptr;  // intrusive links in the timer wheel
  Stream* timer_next = nullptr;
  WriteQueue* pending = nullptr;  // unsent bytes; null when there are none
  StreamFilter* filter = nullptr;  // TLS, when the listener has it; null for plain TCP
  uint16_t listener = 0;           // index of the listener that accepted it
  uint8_t reactor_flags = 0;       // owned by the reactor
};

enum class SendResult : uint8_t {
  sent,       // the socket took every byte
  queued,     // some bytes wait in the stream's queue
  over_limit, // the queue would pass its cap: nothing was queued, the caller should close
  closed,     // the stream is closing or failed; nothing was sent
};

// Where a filter puts what it produces; implemented by the reactor.
class FilterOutput {
 public:
  // Application bytes for the handler (the filter's scratch buffer, mutable). Returns false
  // when the stream closed while handling them: the filter must stop and return.
  virtual bool plaintext(MutableBytes bytes) = 0;
  // Bytes for the socket, in order. The reactor writes or queues them before returning.
  virtual void ciphertext(Bytes bytes) = 0;
};

// Transforms bytes between the socket and the handler: TLS is one. Declared here so the
// reactor can drive it; implemented by the tls layer. The filter never touches the socket.
class StreamFilter {
 public:
  virtual ~StreamFilter() = default;
  // Bytes read from the socket. `scratch` is a per-thread buffer the filter may decrypt into.
  // Returns false when the peer broke the protocol or closed it: the reactor then hangs up.
  virtual bool on_input(MutableBytes input, MutableBytes scratch, FilterOutput& out) = 0;
  // Application bytes to send, in order; the filter emits them through `out.ciphertext`.
  virtual bool on_output(const iovec* iov, int count, FilterOutput& out) = 0;
  // Writes the protocol's orderly close (TLS close_notify), if any, before the FIN.
  virtual void on_close(FilterOutput& out) {}
  // Nothing is pending on the stream: drop buffers that can be re-created on demand.
  virtual void on_idle() {}
};

// The layer above implements this; the reactor calls it on its own thread.
class StreamHandler {
 public:
  virtual ~StreamHandler() = default;
  // A new connection. Return the stream to adopt it, or null to have the reactor close `fd`.
  virtual Stream* open_stream(int fd, const PeerAddress& peer, uint16_t listener) = 0;
  // Bytes arrived. `data` is the thread's read buffer: the handler may change it in place
  // (unmasking) and must not keep a pointer into it after returning.
  virtual void on_data(Stream& stream, MutableBytes data) = 0;
  // The peer closed its side or the socket failed; the handler decides how to finish.
  virtual void on_hangup(Stream& stream) = 0;
  // The write queue emptied after having held bytes.
  virtual void on_drained(Stream& stream) = 0;
  // The stream's timer fired.
  virtual void on_timer(Stream& stream) = 0;
  // The fd is closed and the reactor forgets the stream; the handler may free it now.
  virtual void on_closed(Stream& stream) = 0;
  // The reactor's thread was asked to stop: stop accepting and finish connections.
  virtual void on_shutdown() = 0;
};

}  // namespace wshub::net
