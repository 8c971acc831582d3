// The io_uring backend. Listeners use multishot accept; each stream has one multishot recv
// that fills buffers from a provided-buffer ring; sends are prepared while completions are
// handled and go to the kernel together with the next wait, so one io_uring_enter serves a
// whole loop turn however many connections it touched. Chosen at start-up when the kernel
// allows it (see make_reactor); epoll remains the fallback behind the same interface.
#include <liburing.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <deque>
#include <memory>
#include <vector>

#include "base/clock.h"
#include "base/single_writer_counter.h"
#include "net/reactor.h"
#include "net/send_arena.h"
#include "net/write_queue.h"

namespace wshub::net {

namespace {

constexpr unsigned kSubmissionEntries = 4096;
constexpr unsigned kCompletionEntries = 32768;
constexpr unsigned kBufferCount = 256;  // provided receive buffers; a power of two
constexpr size_t kBufferBytes = 16 * 1024;
constexpr uint16_t kBufferGroup = 0;
constexpr size_t kArenaCopyLimit = 16 * 1024;  // larger sends get a buffer of their own
constexpr int kMaxIov = 64;  // per queued send
constexpr unsigned kGatherSlots = 64;  // queued sends prepared between two submits
constexpr uint8_t kFlagSending = 8;  // the stream has a send in flight

// Debian's liburing 2.3 declares io_uring_enable_rings but does not export it.
int enable_rings(io_uring& ring) {
  return int(syscall(__NR_io_uring_register, ring.ring_fd, IORING_REGISTER_ENABLE_RINGS, nullptr, 0));
}

enum class Op : uint64_t { recv = 0, send = 1, accept = 2, wake = 3 };
constexpr uint64_t token(Op op, uint64_t value) { return uint64_t(op) << 62 | value; }
constexpr uint64_t stream_token(const Stream& s) { return uint64_t(s.generation) << 32 | uint32_t(s.fd); }

// One send in flight. It keeps what it sends alive by itself, so it may outlive its stream.
// The pool of these grows to the most sends ever in flight at once (one per stream that was
// sent to in the same turn, in a fan-out) and is kept, so it holds only what the completion
// needs: 56 bytes.
struct SendOp {
  Stream* stream = nullptr;
  uint32_t generation = 0;
  int fd = -1;
  SendArena::Block* block = nullptr;  // the bytes are in an arena block,
  SharedBuffer owned;           // or in a buffer of their own,
  WriteQueue* orphan = nullptr; // or in the queue of a stream aborted while this was in flight
  const uint8_t* data = nullptr;
  uint32_t length = 0;
  bool from_queue = false;  // gathered from the stream's WriteQueue
};

// The msghdr and iovecs of a queued send. The kernel has read them once the SQE is submitted
// (IORING_FEAT_SUBMIT_STABLE), so they are needed only until then, not while the send is in
// flight: a fixed set per thread serves every stream.
struct GatherSlot {
  msghdr message;
  iovec iov[kMaxIov];
};

class UringReactor final : public Reactor {
 public:
  UringReactor(StreamHandler& handler, const ReactorOptions& options)
      : Reactor(handler, options),
        plain_buffer_(options.read_buffer_bytes),
        large_read_(options.read_buffer_bytes) {}

