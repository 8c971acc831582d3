#include "support/test_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <random>
#include <stdexcept>
#include <thread>

#include "proto/handshake.h"

namespace wshub::test {

namespace {

using Clock = std::chrono::steady_clock;

// One recv at a time; the reader keeps partial frames itself, so this never needs to grow.
constexpr size_t kReceiveBuffer = 256 * 1024;
constexpr size_t kMaxResponseHead = 16 * 1024;
// No test sends more than this without reading: a server that stops reading fails the send
// instead of hanging the test.
constexpr int kSendTimeoutSeconds = 60;

std::string base64(const uint8_t* data, size_t size) {
  static constexpr char kDigits[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < size; i += 3) {
    uint32_t group = uint32_t(data[i]) << 16;
    if (i + 1 < size) group |= uint32_t(data[i + 1]) << 8;
    if (i + 2 < size) group |= data[i + 2];
    out.push_back(kDigits[(group >> 18) & 63]);
    out.push_back(kDigits[(group >> 12) & 63]);
    out.push_back(i + 1 < size ? kDigits[(group >> 6) & 63] : '=');
    out.push_back(i + 2 < size ? kDigits[group & 63] : '=');
  }
  return out;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(uint8_t(x)) == std::tolower(uint8_t(y));
         });
}

// The value of header `name` in a response head, or empty.
std::string_view header_value(std::string_view head, std::string_view name) {
  size_t at = head.find("\r\n");
  while (at != std::string_view::npos && at + 2 < head.size()) {
    const size_t start = at + 2;
    const size_t end = head.find("\r\n", start);
    std::string_view line = head.substr(start, end == std::string_view::npos ? end : end - start);
    const size_t colon = line.find(':');
    if (colon != std::string_view::npos && equals_ignoring_case(line.substr(0, colon), name)) {
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
      return value;
    }
    at = end;
  }
  return {};
}

int milliseconds_until(Clock::time_point deadline) {
  const auto left = std::chrono::ceil<milliseconds>(deadline - Clock::now()).count();
  return int(std::clamp<int64_t>(left, 0, INT32_MAX));
}

}  // namespace

bool Incoming::is_text(std::string_view expected) const {
  return kind == Kind::message && opcode == proto::Opcode::text && payload == expected;
}

bool Incoming::is_binary(std::string_view expected) const {
  return kind == Kind::message && opcode == proto::Opcode::binary && payload == expected;
}

const char* incoming_kind_name(Incoming::Kind kind) {
  switch (kind) {
    case Incoming::Kind::message: return "message";
    case Incoming::Kind::ping: return "ping";
    case Incoming::Kind::pong: return "pong";
    case Incoming::Kind::close: return "close";
    case Incoming::Kind::eof: return "eof";
    case Incoming::Kind::reset: return "reset";
    case Incoming::Kind::timeout: return "timeout";
    case Incoming::Kind::bad_frame: return "bad_frame";
  }
  return "?";
}

std::ostream& operator<<(std::ostream& os, Incoming::Kind kind) {
  return os << incoming_kind_name(kind);
}

std::ostream& operator<<(std::ostream& os, const Incoming& in) {
  os << incoming_kind_name(in.kind);
  if (in.kind == Incoming::Kind::message)
    os << (in.opcode == proto::Opcode::text ? " text" : " binary");
  if (in.kind == Incoming::Kind::close) os << ' ' << in.close_code;
  if (in.kind == Incoming::Kind::bad_frame) os << ' ' << proto::reader_error_name(in.error);
  os << " [" << in.payload.size() << " bytes";
  if (!in.payload.empty() && in.payload.size() <= 64) {
    os << ": \"";
    for (char c : in.payload) {
      if (c >= 0x20 && c < 0x7F) os << c;
      else os << "\\x" << "0123456789abcdef"[uint8_t(c) >> 4] << "0123456789abcdef"[c & 15];
    }
    os << '"';
  }
  return os << ']';
}

