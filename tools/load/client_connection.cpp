#include "client_connection.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/clock.h"
#include "proto/mask.h"
#include "proto/reader_error.h"
#include "upgrade_request.h"

namespace wshub::load {

// Alive between start() and the 101: the key we sent and a response head that arrived in
// pieces (usually it arrives whole and this string stays empty).
struct ClientConnection::Handshake {
  HandshakeKeys keys;
  std::string response;
  const ConnectTarget* target = nullptr;
};

namespace {

const proto::ReaderLimits kServerFrameLimits{.expect_masked = false};

std::string connect_error_text(int error) {
  std::string text = std::strerror(error);
  if (error == ECONNREFUSED) text += " (is the server running on that port?)";
  if (error == EADDRNOTAVAIL)
    text += " (out of ephemeral ports for this source address: add --source-ips, e.g. "
            "127.0.0.1-127.0.0.8)";
  if (error == EMFILE || error == ENFILE) text += " (open-file limit reached)";
  return text;
}

}  // namespace

ClientConnection::ClientConnection() = default;
ClientConnection::~ClientConnection() { abort(); }

bool ClientConnection::start(const ConnectTarget& target, uint32_t slot, uint32_t source_ip,
                             LoopContext& context, std::string& why) {
  abort();
  ++generation_;
  slot_ = slot;
  we_closed_ = close_received_ = false;
  server_close_code_ = 0;
  const int family = target.address.family();
  fd_ = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    why = "socket: " + connect_error_text(errno);
    return false;
  }
  const int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (source_ip != 0) {
    if (family != AF_INET) {
      why = "--source-ips needs an IPv4 target (127.0.0.0/8)";
      abort();
      return false;
    }
    // Let connect() pick the port: the 4-tuple, not the address alone, must be unique.
    setsockopt(fd_, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    sockaddr_in source{};
    source.sin_family = AF_INET;
    source.sin_addr.s_addr = htonl(source_ip);
    if (::bind(fd_, reinterpret_cast<const sockaddr*>(&source), sizeof source) != 0) {
      why = "bind to the source address: " + connect_error_text(errno);
      abort();
      return false;
    }
  }
  started_ns_ = monotonic_ns();
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&target.address.address), target.address.length) != 0 &&
      errno != EINPROGRESS) {
    why = "connect: " + connect_error_text(errno);
    abort();
    return false;
  }
  epoll_event event{};
  event.events = EPOLLIN | EPOLLOUT;
  event.data.u64 = epoll_tag(slot_, generation_);
  if (epoll_ctl(context.epoll_fd, EPOLL_CTL_ADD, fd_, &event) != 0) {
    why = std::string("epoll_ctl: ") + std::strerror(errno);
    abort();
    return false;
  }
  interest_ = EPOLLIN | EPOLLOUT;
  handshake_ = std::make_unique<Handshake>();
  handshake_->keys = make_handshake_keys(context.rng);
  handshake_->target = &target;
  phase_ = ConnectionPhase::connecting;
  return true;
}

void ClientConnection::on_ready(uint32_t epoll_events, LoopContext& context, ConnectionEvents& events) {
  const bool readable = epoll_events & (EPOLLIN | EPOLLERR | EPOLLHUP);
  switch (phase_) {
    case ConnectionPhase::connecting:
      if (epoll_events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) on_connected(context, events);
      break;
    case ConnectionPhase::tls_handshake:
      continue_tls(context, events);
      break;
    case ConnectionPhase::upgrading:
      if (epoll_events & EPOLLOUT) flush(context, events);
      if (phase_ == ConnectionPhase::upgrading && readable) read_response(context, events);
      break;
    case ConnectionPhase::open:
    case ConnectionPhase::closing:
      if (readable) read_frames(context, events);
      break;
    case ConnectionPhase::unused:
    case ConnectionPhase::closed:
      return;
  }
  if (is_active() && (output_.unsent_size() || (interest_ & EPOLLOUT))) flush(context, events);
}

void ClientConnection::on_connected(LoopContext& context, ConnectionEvents& events) {
  int error = 0;
  socklen_t length = sizeof error;
  getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &length);
  if (error != 0) {
    fail("connect: " + connect_error_text(error), context, events);
    return;
  }
  const ConnectTarget& target = *handshake_->target;
  if (target.tls) {
    std::string why;
    ssl_ = tls_new_session(*target.tls, fd_, target.tls_server_name, why);
    if (!ssl_) {
      fail(why, context, events);
      return;
    }
    phase_ = ConnectionPhase::tls_handshake;
    continue_tls(context, events);
    return;
  }
  begin_upgrade(context, events);
}

void ClientConnection::continue_tls(LoopContext& context, ConnectionEvents& events) {
  std::string why;
  switch (tls_handshake_step(ssl_, why)) {
    case TlsStep::done: begin_upgrade(context, events); return;
    case TlsStep::want_read: set_interest(EPOLLIN, context); return;
    case TlsStep::want_write: set_interest(EPOLLIN | EPOLLOUT, context); return;
    case TlsStep::failed: fail(why, context, events); return;
  }
}

