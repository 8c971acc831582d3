// Connections this process opens itself (to Redis, say): driven by the worker's reactor like
// accepted ones, but reporting to a handler of their own instead of the server's. The owner
// embeds the Stream and keeps it alive until on_closed.
#pragma once

#include "base/bytes.h"
#include "net/stream.h"

namespace wshub::net {

class OutboundHandler {
 public:
  // The connection is up; sends may start.
  virtual void on_connected(Stream& stream) = 0;
  // It could not be made (`error` is the errno); on_closed follows.
  virtual void on_connect_failed(Stream& stream, int error) = 0;
  // As StreamHandler's: bytes in the thread's read buffer, valid during the call.
  virtual void on_data(Stream& stream, MutableBytes data) = 0;
  virtual void on_hangup(Stream& stream) = 0;
  virtual void on_drained(Stream& stream) {}
  virtual void on_timer(Stream& stream) {}
  // The reactor forgot the stream; the owner may free it.
  virtual void on_closed(Stream& stream) = 0;
  // The reactor is shutting down: finish (close_after_flush) or abort the stream.
  virtual void on_shutdown(Stream& stream) = 0;

 protected:
  ~OutboundHandler() = default;
};

// Streams with this listener index were opened by connect, not accepted.
inline constexpr uint16_t kOutboundListener = 0xFFFF;

}  // namespace wshub::net
