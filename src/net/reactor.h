// The event loop a worker thread runs: accepts, reads into one per-thread buffer, writes with
// gather I/O from per-stream queues, timers, and cross-thread mail. One reactor per thread; a
// stream lives and dies on the reactor that accepted it. Backends (epoll, io_uring) differ only
// in how they wait and do I/O; everything the server calls is declared here.
#pragma once

#include <sys/uio.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>
#include <string>
#include <vector>

#include "base/shared_buffer.h"
#include "net/mailbox.h"
#include "net/outbound.h"
#include "net/stream.h"
#include "net/timer.h"
#include "net/timer_wheel.h"

namespace wshub::net {

struct ReactorOptions {
  size_t read_buffer_bytes = 256 * 1024;
  size_t max_queued_bytes = 1 << 20;  // per stream; see Reactor::over_cap
  uint32_t stall_ms = 1000;           // no progress for this long makes a full queue a slow reader
  uint32_t accept_pause_ms = 100;     // after EMFILE/ENFILE, wait this long before accepting
};

// Written by the reactor's thread only; atomics so /health may read them from another.
struct ReactorCounters {
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> accept_paused{0};  // times accepting paused on EMFILE/ENFILE/ENOMEM
  std::atomic<uint64_t> over_limit{0};     // sends refused at the queue cap
  // Shared frames that cross-thread mail sent to an idle stream, held to the end of the mail
  // batch, and the sends (one writev or one io_uring send each) that carried them.
  std::atomic<uint64_t> held_frames{0};
  std::atomic<uint64_t> held_flushes{0};
};

class Reactor {
 public:
  virtual ~Reactor() = default;

  // Runs until shutdown has finished. Call on the reactor's own thread.
  virtual void run() = 0;

  // --- any thread -------------------------------------------------------------------------
  void post(MailItem* item) { mailbox_.post(item); }
  // Stops accepting, tells the handler, and ends `run` when every stream is closed or when
  // `grace_ms` has passed (the rest are then cut).
  void request_shutdown(uint32_t grace_ms);

  // --- the reactor's thread ---------------------------------------------------------------
  // Adopts a listening socket (see open_listener). `index` is passed to open_stream.
  virtual void add_listener(int fd, uint16_t index) = 0;

  // Sends the bytes of `iov` in order after anything already queued. Bytes may be copied;
  // the caller's memory is free when this returns. `force` ignores the queue cap (close frames).
  // `sent`: nothing of it waits in the stream's WriteQueue (it went to the socket, the cork or
  // a send in flight); `queued`: some of it waits there.
  SendResult send(Stream& stream, const iovec* iov, int count, bool force = false);
  // Sends a shared frame; queued by reference, never copied (a filtered stream encrypts it).
  // While cross-thread mail is handled and more mail is waiting behind the item that runs,
  // frames for an idle unfiltered stream are held until the whole batch of mail is handled,
  // so that the publications one loop turn brings a subscriber leave in one send (`queued`
  // then).
  SendResult send_shared(Stream& stream, const SharedBuffer& frame);
  // Finishes writing what is queued, then half-closes (FIN) and discards input until the peer
  // closes too; the caller keeps a timer to `abort` a peer that never does.
  void close_after_flush(Stream& stream);
  // Closes the socket now. `on_closed` follows once the current event is fully handled.
  virtual void abort(Stream& stream) = 0;

  // Opens a TCP connection to `address` without blocking; `handler` hears of it from then on
  // (on_connected or on_connect_failed first). The caller owns `stream` until on_closed. False
  // with `why` when no socket could be made (then nothing follows).
  bool connect(Stream& stream, const sockaddr* address, socklen_t length, OutboundHandler& handler,
               std::string& why);

  void arm_timer(Stream& stream, uint64_t deadline_ms) { timers_.arm(stream, deadline_ms); }
  void cancel_timer(Stream& stream) { timers_.cancel(stream); }
  // A timer of no connection: fires at `deadline_ms` (this clock) on this thread, at the end
  // of the loop turn in which it is due.
  void arm(Timer& timer, uint64_t deadline_ms) { timer_heap_.arm(timer, deadline_ms); }
  void cancel(Timer& timer) { timer_heap_.cancel(timer); }
  uint64_t now_ms() const { return now_ms_; }
  size_t stream_count() const { return stream_count_; }
  bool shutting_down() const { return shutting_down_; }
  const ReactorCounters& counters() const { return counters_; }

  // Calls `visit(Stream&)` for every open stream of this reactor.
  template <typename Visit>
  void for_each_stream(Visit&& visit) {
    for (Stream* stream : streams_by_fd_)
      if (stream && stream->fd >= 0) visit(*stream);
  }

 protected:
  Reactor(StreamHandler& handler, const ReactorOptions& options);