  // Sets up the ring and the receive buffers; false when the kernel refuses.
  bool init() {
    io_uring_params params{};
    // Single issuer with deferred task work: completions are produced only while this thread
    // waits, which is cheaper and keeps CQEs in step with the loop. R_DISABLED defers the
    // choice of issuer to the worker thread that will run the ring.
    params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_R_DISABLED |
                   IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL;
    params.cq_entries = kCompletionEntries;
    if (io_uring_queue_init_params(kSubmissionEntries, &ring_, &params) < 0) return false;
    ring_ready_ = true;
    if (!(params.features & IORING_FEAT_SUBMIT_STABLE)) return false;  // see GatherSlot
    const size_t ring_bytes = kBufferCount * sizeof(io_uring_buf);
    void* ring_memory = mmap(nullptr, ring_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (ring_memory == MAP_FAILED) return false;
    buffer_ring_ = static_cast<io_uring_buf_ring*>(ring_memory);
    io_uring_buf_ring_init(buffer_ring_);
    io_uring_buf_reg registration{};
    registration.ring_addr = reinterpret_cast<uint64_t>(ring_memory);
    registration.ring_entries = kBufferCount;
    registration.bgid = kBufferGroup;
    if (io_uring_register_buf_ring(&ring_, &registration, 0) != 0) return false;
    // Touched now, once: the ring is a fixed cost of the thread, not of the connections that
    // happen to be the first to use each buffer.
    buffers_.reset(new uint8_t[kBufferCount * kBufferBytes]);
    std::memset(buffers_.get(), 0, kBufferCount * kBufferBytes);
    for (unsigned i = 0; i < kBufferCount; ++i)
      io_uring_buf_ring_add(buffer_ring_, buffers_.get() + i * kBufferBytes, kBufferBytes, uint16_t(i),
                            io_uring_buf_ring_mask(kBufferCount), int(i));
    io_uring_buf_ring_advance(buffer_ring_, kBufferCount);
    gather_.reset(new GatherSlot[kGatherSlots]);
    std::memset(static_cast<void*>(gather_.get()), 0, kGatherSlots * sizeof(GatherSlot));
    return true;
  }

  ~UringReactor() override {
    abort_all();
    close_listeners();
    if (ring_ready_) io_uring_queue_exit(&ring_);
    if (buffer_ring_) munmap(buffer_ring_, kBufferCount * sizeof(io_uring_buf));
    for (SendOp& op : ops_) delete op.orphan;
  }

  void add_listener(int fd, uint16_t index) override {
    remember_listener(fd, index);
    arm_accept(index);
  }

  void run() override {
    enable_rings(ring_);
    arm_wake();
    for (;;) {
      if (shutting_down_ && stream_count_ == 0) break;
      const int timeout = turn_timeout();
      io_uring_cqe* first = nullptr;
      __kernel_timespec wait{timeout / 1000, (timeout % 1000) * 1000000LL};
      io_uring_submit_and_wait_timeout(&ring_, &first, 1, timeout >= 0 ? &wait : nullptr, nullptr);
      gathered_after_submit();
      now_ms_ = monotonic_ms();
      // The batch is fixed at its tail now; completions posted while it is handled wait for the
      // next turn. Handlers may look ahead in it (see later_recv_in_batch).
      batch_head_ = *ring_.cq.khead;
      batch_tail_ = io_uring_smp_load_acquire(ring_.cq.ktail);
      for (batch_at_ = batch_head_; batch_at_ != batch_tail_; ++batch_at_) {
        const io_uring_cqe& cqe = ring_.cq.cqes[batch_at_ & ring_.cq.ring_mask];
        complete(cqe.user_data, cqe.res, cqe.flags);
      }
      io_uring_cq_advance(&ring_, batch_tail_ - batch_head_);
      give_back_buffers();
      finish_turn();
    }
  }

  SendResult send_shared_raw(Stream& s, const SharedBuffer& frame) override {
    if (&s == cork_stream_) {
      iovec one{const_cast<uint8_t*>(frame.bytes().data()), frame.size()};
      return send_raw(s, &one, 1, frame.size(), false);
    }
    if (busy(s)) {
      if (over_cap(s)) return refuse();
      return pending_queue(s).append_shared(frame) ? SendResult::queued : refuse();
    }
    submit_bytes(s, frame.bytes().data(), frame.size(), nullptr, frame);
    return SendResult::sent;
  }

  bool has_unsent(const Stream& s) const override { return busy(s); }


  void abort(Stream& s) override {
    if (s.fd < 0) return;
    drop_cork_of(s);
    // Entries still in the submission queue name the descriptor by number: submitted after the
    // close, they would act on whatever socket takes the number next (an accept finishing in
    // this very syscall's task work, say), sending this connection's bytes to another client.
    if (io_uring_sq_ready(&ring_) > 0) io_uring_submit(&ring_);
    // shutdown ends the multishot recv and any send in flight, which would otherwise keep the
    // socket open after close.
    ::shutdown(s.fd, SHUT_RDWR);
    close(s.fd);
    if (s.reactor_flags & kFlagSending) ops_[s.send_slot].orphan = s.pending;
    else delete s.pending;
    s.pending = nullptr;
    forget_stream(s);
    note_descriptor_freed();
  }

 protected:
  void emit_ciphertext(Stream& s, Bytes bytes) override {
    if (s.fd < 0 || bytes.empty()) return;
    iovec one{const_cast<uint8_t*>(bytes.data()), bytes.size()};
    send_raw(s, &one, 1, bytes.size(), /*force=*/true);
  }

 private:

  io_uring_sqe* next_sqe() {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    if (!sqe) {
      io_uring_submit(&ring_);
      sqe = io_uring_get_sqe(&ring_);
    }
    return sqe;
  }

  bool busy(const Stream& s) const { return (s.reactor_flags & kFlagSending) || s.pending; }

  // ---- completions -----------------------------------------------------------------------
  void complete(uint64_t user_data, int res, uint32_t flags) {
    const uint64_t value = user_data & ((1ull << 62) - 1);
    switch (Op(user_data >> 62)) {
      case Op::recv: return on_recv(value, res, flags);
      case Op::send: return on_sent(uint32_t(value), res);
      case Op::accept: return on_accept(uint16_t(value), res, flags);
      case Op::wake:
        if (value != 0) return on_connect_ready(value);
        drain_mail();
        if (!(flags & IORING_CQE_F_MORE)) arm_wake();
        return;
    }
  }

  Stream* live_stream(int fd, uint32_t generation) {
    if (fd < 0 || size_t(fd) >= streams_by_fd_.size()) return nullptr;
    Stream* s = streams_by_fd_[size_t(fd)];
    return s && s->generation == generation ? s : nullptr;
  }

  void on_recv(uint64_t value, int res, uint32_t flags) {
    Stream* s = live_stream(int(uint32_t(value)), uint32_t(value >> 32));
    const bool has_buffer = flags & IORING_CQE_F_BUFFER;
    const uint16_t buffer_id = uint16_t(flags >> IORING_CQE_BUFFER_SHIFT);
    bool peer_closed = false;
    if (s && res > 0 && has_buffer && !(s->reactor_flags & kFlagLingering)) {
      MutableBytes data{buffers_.get() + size_t(buffer_id) * kBufferBytes, size_t(res)};
      // A full buffer means a large message is streaming in: read the rest straight away into
      // the big per-thread buffer behind it, so large messages are handled whole (as with
      // epoll) instead of in 16 KiB pieces the reader would have to reassemble.
      // Only when no later completion of this stream waits in the batch: its bytes come first.
      if (size_t(res) == kBufferBytes && !later_recv_in_batch(token(Op::recv, value)))
        data = read_more(*s, data, peer_closed);
      deliver(*s, data);
    }
    if (has_buffer) {
      io_uring_buf_ring_add(buffer_ring_, buffers_.get() + size_t(buffer_id) * kBufferBytes, kBufferBytes,
                            buffer_id, io_uring_buf_ring_mask(kBufferCount), int(buffers_returned_));
      ++buffers_returned_;
    }
    if (!s || s->fd < 0) return;
    if (peer_closed || res == 0 || (res < 0 && res != -ENOBUFS)) {
      if (s->reactor_flags & kFlagLingering) abort(*s);
      else handler_of(*s).on_hangup(*s);
      return;
    }
    if (!(flags & IORING_CQE_F_MORE)) arm_recv(*s);
  }

  bool later_recv_in_batch(uint64_t user_data) const {
    for (unsigned at = batch_at_ + 1; at != batch_tail_; ++at)
      if (ring_.cq.cqes[at & ring_.cq.ring_mask].user_data == user_data) return true;
    return false;
  }

  // Copies `first` into the large buffer and reads whatever else the socket holds behind it.
  // With deferred task work the multishot recv only runs while this thread waits, and no later
  // completion of this stream is in the batch, so these bytes are the ones that follow `first`.
  MutableBytes read_more(Stream& s, MutableBytes first, bool& peer_closed) {
    std::memcpy(large_read_.data(), first.data(), first.size());
    size_t have = first.size();
    while (have < large_read_.size()) {
      const ssize_t n = ::recv(s.fd, large_read_.data() + have, large_read_.size() - have, MSG_DONTWAIT);
      if (n > 0) {
        have += size_t(n);
        continue;
      }
      if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) peer_closed = true;
      if (n < 0 && errno == EINTR) continue;
      break;
    }
    return {large_read_.data(), have};
  }

