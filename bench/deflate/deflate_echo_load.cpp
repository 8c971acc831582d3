// A small echo load client for measuring the server's CPU per message with and without
// permessage-deflate (wshub-load speaks no deflate). It opens --connections connections,
// offers the extension per --mode, keeps --depth device reports (about 1 KiB of JSON each) in
// flight on each, checks every echo's length, and reads the server's utime + stime from
// /proc/PID/stat over the measured window. Built on the proto layer; plain TCP only.
//
//   wshub_deflate_echo --port P --server-pid PID --mode none|no-takeover|takeover
//                      [--connections 4] [--depth 16] [--warmup 2] [--seconds 10] [--hold N]
//
// --hold N opens N connections instead, sends one compressed message on each (so every zlib
// stream the server keeps is allocated), and prints the server's VmRSS before and after: the
// memory per idle connection. Output is one line of key=value pairs.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "proto/deflate_negotiation.h"
#include "proto/deflate_stream.h"
#include "proto/frame.h"
#include "proto/mask.h"
#include "proto/message_reader.h"

using namespace wshub;
using namespace wshub::proto;

namespace {

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "wshub_deflate_echo: %s\n", why.c_str());
  std::exit(1);
}

std::string report(int device, int t) {
  char buf[2048];
  std::string temps;
  for (int k = 0; k < 40; ++k) {
    char v[16];
    std::snprintf(v, sizeof v, "%s%.2f", k ? "," : "", 21.5 + ((device * 7 + t * 3 + k * 5) % 40) / 10.0);
    temps += v;
    if (k < 30) {
      std::snprintf(v, sizeof v, ",%.3f", ((device * 13 + t * 17 + k * 29) % 2000) / 1000.0 - 1.0);
      temps += v;
    }
  }
  std::snprintf(buf, sizeof buf,
                "{\"type\":\"report\",\"device_id\":\"AND-%08d\",\"seq\":%d,\"ts\":%lld,"
                "\"gps\":{\"lat\":%.6f,\"lon\":%.6f,\"alt\":%.1f,\"speed\":%.2f},"
                "\"battery\":{\"level\":%d,\"voltage\":%.3f,\"charging\":%s},"
                "\"network\":{\"type\":\"4G\",\"operator\":\"中国移动\",\"rssi\":%d},"
                "\"location\":{\"province\":\"上海市\",\"place\":\"上海市浦东新区张江高科技园区\"},"
                "\"sensors\":{\"temperature\":[%s],\"humidity\":%d,\"pressure\":%.1f},"
                "\"alerts\":[{\"code\":\"LOW_SIGNAL\",\"message\":\"信号弱，请检查天线\",\"level\":\"warn\"}],"
                "\"app\":{\"version\":\"2.8.1\",\"build\":\"20261120\",\"locale\":\"zh-CN\"}}",
                10000000 + device, t, 1764081600000LL + t * 5000LL, 31.2304 + t * 0.00001,
                121.4737 - t * 0.00002, 12.0 + t % 7, (t % 30) * 0.5, 100 - (t + device) % 80,
                3.7 + ((t + device) % 50) / 100.0, (t % 3) ? "false" : "true", -60 - (device + t) % 40,
                temps.c_str(), 40 + (device + t) % 30, 1013.0 + ((device + t) % 20) / 10.0);
  return buf;
}

uint64_t server_cpu_ticks(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(f)), {});
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) die("cannot read /proc/" + std::to_string(pid) + "/stat");
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  uint64_t utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return utime + stime;
}

uint64_t server_rss(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  return 0;
}

struct Client {
  int fd = -1;
  bool deflate = false;
  std::unique_ptr<Deflater> deflater;
  std::unique_ptr<Inflater> inflater;
  MessageReader reader;
  std::vector<uint8_t> rx;
  std::string tx;
  size_t tx_at = 0;
  int in_flight = 0;
  int next = 0;
  uint64_t wire_out = 0, wire_in = 0;
};

void write_all(int fd, const std::string& data) {
  size_t at = 0;
  while (at < data.size()) {
    ssize_t n = ::send(fd, data.data() + at, data.size() - at, MSG_NOSIGNAL);
    if (n <= 0) die(std::string("send: ") + std::strerror(errno));
    at += size_t(n);
  }
}

