// A blocking WebSocket client for tests, built on the proto layer: it completes the opening
// handshake (checking Sec-WebSocket-Accept), sends any frame, valid or not, whole, in chunks or
// byte by byte, and reports what the server sends back one event at a time, with a timeout.
// It is deliberately not a good client: it never answers pings or closes by itself, so a test
// sees and decides everything. Plain TCP only; it knows nothing about the server it talks to.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "proto/message_reader.h"
#include "support/wire_frame.h"

namespace wshub::test {

using std::chrono::milliseconds;

// Long enough for a sanitizer build on a loaded machine; a passing test never waits it out.
inline constexpr milliseconds kDefaultWait{10000};

// One thing the server did, with its payload copied out of the reader.
struct Incoming {
  enum class Kind : uint8_t {
    message,    // a whole text or binary message, reassembled from however many frames
    ping,
    pong,
    close,      // close_code is 1005 when the frame had no payload
    eof,        // the server closed its side of TCP cleanly (FIN)
    reset,      // the connection failed: ECONNRESET or another socket error
    timeout,    // nothing complete arrived in time
    bad_frame,  // the server broke RFC 6455; `error` names how
  };
  Kind kind = Kind::timeout;
  proto::Opcode opcode = proto::Opcode::binary;  // message only
  uint16_t close_code = 0;                       // close only
  proto::ReaderError error = proto::ReaderError::none;  // bad_frame only
  std::string payload;  // message, ping or pong payload, or the close reason

  bool is_text(std::string_view expected) const;
  bool is_binary(std::string_view expected) const;
};

const char* incoming_kind_name(Incoming::Kind kind);
std::ostream& operator<<(std::ostream& os, Incoming::Kind kind);
// Prints the kind, code and size, and the payload when short, for assertion messages.
std::ostream& operator<<(std::ostream& os, const Incoming& incoming);

// The server's answer to the upgrade request.
struct HandshakeResponse {
  int status = 0;               // 101 on success; 0 when no valid status line arrived
  std::string head;             // the whole response head, for diagnostics
  bool accept_matches = false;  // Sec-WebSocket-Accept is right for the key we sent
  std::string error;            // empty, or why the handshake did not complete
  bool ok() const { return status == 101 && accept_matches && error.empty(); }
};

class TestClient {
 public:
  // Connects TCP to host:port (a numeric IPv4 address). Throws std::runtime_error on failure.
  explicit TestClient(uint16_t port, std::string_view host = "127.0.0.1");
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;
  ~TestClient();

  // Sends a GET upgrade request for `path` (with `extra_headers`, each "Name: value") and reads
  // the response head. `pipelined` goes out in the same write as the request, before any
  // answer, as a client that does not wait would send its first frames. Bytes after the
  // response head are kept: they are the first frame bytes.
  HandshakeResponse handshake(std::string_view path = "/echo",
                              const std::vector<std::string>& extra_headers = {},
                              milliseconds wait = kDefaultWait, Bytes pipelined = {});
  // handshake() that throws std::runtime_error, with the response head, unless it succeeded.
  void open(std::string_view path = "/echo");

  // --- sending. Each returns false when the socket refused the bytes (the server may have
  // closed the connection already, which some tests expect); errno_text() then says why.
  bool send_raw(Bytes bytes);
  bool send_raw(const WireBytes& bytes) { return send_raw(Bytes(bytes)); }
  // Sends `bytes` in writes of at most `chunk` bytes with `delay` after each one but the last.
  // TCP_NODELAY is set, so each write leaves as its own segment.
  bool send_chunked(Bytes bytes, size_t chunk, milliseconds delay = milliseconds(0));
  bool send_chunked(const WireBytes& bytes, size_t chunk, milliseconds delay = milliseconds(0)) {
    return send_chunked(Bytes(bytes), chunk, delay);
  }
  bool send_frame(const FrameSpec& spec) { return send_raw(encode_frame(spec)); }
  bool send_text(std::string_view payload, bool fin = true);
  bool send_binary(std::string_view payload, bool fin = true);
  bool send_continuation(std::string_view payload, bool fin = true);
  bool send_ping(std::string_view payload = {});
  bool send_pong(std::string_view payload = {});
  bool send_close();  // no payload at all
  bool send_close(uint16_t code, std::string_view reason = {});
  // Half-closes: the server reads EOF, we can still read.
  void shutdown_write();

  // --- receiving.
  // The next event from the server, waiting at most `wait`. After eof or reset every later
  // call reports the same again.
  Incoming next(milliseconds wait = kDefaultWait);

  // The limits the reader applies to the server's frames (expect_masked is always false).
  proto::ReaderLimits& reader_limits() { return limits_; }
  int fd() const { return fd_; }
  const std::string& errno_text() const { return errno_text_; }

 private:
  bool send_data_frame(proto::Opcode opcode, std::string_view payload, bool fin);
  // Reads more bytes into rx_, waiting until `deadline`. Returns the kind to report when the
  // read did not add bytes (eof, reset, timeout), or message when it did.
  Incoming::Kind fill(std::chrono::steady_clock::time_point deadline);
  uint32_t next_mask_key();

  int fd_ = -1;
  std::string host_;
  uint16_t port_ = 0;
  std::unique_ptr<proto::MessageReader> reader_;
  proto::ReaderLimits limits_;
  std::vector<uint8_t> rx_;
  size_t rx_begin_ = 0;
  size_t rx_end_ = 0;
  std::optional<Incoming::Kind> ended_;  // eof, reset or bad_frame once nothing more can come
  uint32_t mask_state_ = 0x9e3779b9;
  std::string errno_text_;
};

}  // namespace wshub::test