  void deliver(Stream& s, MutableBytes data) {
    cork_stream_ = &s;
    bool intact = true;
    if (s.filter) {
      FilterSink sink(*this, s);
      intact = s.filter->on_input(data, plain_buffer_, sink);
    } else {
      handler_of(s).on_data(s, data);
    }
    flush_cork();
    if (s.fd >= 0 && !intact) handler_of(s).on_hangup(s);
  }

  void give_back_buffers() {
    if (buffers_returned_) io_uring_buf_ring_advance(buffer_ring_, int(buffers_returned_));
    buffers_returned_ = 0;
  }

  void on_accept(uint16_t index, int res, uint32_t flags) {
    if (index >= listeners_.size() || listeners_[index] < 0) return;
    if (res >= 0) {
      sockaddr_storage address{};
      socklen_t length = sizeof address;
      getpeername(res, reinterpret_cast<sockaddr*>(&address), &length);
      Stream* s = adopt_accepted(res, reinterpret_cast<sockaddr*>(&address), index);
      if (!s) close(res);
      else watch(*s);
    } else if (res == -EMFILE || res == -ENFILE || res == -ENOBUFS || res == -ENOMEM) {
      pause_accepting();
      return;  // an error ends the multishot accept; restart_accepting re-arms it
    }
    if (!(flags & IORING_CQE_F_MORE) && !accept_paused_) arm_accept(index);
  }

