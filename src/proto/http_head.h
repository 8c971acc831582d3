// A sans-I/O HTTP/1.1 request-head parser (RFC 9112 §2-§5): request line and header fields.
// It is fed the bytes of one head as they arrive and never owns or reads a socket. It checks
// every limit before it stores anything, and it leaves the bytes after the head alone: they are
// the first WebSocket frame bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace wshub::proto {

struct HttpLimits {
  uint32_t max_head_bytes = 8192;  // request line + headers + the blank line; at most 65535
  uint32_t max_headers = 64;       // at most kMaxHeaders
};

enum class HttpHeadError : uint8_t {
  none,
  head_too_large,
  too_many_headers,
  bad_request_line,
  bad_method,
  bad_target,
  bad_version,
  unsupported_version,
  bare_cr,
  bare_lf,
  obs_fold,
  bad_header_name,
  space_before_colon,
  missing_colon,
  bad_header_value,
  tls_client_hello,  // from sniff_tls_client_hello, never from the parser; answered by closing
  count_
};

// The HTTP status that answers a head error, and a sentence a human can act on.
uint16_t http_status_of(HttpHeadError error);
std::string_view http_error_name(HttpHeadError error);
std::string_view http_error_sentence(HttpHeadError error);

struct HttpHeader {
  std::string_view name;
  std::string_view value;  // leading and trailing whitespace removed
};

constexpr uint32_t kMaxHeaders = 128;

// A parsed head. Its views point into the buffer given to the parser's last call.
struct HttpRequestHead {
  std::string_view method;
  std::string_view target;
  uint8_t version_major = 1;
  uint8_t version_minor = 1;
  uint32_t header_count = 0;
  uint32_t head_size = 0;  // bytes of the head, including the final blank line
  HttpHeader headers[kMaxHeaders];

  // The first header with this name (case-insensitive), or an empty view with found == false.
  const HttpHeader* find(std::string_view name) const;
  uint32_t count(std::string_view name) const;
  std::string_view path() const;  // target without its query
};

bool equals_ignore_case(std::string_view a, std::string_view b);

// True when `s` is a non-empty HTTP token (RFC 9110 §5.6.2); `c` one of its characters.
bool is_http_token(std::string_view s);
bool is_http_token_char(char c);

// Parses one field line (`line` non-empty, without its CRLF, holding no CR) into headers[count] and
// increments `count`; fails with too_many_headers when `count` is already `max_headers`. Request
// heads, response heads and chunked trailers share it.
HttpHeadError parse_header_line(std::string_view line, uint32_t max_headers, HttpHeader* headers,
                                uint32_t& count);

class HttpHeadParser {
 public:
  enum class Status : uint8_t { need_more, done, error };

  explicit HttpHeadParser(HttpLimits limits = {});

  // `buffer` holds every byte received so far, starting at the head's first byte; each call
  // passes the same bytes again plus any new ones (the buffer may have moved). Between calls
  // the parser keeps only where it stopped scanning, so a head that trickles in costs linear
  // time and a few bytes of state. On `done`, `out` holds the head with views into `buffer`
  // and `out.head_size` says where the first byte after the head is.
  Status parse(std::string_view buffer, HttpRequestHead& out);

  HttpHeadError error() const { return error_; }
  void reset() { *this = HttpHeadParser(limits_); }

 private:
  Status fail(HttpHeadError error) {
    error_ = error;
    return Status::error;
  }

  HttpLimits limits_;
  uint16_t scanned_ = 0;     // bytes already searched for line ends
  uint16_t line_start_ = 0;  // first byte of the line being scanned
  bool seen_request_line_ = false;
  HttpHeadError error_ = HttpHeadError::none;
};

// Whether a connection's first bytes are a TLS handshake record (content type 22, then version
// 3.0 to 3.4: every ClientHello starts so), which no HTTP request does. Checked on a plain
// listener before HTTP parsing: a wss:// or https:// client dialled a ws:// port.
enum class TlsSniff : uint8_t { not_tls, need_more, client_hello };
TlsSniff sniff_tls_client_hello(std::string_view first_bytes);

// Validates a complete head (`head` ends with the blank line) and fills `out`.
HttpHeadError parse_complete_head(std::string_view head, const HttpLimits& limits,
                                  HttpRequestHead& out);

}  // namespace wshub::proto
