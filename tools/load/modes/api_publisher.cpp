#include "modes/api_publisher.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <thread>

#include "base/clock.h"

namespace wshub::load {

namespace {

constexpr std::string_view kScheme = "http://";

// The value of header `name` (lower case) in `head`, or empty.
std::string_view header_value(std::string_view head, std::string_view name) {
  size_t line = head.find("\r\n");
  while (line != std::string_view::npos && line + 2 < head.size()) {
    const size_t start = line + 2;
    const size_t end = head.find("\r\n", start);
    const std::string_view field = head.substr(start, end == std::string_view::npos ? end : end - start);
    if (field.size() > name.size() && field[name.size()] == ':' &&
        strncasecmp(field.data(), name.data(), name.size()) == 0) {
      std::string_view value = field.substr(name.size() + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      return value;
    }
    line = end;
  }
  return {};
}

}  // namespace

bool parse_api_url(std::string_view text, ApiTarget& target, std::string& why) {
  if (text.substr(0, kScheme.size()) != kScheme) {
    why = "--api-url must start with http://";
    return false;
  }
  std::string_view rest = text.substr(kScheme.size());
  if (const size_t slash = rest.find('/'); slash != std::string_view::npos) rest = rest.substr(0, slash);
  const size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos) {
    why = "--api-url needs a port: http://127.0.0.1:PORT";
    return false;
  }
  std::string host(rest.substr(0, colon));
  if (host == "localhost") host = "127.0.0.1";
  unsigned port = 0;
  const auto digits = rest.substr(colon + 1);
  const auto parsed = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  in_addr address{};
  if (parsed.ec != std::errc() || parsed.ptr != digits.data() + digits.size() || port == 0 || port > 65535) {
    why = "--api-url: bad port in " + std::string(text);
    return false;
  }
  if (inet_pton(AF_INET, host.c_str(), &address) != 1 || (ntohl(address.s_addr) >> 24) != 127) {
    why = "--api-url must name a loopback IPv4 address (127.0.0.0/8)";
    return false;
  }
  target.address = ntohl(address.s_addr);
  target.port = uint16_t(port);
  target.host_header = std::string(rest);
  return true;
}

ApiPublisher::~ApiPublisher() {
  if (fd_ >= 0) ::close(fd_);
}

bool ApiPublisher::connect(std::string& why) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    why = std::string("API socket: ") + std::strerror(errno);
    return false;
  }
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  // Blocking calls wake up this often to see whether the run is stopping, so a server that
  // stops answering cannot keep this thread (and the run's end) waiting.
  const timeval wake{0, 200'000};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &wake, sizeof wake);
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &wake, sizeof wake);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(plan_.target->port);
  address.sin_addr.s_addr = htonl(plan_.target->address);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    why = "cannot connect to the API at " + plan_.target->host_header + ": " + std::strerror(errno);
    return false;
  }
  const std::string_view body = plan_.codec->api_publication(0, 0);
  request_ = "POST /api/publish HTTP/1.1\r\nHost: " + plan_.target->host_header + "\r\nX-API-Key: " +
             plan_.target->key + "\r\nContent-Type: application/json\r\nContent-Length: " +
             std::to_string(body.size()) + "\r\n\r\n";
  request_ += body;
  return true;
}

void ApiPublisher::fail(std::string_view why) {
  if (result_.errors++ == 0) result_.first_error = why;
}

bool ApiPublisher::read_answer(std::string& why) {
  for (;;) {
    const std::string_view have(answer_, answer_used_);
    const size_t head_end = have.find("\r\n\r\n");
    if (head_end != std::string_view::npos) {
      const std::string_view head = have.substr(0, head_end);
      size_t body_length = 0;
      const std::string_view length = header_value(head, "content-length");
      std::from_chars(length.data(), length.data() + length.size(), body_length);
      const size_t whole = head_end + 4 + body_length;
      if (whole > sizeof answer_) {
        why = "an API answer larger than 4 KiB";
        return false;
      }
      if (answer_used_ >= whole) {
        const bool ok = head.substr(0, 12) == "HTTP/1.1 200";
        if (!ok) why = "the API answered " + std::string(have.substr(0, std::min(whole, size_t(300))));
        std::memmove(answer_, answer_ + whole, answer_used_ - whole);
        answer_used_ -= whole;
        return ok;
      }
    }
    if (answer_used_ == sizeof answer_) {
      why = "an API answer head larger than 4 KiB";
      return false;
    }
    const ssize_t got = ::recv(fd_, answer_ + answer_used_, sizeof answer_ - answer_used_, 0);
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      if (plan_.control->current() != Phase::stopping) continue;
      why = "the run ended while an API answer was awaited";
      return false;
    }
    if (got <= 0) {
      why = got == 0 ? "the API closed the connection" : std::string("API read: ") + std::strerror(errno);
      return false;
    }
    answer_used_ += size_t(got);
  }
}

bool ApiPublisher::send_one(uint32_t sequence) {
  const std::string_view body = plan_.codec->api_publication(sequence, monotonic_ns());
  std::memcpy(request_.data() + request_.size() - body.size(), body.data(), body.size());
  size_t sent = 0;
  while (sent < request_.size()) {
    const ssize_t wrote = ::send(fd_, request_.data() + sent, request_.size() - sent, MSG_NOSIGNAL);
    if (wrote < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) &&
        plan_.control->current() != Phase::stopping)
      continue;
    if (wrote < 0) {
      fail(std::string("API write: ") + std::strerror(errno));
      return false;
    }
    sent += size_t(wrote);
  }
  return true;
}

bool ApiPublisher::take_answer() {
  std::string why;
  if (read_answer(why)) return true;
  fail(why);
  return false;
}

void ApiPublisher::run(std::atomic<uint32_t>& published, std::atomic<uint64_t>& first_send_ns) {
  RunControl& control = *plan_.control;
  while (control.current() < Phase::measuring) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const uint64_t start = monotonic_ns();
  result_.first_send_ns = start;
  first_send_ns.store(start, std::memory_order_relaxed);
  // Up to plan.depth requests in flight (HTTP/1.1 pipelining: the API answers in order).
  uint32_t sent = 0;
  uint32_t answered = 0;
  const uint32_t depth = std::max(1u, plan_.depth);
  while (answered < plan_.messages && control.current() != Phase::stopping) {
    const uint64_t due = start + sent * plan_.interval_ns;
    if (sent < plan_.messages && sent - answered < depth && (sent == answered || monotonic_ns() >= due)) {
      const uint64_t now = monotonic_ns();
      if (due > now) std::this_thread::sleep_for(std::chrono::nanoseconds(due - now));
      if (!send_one(sent)) break;
      ++sent;
      continue;
    }
    if (!take_answer()) break;
    ++answered;
    result_.published = answered;
    published.store(answered, std::memory_order_release);
  }
}

}  // namespace wshub::load