  // An accepted stream is read at once; a connecting one is polled for writability first (its
  // completion comes as Op::wake with the stream's token, which is never 0).
  void watch(Stream& s) override {
    if (!(s.reactor_flags & kFlagConnecting)) return arm_recv(s);
    io_uring_sqe* sqe = next_sqe();
    io_uring_prep_poll_add(sqe, s.fd, POLLOUT);
    io_uring_sqe_set_data64(sqe, token(Op::wake, stream_token(s)));
  }

  void on_connect_ready(uint64_t stream_value) {
    Stream* s = live_stream(int(uint32_t(stream_value)), uint32_t(stream_value >> 32));
    if (!s) return;
    finish_connect(*s);
    if (s->fd >= 0 && (s->reactor_flags & kFlagConnecting)) watch(*s);  // not yet: poll again
  }

  void on_stream_connected(Stream& s) override { arm_recv(s); }

  void restart_accepting() override {
    for (size_t i = 0; i < listeners_.size(); ++i)
      if (listeners_[i] >= 0) arm_accept(uint16_t(i));
  }

  void on_sent(uint32_t slot, int res) {
    SendOp& op = ops_[slot];
    Stream* s = live_stream(op.fd, op.generation);
    if (s && s != op.stream) s = nullptr;
    if (res < 0) {
      release_op(slot);
      if (s) {
        s->reactor_flags &= ~kFlagSending;
        abort(*s);
      }
      return;
    }
    if (s && s->pending && res > 0) s->pending->note_progress(now_ms_);
    if (op.from_queue) {
      WriteQueue* queue = op.orphan ? op.orphan : s ? s->pending : nullptr;
      if (queue) queue->consume(size_t(res));
    } else if (uint32_t(res) < op.length && s) {
      op.data += res;  // a short send: the rest goes in the same op
      op.length -= uint32_t(res);
      io_uring_sqe* sqe = next_sqe();
      io_uring_prep_send(sqe, op.fd, op.data, op.length, MSG_NOSIGNAL);
      io_uring_sqe_set_data64(sqe, token(Op::send, slot));
      return;
    }
    release_op(slot);
    if (!s) return;
    s->reactor_flags &= ~kFlagSending;
    continue_sending(*s);
  }

  void flush_held(Stream& s) override {
    if (!(s.reactor_flags & kFlagSending)) submit_queue(s);
  }

  void continue_sending(Stream& s) {
    bool drained = false;
    if (s.pending) {
      if (!s.pending->empty()) return submit_queue(s);
      delete s.pending;
      s.pending = nullptr;
      drained = true;
    }
    if (s.reactor_flags & kFlagCloseAfterFlush) half_close(s);
    else if (drained) handler_of(s).on_drained(s);
  }

