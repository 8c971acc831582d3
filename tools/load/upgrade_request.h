// The client half of the WebSocket opening handshake (RFC 6455 §4.1): the GET request with a
// fresh Sec-WebSocket-Key, and the check of the server's 101 response. Sans-I/O: bytes in,
// verdict out.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "proto/handshake.h"
#include "xorshift.h"

namespace wshub::load {

constexpr size_t kWebSocketKeySize = 24;  // base64 of 16 bytes
constexpr size_t kMaxResponseHead = 8192;

struct HandshakeKeys {
  char key[kWebSocketKeySize];
  char expected_accept[proto::kAcceptKeySize];
};

// A random key (§4.1 item 7) and the Sec-WebSocket-Accept the server must answer with.
HandshakeKeys make_handshake_keys(Xorshift64& rng);

// The request head for `target` ("/path?query") on `host_header`; plain text, no body.
std::string make_upgrade_request(std::string_view target, std::string_view host_header,
                                 std::string_view key);

enum class ResponseStatus { need_more, accepted, rejected };

// Checks the bytes received so far. On `accepted`, `head_size` is where the first frame byte
// starts (bytes after it are WebSocket data and must be kept). On `rejected`, `why` says
// what was wrong, quoting at most the status line.
ResponseStatus check_upgrade_response(std::string_view received, std::string_view expected_accept,
                                      size_t& head_size, std::string& why);

}  // namespace wshub::load