void ClientConnection::begin_upgrade(LoopContext& context, ConnectionEvents& events) {
  const ConnectTarget& target = *handshake_->target;
  const std::string request =
      make_upgrade_request(target.request_target, target.host_header,
                           std::string_view(handshake_->keys.key, kWebSocketKeySize));
  std::memcpy(output_.extend(request.size()), request.data(), request.size());
  phase_ = ConnectionPhase::upgrading;
  set_interest(EPOLLIN, context);
  flush(context, events);
}

void ClientConnection::read_response(LoopContext& context, ConnectionEvents& events) {
  for (;;) {
    size_t got = 0;
    switch (read_some(context.read_buffer, context.read_capacity, got)) {
      case Io::ok: break;
      case Io::would_block: return;
      case Io::eof: fail("the server closed the connection before answering the upgrade", context, events); return;
      case Io::failed: fail(std::string("read during the upgrade: ") + std::strerror(errno), context, events); return;
    }
    context.now_ns = monotonic_ns();
    std::string& pending = handshake_->response;
    const bool whole = pending.empty();
    if (!whole) pending.append(reinterpret_cast<const char*>(context.read_buffer), got);
    const std::string_view received =
        whole ? std::string_view(reinterpret_cast<const char*>(context.read_buffer), got) : std::string_view(pending);
    size_t head_size = 0;
    std::string why;
    const ResponseStatus status = check_upgrade_response(
        received, std::string_view(handshake_->keys.expected_accept, proto::kAcceptKeySize), head_size, why);
    if (status == ResponseStatus::need_more) {
      if (whole) pending.assign(received);
      continue;
    }
    if (status == ResponseStatus::rejected) {
      fail(why, context, events);
      return;
    }
    // Bytes after the head are the first frames (the server may send right after the 101).
    const size_t leftover = received.size() - head_size;
    if (!whole) std::memcpy(context.read_buffer, pending.data() + head_size, leftover);
    else if (leftover) std::memmove(context.read_buffer, context.read_buffer + head_size, leftover);
    handshake_.reset();
    phase_ = ConnectionPhase::open;
    events.on_open(*this, context);
    if (is_active() && leftover && !consume_frames(MutableBytes(context.read_buffer, leftover), context, events))
      return;
    // OpenSSL may already hold decrypted frames that epoll will never report again.
    if (ssl_ && is_active()) read_frames(context, events);
    return;
  }
}

void ClientConnection::read_frames(LoopContext& context, ConnectionEvents& events) {
  for (;;) {
    size_t got = 0;
    switch (read_some(context.read_buffer, context.read_capacity, got)) {
      case Io::ok: break;
      case Io::would_block: return;
      case Io::eof: on_end_of_stream(context, events); return;
      case Io::failed:
        // A TLS peer that closes TCP after the close handshake without close_notify.
        if (close_received_) on_end_of_stream(context, events);
        else fail(std::string("read: ") + (ssl_ ? "TLS error" : std::strerror(errno)), context, events);
        return;
    }
    context.now_ns = monotonic_ns();
    if (!consume_frames(MutableBytes(context.read_buffer, got), context, events)) return;
    // Level-triggered epoll: a short plain read drained the socket. OpenSSL may hold a
    // decrypted record back, so TLS reads until it says want_read.
    if (!ssl_ && got < context.read_capacity) return;
  }
}

bool ClientConnection::consume_frames(MutableBytes input, LoopContext& context, ConnectionEvents& events) {
  while (!input.empty()) {
    const proto::ReadEvent event = reader_.next(input, kServerFrameLimits);
    switch (event.kind) {
      case proto::ReadEvent::Kind::need_more:
        return true;
      case proto::ReadEvent::Kind::message:
        if (!close_received_) events.on_message(*this, event.opcode, event.payload, context);
        if (!is_active()) return false;
        break;
      case proto::ReadEvent::Kind::ping:
        if (!close_received_ && !we_closed_) queue_control(proto::Opcode::pong, event.payload, context.rng.next_u32());
        break;
      case proto::ReadEvent::Kind::pong:
        break;
      case proto::ReadEvent::Kind::close:
        on_close_frame(event.close_code, context);
        break;
      case proto::ReadEvent::Kind::error:
        fail(std::string("bad frame from the server: ") + std::string(proto::reader_error_sentence(event.error)),
             context, events);
        return false;
    }
  }
  return true;
}

void ClientConnection::on_close_frame(uint16_t code, LoopContext& context) {
  if (close_received_) return;
  close_received_ = true;
  server_close_code_ = code;
  if (!we_closed_) {
    // Echo the server's code (RFC 6455 §5.5.1); 1005 means it sent none, so neither do we.
    uint8_t payload[2] = {uint8_t(code >> 8), uint8_t(code)};
    queue_control(proto::Opcode::close, Bytes(payload, code == 1005 ? 0 : 2), context.rng.next_u32());
    phase_ = ConnectionPhase::closing;
  }
  // Then wait for the server to close TCP first (§7.1.1), so TIME_WAIT stays on its side.
}