  // ---- sends -------------------------------------------------------------------------------
  uint32_t take_op(Stream& s) {
    uint32_t slot;
    if (free_ops_.empty()) {
      slot = uint32_t(ops_.size());
      ops_.emplace_back();  // a deque: the ops already handed out stay where they are
    } else {
      slot = free_ops_.back();
      free_ops_.pop_back();
    }
    SendOp& op = ops_[slot];
    op.stream = &s;
    op.generation = s.generation;
    op.fd = s.fd;
    s.send_slot = slot;
    s.reactor_flags |= kFlagSending;
    return slot;
  }

  void release_op(uint32_t slot) {
    SendOp& op = ops_[slot];
    if (op.block) arena_.release(op.block);
    op.block = nullptr;
    op.owned = SharedBuffer();
    delete op.orphan;
    op.orphan = nullptr;
    op.from_queue = false;
    op.stream = nullptr;
    free_ops_.push_back(slot);
  }

  void submit_bytes(Stream& s, const uint8_t* data, size_t length, SendArena::Block* block, SharedBuffer owned) {
    const uint32_t slot = take_op(s);
    SendOp& op = ops_[slot];
    op.block = block;
    if (block) SendArena::retain(block);
    op.owned = std::move(owned);
    op.data = data;
    op.length = uint32_t(length);
    io_uring_sqe* sqe = next_sqe();
    io_uring_prep_send(sqe, s.fd, data, length, MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, token(Op::send, slot));
  }

  void submit_queue(Stream& s) {
    GatherSlot& gather = take_gather_slot();
    const uint32_t slot = take_op(s);
    ops_[slot].from_queue = true;
    gather.message = {};
    gather.message.msg_iov = gather.iov;
    gather.message.msg_iovlen = size_t(s.pending->gather(gather.iov, kMaxIov));
    io_uring_sqe* sqe = next_sqe();
    io_uring_prep_sendmsg(sqe, s.fd, &gather.message, MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, token(Op::send, slot));
  }

  // A slot valid until the next submit. When all are taken, what was prepared goes to the
  // kernel now, which frees them; should the kernel not take it all (it can refuse while its
  // completion queue overflows), the slot comes from the heap until the next turn's submit.
  GatherSlot& take_gather_slot() {
    if (gather_used_ == kGatherSlots) {
      io_uring_submit(&ring_);
      if (io_uring_sq_ready(&ring_) != 0) {
        gather_overflow_.push_back(std::make_unique<GatherSlot>());
        return *gather_overflow_.back();
      }
      gather_used_ = 0;
    }
    return gather_[gather_used_++];
  }

  void gathered_after_submit() {
    if (io_uring_sq_ready(&ring_) != 0) return;
    gather_used_ = 0;
    gather_overflow_.clear();
  }

  SendResult send_raw(Stream& s, const iovec* iov, int count, size_t total, bool force) override {
    if (&s == cork_stream_ && !busy(s) && total <= kArenaCopyLimit) {
      cork_append(iov, count, total);
      return SendResult::sent;
    }
    if (&s == cork_stream_) flush_raw_cork(s);  // keep the order: corked bytes go first
    if (s.fd < 0) return SendResult::closed;
    if (busy(s)) {
      if (!force && over_cap(s)) return refuse();
      WriteQueue& queue = pending_queue(s);
      for (int i = 0; i < count; ++i)
        if (!queue.append_copy({static_cast<const uint8_t*>(iov[i].iov_base), iov[i].iov_len}))
          return refuse();
      return SendResult::queued;
    }
    if (total <= kArenaCopyLimit) {
      uint8_t* at = arena_reserve(total);
      gather_into(at, iov, count);
      submit_bytes(s, at, total, arena_.current(), {});
      return SendResult::sent;
    }
    // A large send costs more in copying than in a system call: offer it to the socket now,
    // from the caller's memory, and keep a copy only of what the socket did not take.
    size_t written = 0;
    if (!send_now(s, iov, count, written)) return SendResult::closed;
    if (written == total) return SendResult::sent;
    SharedBuffer copy = SharedBuffer::allocate(total - written);
    if (!copy) return refuse();
    gather_into(copy.writable_data(), iov, count, written);
    copy.set_size(total - written);
    const uint8_t* bytes = copy.bytes().data();  // before the handle is moved into the op
    submit_bytes(s, bytes, total - written, nullptr, std::move(copy));
    return SendResult::sent;
  }