  // Offers a freshly accepted socket to the handler and, if it takes it, registers the stream
  // in the fd table under a new generation. Returns null when the handler refused (the caller
  // closes `fd`).
  Stream* adopt_accepted(int fd, const sockaddr* peer, uint16_t listener);
  // Removes a stream whose socket the backend has just closed; `on_closed` follows from
  // `finish_closed`, once the current event is fully handled.
  void forget_stream(Stream& stream);
  void finish_closed();
  // Closes every open stream now and releases them (the shutdown deadline, or destruction).
  void abort_all();
  // The stream the current read belongs to; sends to it are corked until the read is handled.
  Stream* cork_stream_ = nullptr;
  std::vector<Stream*> closed_;
  // The stream's queue, made on first need and stamped as progress (the socket has just
  // refused bytes; the stall clock starts now).
  WriteQueue& pending_queue(Stream& stream);
  // The buffered-bytes cap: a client is too slow when more than max_queued_bytes waits and it
  // has taken nothing for stall_ms, or when more than four times the cap waits. A client that
  // reads keeps going through a burst larger than the cap while its socket buffers grow; one
  // that does not is cut after at most four times the cap.
  bool over_cap(const Stream& stream) const;

  // Filtered (TLS) output for the socket: the backend writes or queues it, in order.
  virtual void emit_ciphertext(Stream& stream, Bytes bytes) = 0;
  // Bytes for an unfiltered stream that accepts sends; `total` is their length.
  virtual SendResult send_raw(Stream& stream, const iovec* iov, int count, size_t total,
                              bool force) = 0;
  virtual SendResult send_shared_raw(Stream& stream, const SharedBuffer& frame) = 0;
  // Handles the cross-thread mail that has arrived, then sends what it left in the queues of
  // idle streams (see send_shared). Backends call this instead of mailbox_.drain().
  void drain_mail();
  // The backend writes out the queue of a stream that was idle before the mail batch (no
  // send in flight, no readiness edge to wait for).
  virtual void flush_held(Stream& stream) = 0;
  // A send the queue cap refused: counted, and `over_limit` for the caller.
  SendResult refuse();

  // How long the next wait may last: until the next timer tick, a paused accept's resumption
  // or the shutdown deadline, whichever is first; -1 for no limit.
  int turn_timeout() const;
  // The end of every loop turn: fire due timers, release closed streams, resume accepting
  // when due, and cut what is left once the shutdown deadline has passed.
  void finish_turn();
  // On EMFILE, ENFILE and the like: stop accepting for options_.accept_pause_ms (or until a
  // descriptor is freed), so a full descriptor table causes no busy loop.
  void pause_accepting();
  // A descriptor came free: if accepting is paused, try again at the end of this turn.
  void note_descriptor_freed() {
    if (accept_paused_) accept_resume_ms_ = now_ms_;
  }
  virtual void stop_accepting() {}
  virtual void restart_accepting() = 0;
  // Sends what is corked for cork_stream_ and ends the cork: first the raw bytes the backend
  // corked (a handshake's last flight for a filtered stream), then the plaintext corked here,
  // sealed by the filter.
  void flush_cork();
  // The backend's part of flush_cork: sends the raw bytes it corked for `stream`.
  virtual void flush_raw_cork(Stream& stream) = 0;
  // The backend forgets what it corked (the corked stream is being aborted).
  virtual void drop_raw_cork() = 0;
  // For a backend's abort: forgets whatever is corked for `stream`.
  void drop_cork_of(const Stream& stream) {
    if (&stream != cork_stream_) return;
    plain_cork_size_ = 0;
    drop_raw_cork();
  }
  // True while bytes of the stream wait in the backend (queued, or a send in flight).
  virtual bool has_unsent(const Stream& stream) const = 0;
  // Sends the FIN once everything is out; input is discarded from then on.
  void half_close(Stream& stream);
  bool accept_paused_ = false;
  uint64_t accept_resume_ms_ = 0;

  // Lets a StreamFilter hand plaintext to the handler and ciphertext to the backend.
  class FilterSink final : public FilterOutput {
   public:
    FilterSink(Reactor& reactor, Stream& stream) : reactor_(reactor), stream_(stream) {}
    bool plaintext(MutableBytes bytes) override;
    void ciphertext(Bytes bytes) override { reactor_.emit_ciphertext(stream_, bytes); }

   private:
    Reactor& reactor_;
    Stream& stream_;
  };
  static constexpr uint8_t kFlagCloseAfterFlush = 1;  // FIN once the queue is empty
  static constexpr uint8_t kFlagLingering = 2;        // FIN sent; input is discarded until EOF
  static constexpr uint8_t kFlagConnecting = 16;      // an outbound connect not finished yet
  static constexpr uint8_t kFlagHeld = 32;            // its queue waits for the end of drain_mail