void ClientConnection::on_end_of_stream(LoopContext& context, ConnectionEvents& events) {
  if (!close_received_) {
    fail("the server closed the TCP connection without a close frame", context, events);
    return;
  }
  if (we_closed_) {
    finish(CloseCause::clean, {}, context, events);
    return;
  }
  finish(CloseCause::peer_closed, "the server closed the connection with code " + std::to_string(server_close_code_),
         context, events);
}

void ClientConnection::finish(CloseCause cause, std::string_view why, LoopContext& context,
                              ConnectionEvents& events) {
  abort();
  events.on_closed(*this, cause, why, context);
}

void ClientConnection::abort() {
  if (ssl_) {
    tls_free_session(ssl_);
    ssl_ = nullptr;
  }
  if (fd_ >= 0) {
    ::close(fd_);  // also removes it from the epoll set
    fd_ = -1;
  }
  if (phase_ != ConnectionPhase::unused) phase_ = ConnectionPhase::closed;
  handshake_.reset();
  output_.release();
  reader_.release();
  interest_ = 0;
}

void ClientConnection::queue_message(proto::Opcode opcode, Bytes payload, uint32_t mask_key) {
  const size_t header = proto::frame_header_size(payload.size(), true);
  uint8_t* out = output_.extend(header + payload.size());
  proto::write_masked_frame_header(out, opcode, payload.size(), mask_key);
  proto::apply_mask_copy(out + header, payload.data(), payload.size(), mask_key);
}

void ClientConnection::queue_control(proto::Opcode opcode, Bytes payload, uint32_t mask_key) {
  queue_message(opcode, payload.size() <= proto::kMaxControlPayload ? payload : payload.first(proto::kMaxControlPayload),
                mask_key);
}

void ClientConnection::queue_close(uint16_t code, uint32_t mask_key) {
  if (we_closed_ || close_received_) return;
  const uint8_t payload[2] = {uint8_t(code >> 8), uint8_t(code)};
  queue_control(proto::Opcode::close, Bytes(payload, 2), mask_key);
  we_closed_ = true;
  phase_ = ConnectionPhase::closing;
}

void ClientConnection::flush(LoopContext& context, ConnectionEvents& events) {
  if (phase_ != ConnectionPhase::upgrading && phase_ != ConnectionPhase::open && phase_ != ConnectionPhase::closing)
    return;
  while (output_.unsent_size()) {
    size_t wrote = 0;
    switch (write_some(output_.unsent(), output_.unsent_size(), wrote)) {
      case Io::ok:
        output_.consume(wrote);
        continue;
      case Io::would_block:
        set_interest(EPOLLIN | EPOLLOUT, context);
        return;
      case Io::eof:
      case Io::failed:
        if (close_received_) on_end_of_stream(context, events);
        else fail(std::string("write: ") + (ssl_ ? "TLS error" : std::strerror(errno)), context, events);
        return;
    }
  }
  if (interest_ & EPOLLOUT) set_interest(EPOLLIN, context);
}

void ClientConnection::set_interest(uint32_t interest, LoopContext& context) {
  if (interest == interest_ || fd_ < 0) return;
  epoll_event event{};
  event.events = interest;
  event.data.u64 = epoll_tag(slot_, generation_);
  epoll_ctl(context.epoll_fd, EPOLL_CTL_MOD, fd_, &event);
  interest_ = interest;
}

ClientConnection::Io ClientConnection::read_some(uint8_t* data, size_t size, size_t& got) {
  if (ssl_) {
    switch (tls_read(ssl_, data, size, got)) {
      case TlsIo::ok: return Io::ok;
      case TlsIo::want_read:
      case TlsIo::want_write: return Io::would_block;
      case TlsIo::closed: return Io::eof;
      case TlsIo::failed: return Io::failed;
    }
  }
  for (;;) {
    const ssize_t n = ::recv(fd_, data, size, 0);
    if (n > 0) {
      got = size_t(n);
      return Io::ok;
    }
    if (n == 0) return Io::eof;
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK ? Io::would_block : Io::failed;
  }
}

ClientConnection::Io ClientConnection::write_some(const uint8_t* data, size_t size, size_t& wrote) {
  if (ssl_) {
    switch (tls_write(ssl_, data, size, wrote)) {
      case TlsIo::ok: return Io::ok;
      case TlsIo::want_read:
      case TlsIo::want_write: return Io::would_block;
      case TlsIo::closed: return Io::eof;
      case TlsIo::failed: return Io::failed;
    }
  }
  for (;;) {
    const ssize_t n = ::send(fd_, data, size, MSG_NOSIGNAL);
    if (n >= 0) {
      wrote = size_t(n);
      return Io::ok;
    }
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK ? Io::would_block : Io::failed;
  }
}

}  // namespace wshub::load