  // Copies the bytes of `iov` after the first `skip` into `out`.
  static void gather_into(uint8_t* out, const iovec* iov, int count, size_t skip = 0) {
    for (int i = 0; i < count; ++i) {
      const size_t length = iov[i].iov_len;
      if (skip >= length) {
        skip -= length;
        continue;
      }
      std::memcpy(out, static_cast<const uint8_t*>(iov[i].iov_base) + skip, length - skip);
      out += length - skip;
      skip = 0;
    }
  }

  // One non-blocking sendmsg on an idle stream. False (and the stream aborted) when the peer
  // is gone; otherwise `written` says how much the socket took.
  bool send_now(Stream& s, const iovec* iov, int count, size_t& written) {
    msghdr message{};
    message.msg_iov = const_cast<iovec*>(iov);
    message.msg_iovlen = size_t(count);
    for (;;) {
      const ssize_t n = ::sendmsg(s.fd, &message, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n >= 0) {
        written = size_t(n);
        return true;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        written = 0;
        return true;
      }
      abort(s);
      return false;
    }
  }

  // The cork: bytes for the stream being read, collected contiguously in the arena and sent
  // with one send when the read is handled.
  void cork_append(const iovec* iov, int count, size_t total) {
    const bool contiguous = cork_size_ && cork_start_ + cork_size_ == arena_.end();
    if (cork_size_ && (!contiguous || !arena_.fits(total))) flush_raw_cork(*cork_stream_);
    uint8_t* at = arena_reserve(total);
    if (!cork_size_) cork_start_ = at;
    gather_into(at, iov, count);
    cork_size_ += total;
  }

  void flush_raw_cork(Stream& s) override {
    if (cork_size_ && s.fd >= 0 && !busy(s)) {
      submit_bytes(s, cork_start_, cork_size_, arena_.current(), {});
    } else if (cork_size_ && s.fd >= 0) {
      pending_queue(s).append_copy({cork_start_, cork_size_});
    }
    cork_size_ = 0;
  }

  void drop_raw_cork() override { cork_size_ = 0; }

  uint8_t* arena_reserve(size_t size) {
    if (!arena_.fits(size)) {
      if (cork_size_ && cork_stream_) flush_raw_cork(*cork_stream_);
      arena_.next_block();
    }
    return arena_.reserve(size);
  }

  // ---- arming --------------------------------------------------------------------------------
  void arm_recv(Stream& s) {
    io_uring_sqe* sqe = next_sqe();
    io_uring_prep_recv_multishot(sqe, s.fd, nullptr, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = kBufferGroup;
    io_uring_sqe_set_data64(sqe, token(Op::recv, stream_token(s)));
  }

  void arm_accept(uint16_t index) {
    io_uring_sqe* sqe = next_sqe();
    io_uring_prep_multishot_accept(sqe, listeners_[index], nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    io_uring_sqe_set_data64(sqe, token(Op::accept, index));
  }

  void arm_wake() {
    io_uring_sqe* sqe = next_sqe();
    io_uring_prep_poll_multishot(sqe, mailbox_.wake_fd(), POLLIN);
    io_uring_sqe_set_data64(sqe, token(Op::wake, 0));
  }

  io_uring ring_{};
  bool ring_ready_ = false;
  unsigned batch_head_ = 0, batch_at_ = 0, batch_tail_ = 0;  // the completions being handled
  io_uring_buf_ring* buffer_ring_ = nullptr;
  std::unique_ptr<uint8_t[]> buffers_;
  unsigned buffers_returned_ = 0;
  std::vector<uint8_t> plain_buffer_;
  std::vector<uint8_t> large_read_;  // large messages are read whole into this
  uint8_t* cork_start_ = nullptr;
  size_t cork_size_ = 0;
  SendArena arena_;
  std::deque<SendOp> ops_;
  std::vector<uint32_t> free_ops_;
  std::unique_ptr<GatherSlot[]> gather_;  // kGatherSlots, touched at start
  unsigned gather_used_ = 0;
  std::vector<std::unique_ptr<GatherSlot>> gather_overflow_;
};

}  // namespace

std::unique_ptr<Reactor> make_uring_reactor(StreamHandler& handler, const ReactorOptions& options) {
  auto reactor = std::make_unique<UringReactor>(handler, options);
  if (!reactor->init()) return nullptr;
  return reactor;
}

}  // namespace wshub::net