TestClient::TestClient(uint16_t port, std::string_view host)
    : host_(host), port_(port), reader_(std::make_unique<proto::MessageReader>()), rx_(kReceiveBuffer) {
  limits_.expect_masked = false;
  limits_.max_frame_bytes = uint64_t(1) << 32;
  limits_.max_message_bytes = uint64_t(1) << 32;
  limits_.max_fragments = UINT32_MAX;
  mask_state_ ^= uint32_t(std::random_device{}()) | 1;

  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  if (inet_pton(AF_INET, std::string(host).c_str(), &address.sin_addr) != 1)
    throw std::runtime_error("TestClient: not an IPv4 address: " + std::string(host));
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  const int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const timeval send_timeout{kSendTimeoutSeconds, 0};
  setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error("connect to " + std::string(host) + ":" + std::to_string(port) +
                             ": " + why);
  }
}

TestClient::~TestClient() {
  if (fd_ >= 0) ::close(fd_);
}

HandshakeResponse TestClient::handshake(std::string_view path,
                                        const std::vector<std::string>& extra_headers,
                                        milliseconds wait, Bytes pipelined) {
  HandshakeResponse response;
  uint8_t nonce[16];
  for (uint8_t& byte : nonce) byte = uint8_t(next_mask_key());
  const std::string key = base64(nonce, sizeof nonce);
  std::string request = "GET " + std::string(path) + " HTTP/1.1\r\nHost: " + host_ + ":" +
                        std::to_string(port_) +
                        "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " +
                        key + "\r\nSec-WebSocket-Version: 13\r\n";
  for (const std::string& header : extra_headers) request += header + "\r\n";
  request += "\r\n";
  request.append(reinterpret_cast<const char*>(pipelined.data()), pipelined.size());
  if (!send_raw(as_bytes(request))) {
    response.error = "sending the request failed: " + errno_text_;
    return response;
  }

  const Clock::time_point deadline = Clock::now() + wait;
  std::string head;
  size_t end = std::string::npos;
  while ((end = head.find("\r\n\r\n")) == std::string::npos) {
    if (head.size() > kMaxResponseHead) {
      response.error = "no end of the response head in " + std::to_string(head.size()) + " bytes";
      response.head = head;
      return response;
    }
    const Incoming::Kind got = fill(deadline);
    if (got != Incoming::Kind::message) {
      response.error = std::string("the response head did not arrive: ") + incoming_kind_name(got);
      response.head = head;
      return response;
    }
    head.append(reinterpret_cast<const char*>(rx_.data()) + rx_begin_, rx_end_ - rx_begin_);
    rx_begin_ = rx_end_ = 0;
  }
  // Whatever followed the head is the start of the frame stream.
  const size_t rest = head.size() - (end + 4);
  std::memcpy(rx_.data(), head.data() + end + 4, rest);
  rx_begin_ = 0;
  rx_end_ = rest;
  head.resize(end + 4);
  response.head = head;

  if (head.compare(0, 9, "HTTP/1.1 ") != 0 || head.size() < 12) {
    response.error = "not an HTTP/1.1 status line";
    return response;
  }
  response.status = std::atoi(head.c_str() + 9);
  if (response.status != 101) {
    response.error = "status " + std::to_string(response.status) + " instead of 101";
    return response;
  }
  char expected[proto::kAcceptKeySize];
  proto::compute_accept_key(key, expected);
  response.accept_matches =
      header_value(head, "Sec-WebSocket-Accept") == std::string_view(expected, sizeof expected);
  if (!response.accept_matches) response.error = "wrong or missing Sec-WebSocket-Accept";
  else if (!equals_ignoring_case(header_value(head, "Upgrade"), "websocket"))
    response.error = "Upgrade is not websocket";
  return response;
}

void TestClient::open(std::string_view path) {
  const HandshakeResponse response = handshake(path);
  if (!response.ok())
    throw std::runtime_error("WebSocket handshake for " + std::string(path) +
                             " failed: " + response.error + "\n" + response.head);
}

bool TestClient::send_raw(Bytes bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      errno_text_ = std::strerror(errno);
      return false;
    }
    sent += size_t(n);
  }
  return true;
}

bool TestClient::send_chunked(Bytes bytes, size_t chunk, milliseconds delay) {
  chunk = std::max<size_t>(chunk, 1);
  for (size_t at = 0; at < bytes.size(); at += chunk) {
    if (!send_raw(bytes.subspan(at, std::min(chunk, bytes.size() - at)))) return false;
    if (delay.count() > 0 && at + chunk < bytes.size()) std::this_thread::sleep_for(delay);
  }
  return true;
}