  // Who hears of `stream`'s events: the server's handler, or an outbound stream's own.
  StreamHandler& handler_of(const Stream& stream) {
    return stream.listener == kOutboundListener ? outbound_ : handler_;
  }
  // Registers a socket the reactor now drives (accepted or connecting) for its events.
  virtual void watch(Stream& stream) = 0;
  // A connecting stream became writable or failed: finish the connect and tell its handler.
  void finish_connect(Stream& stream);
  // The backend's part once an outbound stream is connected (io_uring arms its receive).
  virtual void on_stream_connected(Stream& stream) {}
  static bool accepts_sends(const Stream& s) {
    return s.fd >= 0 && !(s.reactor_flags & (kFlagCloseAfterFlush | kFlagLingering));
  }

  StreamHandler& handler_;
  ReactorOptions options_;
  Mailbox mailbox_;
  TimerWheel timers_;
  TimerHeap timer_heap_;
  uint64_t now_ms_;
  size_t stream_count_ = 0;
  bool shutting_down_ = false;
  uint64_t shutdown_deadline_ms_ = 0;
  ReactorCounters counters_;
  // Frames that mail sent to idle unfiltered streams, written out at the end of drain_mail.
  struct HeldFrame {
    Stream* stream;
    SharedBuffer frame;
    uint32_t next;  // the stream's next held frame, or kNoHeld
    uint32_t last;  // in a stream's first entry: its last one
    bool head;      // the stream's first entry
    bool spilled;   // (head) the chain went to the stream's queue: write the queue out
  };
  static constexpr uint32_t kNoHeld = UINT32_MAX;
  SendResult hold(Stream& stream, const SharedBuffer& frame);
  // Appends the chain of held frames that starts at `head` to the stream's queue.
  void queue_held(Stream& stream, uint32_t head);
  void spill_held(Stream& stream);
  bool holding_sends_ = false;  // inside drain_mail
  std::vector<HeldFrame> held_;
  std::vector<Stream*> streams_by_fd_;
  uint32_t next_generation_ = 0;
  // Listening sockets by listener index; -1 once closed.
  std::vector<int> listeners_;
  void remember_listener(int fd, uint16_t index);
  // shutdown() first: it also ends an io_uring multishot accept still armed on the socket.
  void close_listeners();

 private:
  // Makes streams_by_fd_ reach `fd` without moving it (see reactor.cpp).
  void grow_stream_table(int fd);
  // Stops accepting, tells the handler (which starts the 1001 closes) and sets the deadline.
  void begin_shutdown(uint32_t grace_ms);
  // Forwards the events of outbound streams to their own handlers.
  class OutboundEvents final : public StreamHandler {
   public:
    Stream* open_stream(int, const PeerAddress&, uint16_t) override { return nullptr; }
    void on_data(Stream& s, MutableBytes data) override { of(s).on_data(s, data); }
    void on_hangup(Stream& s) override { of(s).on_hangup(s); }
    void on_drained(Stream& s) override { of(s).on_drained(s); }
    void on_timer(Stream& s) override { of(s).on_timer(s); }
    void on_closed(Stream& s) override {
      OutboundHandler& handler = of(s);
      handlers.erase(&s);
      handler.on_closed(s);
    }
    void on_shutdown() override {}
    OutboundHandler& of(Stream& s) { return *handlers.at(&s); }
    std::unordered_map<Stream*, OutboundHandler*> handlers;
  };
  OutboundEvents outbound_;

  // Plaintext of a filtered stream: corked while it fits, otherwise sealed at once behind
  // whatever is corked. The stream's queue (and its cap) holds the filter's output.
  SendResult send_filtered(Stream& stream, const iovec* iov, int count, size_t total, bool force);

  // Plaintext for the corked stream when it is filtered (TLS): sealed into records at
  // flush_cork, so a read answered with many small messages costs one record.
  static constexpr size_t kPlainCorkBytes = 16 * 1024;
  std::unique_ptr<uint8_t[]> plain_cork_{new uint8_t[kPlainCorkBytes]};
  size_t plain_cork_size_ = 0;
};

enum class IoBackend : uint8_t { automatic, epoll, io_uring };
const char* io_backend_name(IoBackend backend);

// Creates the requested backend. `automatic` takes the preferred one (see reactor.cpp) when the
// kernel allows it; io_uring falls back to epoll when the kernel or a seccomp profile refuses
// it, and says so in `fallback_reason`.
std::unique_ptr<Reactor> make_reactor(IoBackend backend, StreamHandler& handler,
                                      const ReactorOptions& options, IoBackend& chosen,
                                      std::string& fallback_reason);

std::unique_ptr<Reactor> make_epoll_reactor(StreamHandler& handler, const ReactorOptions& options);
// Returns null when this kernel or its seccomp profile refuses io_uring.
std::unique_ptr<Reactor> make_uring_reactor(StreamHandler& handler, const ReactorOptions& options);

}  // namespace wshub::net