std::unique_ptr<Client> open_client(uint16_t port, const std::string& mode) {
  auto owned = std::make_unique<Client>();
  Client& c = *owned;
  c.fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(c.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    die(std::string("connect: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  std::string request =
      "GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
  if (mode == "no-takeover")
    request += "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; "
               "client_no_context_takeover\r\n";
  else if (mode == "takeover")
    request += "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n";
  request += "\r\n";
  write_all(c.fd, request);
  std::string head;
  char buf[4096];
  while (head.find("\r\n\r\n") == std::string::npos) {
    ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
    if (n <= 0) die("closed during the handshake");
    head.append(buf, size_t(n));
  }
  const size_t end = head.find("\r\n\r\n") + 4;
  c.rx.assign(head.begin() + long(end), head.end());
  head.resize(end);
  if (head.rfind("HTTP/1.1 101", 0) != 0) die("no 101: " + head);
  const size_t ext = head.find("Sec-WebSocket-Extensions: ");
  if (mode != "none") {
    if (ext == std::string::npos) die("the server did not agree to permessage-deflate (is [compression] enabled?)");
    const std::string value = head.substr(ext + 26, head.find("\r\n", ext) - ext - 26);
    const bool server_nct = value.find("server_no_context_takeover") != std::string::npos;
    const bool client_nct = value.find("client_no_context_takeover") != std::string::npos;
    const size_t bits_at = value.find("client_max_window_bits=");
    const uint8_t client_bits = bits_at == std::string::npos ? 15 : uint8_t(std::stoi(value.substr(bits_at + 23)));
    c.deflate = true;
    c.deflater = std::make_unique<Deflater>(DeflateSettings{6, client_bits, 8}, !client_nct);
    c.inflater = std::make_unique<Inflater>(15, !server_nct);
  }
  return owned;
}

void queue_message(Client& c, const std::string& message, uint32_t key) {
  DeflateBuffer compressed;
  Bytes body = as_bytes(message);
  uint8_t rsv = 0;
  if (c.deflate) {
    if (!c.deflater->compress(body, compressed)) die("deflate failed");
    body = compressed.bytes();
    rsv = kRsv1;
  }
  uint8_t header[kMaxHeaderSize];
  const size_t h = write_masked_frame_header(header, Opcode::text, body.size(), key, true, rsv);
  const size_t at = c.tx.size();
  c.tx.append(reinterpret_cast<const char*>(header), h);
  c.tx.append(reinterpret_cast<const char*>(body.data()), body.size());
  apply_mask(reinterpret_cast<uint8_t*>(c.tx.data()) + at + h, body.size(), key);
  c.wire_out += h + body.size();
  ++c.in_flight;
}

// Reads what arrived; returns the number of echoes completed.
int drain(Client& c, const std::vector<size_t>& sizes, uint64_t& checked_bytes) {
  uint8_t buf[1 << 16];
  ssize_t n = ::recv(c.fd, buf, sizeof buf, MSG_DONTWAIT);
  if (n == 0) die("the server closed a connection");
  if (n < 0) return 0;
  c.rx.insert(c.rx.end(), buf, buf + n);
  c.wire_in += uint64_t(n);
  ReaderLimits limits;
  limits.expect_masked = false;
  limits.allow_rsv1 = c.deflate;
  MutableBytes input(c.rx);
  int done = 0;
  for (;;) {
    ReadEvent ev = c.reader.next(input, limits);
    if (ev.kind == ReadEvent::Kind::need_more) break;
    if (ev.kind == ReadEvent::Kind::close)
      die("the server closed with " + std::to_string(ev.close_code) + ": " + std::string(as_text(ev.payload)));
    if (ev.kind != ReadEvent::Kind::message) die("unexpected frame from the server");
    size_t size = ev.payload.size();
    if (ev.compressed) {
      DeflateBuffer out;
      if (c.inflater->feed(ev.payload, out, 1 << 24) != InflateResult::ok ||
          c.inflater->finish(out, 1 << 24) != InflateResult::ok)
        die("cannot inflate the server's message");
      size = out.size();
    }
    const size_t expected = sizes[size_t(c.next - c.in_flight) % sizes.size()];
    if (size != expected) die("echo of the wrong size");
    checked_bytes += size;
    --c.in_flight;
    ++done;
  }
  c.rx.clear();
  return done;
}

}  // namespace

int main(int argc, char** argv) {
  uint16_t port = 0;
  int pid = 0, connections = 4, depth = 16, hold = 0;
  double warmup = 2, seconds = 10;
  std::string mode = "none";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--port") port = uint16_t(std::stoi(v));
    else if (k == "--server-pid") pid = std::stoi(v);
    else if (k == "--mode") mode = v;
    else if (k == "--connections") connections = std::stoi(v);
    else if (k == "--depth") depth = std::stoi(v);
    else if (k == "--warmup") warmup = std::stod(v);
    else if (k == "--seconds") seconds = std::stod(v);
    else if (k == "--hold") hold = std::stoi(v);
    else die("unknown option " + k);
  }
  if (!port || !pid) die("--port and --server-pid are required");
  if (mode != "none" && mode != "no-takeover" && mode != "takeover") die("bad --mode");

  std::vector<std::string> messages;
  std::vector<size_t> sizes;
  for (int t = 0; t < 64; ++t) {
    messages.push_back(report(42, t));
    sizes.push_back(messages.back().size());
  }

  if (hold) {
    // The first connections also touch the worker's buffers and the first slabs; they are
    // opened before the measurement starts so that only the per-connection cost is counted.
    const int warm = 200;
    uint64_t before = 0;
    std::vector<std::unique_ptr<Client>> clients;
    uint64_t checked = 0;
    for (int i = 0; i < warm + hold; ++i) {
      if (i == warm) {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        before = server_rss(pid);
      }
      clients.push_back(open_client(port, mode));
      Client& c = *clients.back();
      queue_message(c, messages[0], 0x12345678u + uint32_t(i));
      c.next = 1;
      write_all(c.fd, c.tx);
      c.tx.clear();
      while (c.in_flight) {
        pollfd p{c.fd, POLLIN, 0};
        ::poll(&p, 1, 5000);
        drain(c, sizes, checked);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const uint64_t after = server_rss(pid);
    std::printf("mode=%s connections=%d rss_before=%llu rss_after=%llu bytes_per_connection=%.0f\n",
                mode.c_str(), hold, (unsigned long long)before, (unsigned long long)after,
                double(after - before) / hold);
    return 0;
  }

  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < connections; ++i) clients.push_back(open_client(port, mode));
  std::mt19937 rng(7);
  auto fill = [&](Client& c) {
    while (c.in_flight < depth) {
      queue_message(c, messages[size_t(c.next) % messages.size()], uint32_t(rng()));
      ++c.next;
    }
  };
  for (auto& c : clients) fill(*c);

  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  const auto measure_from = start + std::chrono::duration<double>(warmup);
  const auto measure_to = measure_from + std::chrono::duration<double>(seconds);
  bool measuring = false;
  uint64_t ticks_before = 0, echoed = 0, checked = 0, wire_out0 = 0, wire_in0 = 0;
  rusage ru0{};
  std::vector<pollfd> polls(clients.size());
  for (;;) {
    const auto now = clock::now();
    if (!measuring && now >= measure_from) {
      measuring = true;
      ticks_before = server_cpu_ticks(pid);
      getrusage(RUSAGE_SELF, &ru0);
      echoed = checked = 0;
      for (auto& c : clients) wire_out0 += c->wire_out, wire_in0 += c->wire_in;
    }
    if (now >= measure_to) break;
    for (size_t i = 0; i < clients.size(); ++i) {
      Client& c = *clients[i];
      short events = POLLIN;
      if (c.tx_at < c.tx.size()) events |= POLLOUT;
      polls[i] = {c.fd, events, 0};
    }
    ::poll(polls.data(), polls.size(), 100);
    for (size_t i = 0; i < clients.size(); ++i) {
      Client& c = *clients[i];
      if (polls[i].revents & (POLLERR | POLLHUP)) die("connection failed");
      if (polls[i].revents & POLLOUT) {
        ssize_t n = ::send(c.fd, c.tx.data() + c.tx_at, c.tx.size() - c.tx_at, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) c.tx_at += size_t(n);
        if (c.tx_at == c.tx.size()) c.tx.clear(), c.tx_at = 0;
      }
      if (polls[i].revents & POLLIN) {
        const int done = drain(c, sizes, checked);
        echoed += uint64_t(done);
        if (done) fill(c);  // joins whatever is still going out
      }
    }
  }
  const uint64_t ticks = server_cpu_ticks(pid) - ticks_before;
  rusage ru1{};
  getrusage(RUSAGE_SELF, &ru1);
  uint64_t wire_out = 0, wire_in = 0;
  for (auto& c : clients) wire_out += c->wire_out, wire_in += c->wire_in;
  wire_out -= wire_out0;
  wire_in -= wire_in0;
  const double server_seconds = double(ticks) / double(sysconf(_SC_CLK_TCK));
  const double client_seconds =
      double(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec + ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
      double(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec + ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
  std::printf("mode=%s connections=%d depth=%d messages=%llu msgs_per_s=%.0f avg_payload=%.0f "
              "server_cpu_s=%.2f server_us_per_msg=%.2f client_cpu_s=%.2f "
              "to_server_bytes_per_msg=%.0f to_client_bytes_per_msg=%.0f\n",
              mode.c_str(), connections, depth, (unsigned long long)echoed, double(echoed) / seconds,
              double(checked) / double(echoed ? echoed : 1), server_seconds,
              echoed ? server_seconds * 1e6 / double(echoed) : 0.0, client_seconds,
              double(wire_out) / double(echoed ? echoed : 1), double(wire_in) / double(echoed ? echoed : 1));
  return 0;
}