bool TestClient::send_data_frame(proto::Opcode opcode, std::string_view payload, bool fin) {
  FrameSpec spec;
  spec.opcode = uint8_t(opcode);
  spec.payload = payload;
  spec.fin = fin;
  spec.mask_key = next_mask_key();
  return send_frame(spec);
}

bool TestClient::send_text(std::string_view payload, bool fin) {
  return send_data_frame(proto::Opcode::text, payload, fin);
}
bool TestClient::send_binary(std::string_view payload, bool fin) {
  return send_data_frame(proto::Opcode::binary, payload, fin);
}
bool TestClient::send_continuation(std::string_view payload, bool fin) {
  return send_data_frame(proto::Opcode::continuation, payload, fin);
}
bool TestClient::send_ping(std::string_view payload) {
  return send_data_frame(proto::Opcode::ping, payload, true);
}
bool TestClient::send_pong(std::string_view payload) {
  return send_data_frame(proto::Opcode::pong, payload, true);
}
bool TestClient::send_close() { return send_data_frame(proto::Opcode::close, {}, true); }
bool TestClient::send_close(uint16_t code, std::string_view reason) {
  return send_data_frame(proto::Opcode::close, close_payload(code, reason), true);
}

void TestClient::shutdown_write() { ::shutdown(fd_, SHUT_WR); }

Incoming::Kind TestClient::fill(Clock::time_point deadline) {
  if (rx_begin_ == rx_end_) rx_begin_ = rx_end_ = 0;
  for (;;) {
    pollfd p{fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, milliseconds_until(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) {
      errno_text_ = std::strerror(errno);
      return Incoming::Kind::reset;
    }
    if (ready == 0) return Incoming::Kind::timeout;
    const ssize_t n = ::recv(fd_, rx_.data() + rx_end_, rx_.size() - rx_end_, MSG_DONTWAIT);
    if (n > 0) {
      rx_end_ += size_t(n);
      return Incoming::Kind::message;
    }
    if (n == 0) return Incoming::Kind::eof;
    if (errno == EINTR || errno == EAGAIN) continue;
    errno_text_ = std::strerror(errno);
    return Incoming::Kind::reset;
  }
}

Incoming TestClient::next(milliseconds wait) {
  Incoming in;
  if (ended_) {
    in.kind = *ended_;
    return in;
  }
  const Clock::time_point deadline = Clock::now() + wait;
  for (;;) {
    if (rx_begin_ < rx_end_) {
      MutableBytes input(rx_.data() + rx_begin_, rx_end_ - rx_begin_);
      const proto::ReadEvent event = reader_->next(input, limits_);
      rx_begin_ = rx_end_ - input.size();
      using Kind = proto::ReadEvent::Kind;
      if (event.kind != Kind::need_more) {
        in.payload.assign(reinterpret_cast<const char*>(event.payload.data()), event.payload.size());
        switch (event.kind) {
          case Kind::message:
            in.kind = Incoming::Kind::message;
            in.opcode = event.opcode;
            break;
          case Kind::ping: in.kind = Incoming::Kind::ping; break;
          case Kind::pong: in.kind = Incoming::Kind::pong; break;
          case Kind::close:
            in.kind = Incoming::Kind::close;
            in.close_code = event.close_code;
            break;
          case Kind::error:
            // The reader must not be fed after an error: report it from now on.
            in.kind = Incoming::Kind::bad_frame;
            ended_ = in.kind;
            in.error = event.error;
            break;
          case Kind::need_more: break;
        }
        return in;
      }
    }
    const Incoming::Kind got = fill(deadline);
    if (got == Incoming::Kind::message) continue;
    in.kind = got;
    if (got != Incoming::Kind::timeout) ended_ = got;
    return in;
  }
}

uint32_t TestClient::next_mask_key() {
  // xorshift32: varied keys, so a server that ignores the key cannot pass by luck.
  mask_state_ ^= mask_state_ << 13;
  mask_state_ ^= mask_state_ >> 17;
  mask_state_ ^= mask_state_ << 5;
  return mask_state_;
}

}  // namespace wshub::test
