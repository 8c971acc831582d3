// One load-generator thread: an epoll loop over a fixed array of connections, one read buffer
// shared by all of them, and the mode's per-thread driver. Events carry (slot, generation),
// so a readiness report for a connection that has since closed is recognised and dropped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "client_connection.h"

namespace wshub::load {

// A mode's per-thread half: connection callbacks plus a hook once per loop turn.
class LoopDriver : public ConnectionEvents {
 public:
  // Called after each batch of events (and at least every `max wait` ms). Returns how long
  // the loop may then sleep in epoll_wait, in ms (0: poll again at once).
  virtual int on_turn(LoopContext& context) = 0;
  // The loop returns once this is true.
  virtual bool finished() const = 0;

 protected:
  ~LoopDriver() = default;
};

class LoadLoop {
 public:
  static constexpr size_t kReadBufferSize = 256 * 1024;

  LoadLoop(size_t connection_count, uint64_t seed);
  LoadLoop(const LoadLoop&) = delete;
  LoadLoop& operator=(const LoadLoop&) = delete;
  ~LoadLoop();

  bool valid() const { return context_.epoll_fd >= 0; }
  LoopContext& context() { return context_; }
  size_t size() const { return count_; }
  ClientConnection& connection(size_t slot) { return connections_[slot]; }

  void run(LoopDriver& driver);
  // Sends a close frame on every open connection, then closes every socket (end of run).
  void close_all(LoopDriver& driver);

 private:
  LoopContext context_;
  std::unique_ptr<uint8_t[]> read_buffer_;
  std::unique_ptr<ClientConnection[]> connections_;
  size_t count_;
};

}  // namespace wshub::load
