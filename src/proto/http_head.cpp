#include "proto/http_head.h"

#include <array>
#include <cstring>

namespace wshub::proto {

namespace {

constexpr std::array<bool, 256> make_token_table() {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[uint8_t(c)] = true;
  return t;
}
constexpr auto kTokenChar = make_token_table();

// field-value octets: VCHAR, obs-text, SP and HTAB (RFC 9110 §5.5).
bool is_field_value_char(uint8_t c) { return c == '\t' || (c >= 0x20 && c != 0x7F); }

inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c + 32) : c; }

}  // namespace

bool is_http_token_char(char c) { return kTokenChar[uint8_t(c)]; }

bool is_http_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!kTokenChar[uint8_t(c)]) return false;
  return true;
}

bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

uint16_t http_status_of(HttpHeadError error) {
  switch (error) {
    case HttpHeadError::none: return 200;
    case HttpHeadError::head_too_large:
    case HttpHeadError::too_many_headers: return 431;
    case HttpHeadError::unsupported_version: return 505;
    case HttpHeadError::bad_method: return 400;
    default: return 400;
  }
}

std::string_view http_error_name(HttpHeadError error) {
  switch (error) {
    case HttpHeadError::none: return "none";
    case HttpHeadError::head_too_large: return "head_too_large";
    case HttpHeadError::too_many_headers: return "too_many_headers";
    case HttpHeadError::bad_request_line: return "bad_request_line";
    case HttpHeadError::bad_method: return "bad_method";
    case HttpHeadError::bad_target: return "bad_target";
    case HttpHeadError::bad_version: return "bad_version";
    case HttpHeadError::unsupported_version: return "unsupported_version";
    case HttpHeadError::bare_cr: return "bare_cr";
    case HttpHeadError::bare_lf: return "bare_lf";
    case HttpHeadError::obs_fold: return "obs_fold";
    case HttpHeadError::bad_header_name: return "bad_header_name";
    case HttpHeadError::space_before_colon: return "space_before_colon";
    case HttpHeadError::missing_colon: return "missing_colon";
    case HttpHeadError::bad_header_value: return "bad_header_value";
    case HttpHeadError::tls_client_hello: return "tls_client_hello";
    case HttpHeadError::count_: break;
  }
  return "unknown";
}

std::string_view http_error_sentence(HttpHeadError error) {
  switch (error) {
    case HttpHeadError::none: return "";
    case HttpHeadError::head_too_large:
      return "The request head is larger than the server's limit (limits.max_head_bytes); send "
             "fewer or shorter headers, or raise the limit.";
    case HttpHeadError::too_many_headers:
      return "The request has more header fields than the server's limit "
             "(limits.max_headers).";
    case HttpHeadError::bad_request_line:
      return "The request line is not 'METHOD SP target SP HTTP/1.1' with single spaces.";
    case HttpHeadError::bad_method:
      return "The request method is not an HTTP token.";
    case HttpHeadError::bad_target:
      return "The request target holds a control, space or non-ASCII byte; percent-encode it.";
    case HttpHeadError::bad_version:
      return "The request line does not end in a version of the form HTTP/1.1.";
    case HttpHeadError::unsupported_version:
      return "Only HTTP/1.x is served here; WebSocket over HTTP/2 (RFC 8441) is not supported, "
             "so connect with HTTP/1.1.";
    case HttpHeadError::bare_cr:
      return "A line of the request head holds a CR that is not followed by LF.";
    case HttpHeadError::bare_lf:
      return "A line of the request head ends in LF without CR; HTTP lines end in CRLF.";
    case HttpHeadError::obs_fold:
      return "A header line starts with whitespace (obsolete line folding, RFC 9112 §5.2); "
             "send each header on one line.";
    case HttpHeadError::bad_header_name:
      return "A header name is empty or holds a character that is not allowed in an HTTP "
             "token.";
    case HttpHeadError::space_before_colon:
      return "A header name is followed by whitespace before its colon (RFC 9112 §5.1).";
    case HttpHeadError::missing_colon:
      return "A header line has no colon.";
    case HttpHeadError::bad_header_value:
      return "A header value holds a control character.";
    case HttpHeadError::tls_client_hello:
      return "A TLS handshake arrived on a plain ws:// listener; use ws:// or add tls to this "
             "[[listen]] entry.";
    case HttpHeadError::count_: break;
  }
  return "";
}

TlsSniff sniff_tls_client_hello(std::string_view first_bytes) {
  constexpr uint8_t kHandshakeRecord = 0x16;
  constexpr uint8_t kVersionMajor = 0x03;
  constexpr uint8_t kHighestVersionMinor = 0x04;
  const size_t n = first_bytes.size();
  if (n >= 1 && uint8_t(first_bytes[0]) != kHandshakeRecord) return TlsSniff::not_tls;
  if (n >= 2 && uint8_t(first_bytes[1]) != kVersionMajor) return TlsSniff::not_tls;
  if (n < 3) return TlsSniff::need_more;
  return uint8_t(first_bytes[2]) <= kHighestVersionMinor ? TlsSniff::client_hello
                                                         : TlsSniff::not_tls;
}

const HttpHeader* HttpRequestHead::find(std::string_view name) const {
  for (uint32_t i = 0; i < header_count; ++i)
    if (equals_ignore_case(headers[i].name, name)) return &headers[i];
  return nullptr;
}

uint32_t HttpRequestHead::count(std::string_view name) const {
  uint32_t n = 0;
  for (uint32_t i = 0; i < header_count; ++i) n += equals_ignore_case(headers[i].name, name);
  return n;
}

std::string_view HttpRequestHead::path() const {
  size_t query = target.find('?');
  return query == std::string_view::npos ? target : target.substr(0, query);
}

HttpHeadParser::HttpHeadParser(HttpLimits limits) : limits_(limits) {
  if (limits_.max_head_bytes > 65535) limits_.max_head_bytes = 65535;
  if (limits_.max_headers > kMaxHeaders) limits_.max_headers = kMaxHeaders;
}

HttpHeadParser::Status HttpHeadParser::parse(std::string_view buffer, HttpRequestHead& out) {
  if (error_ != HttpHeadError::none) return Status::error;
  // Only the first max_head_bytes can belong to the head; beyond that nothing is searched.
  const size_t limit = std::min<size_t>(buffer.size(), limits_.max_head_bytes);
  while (scanned_ < limit) {
    const char* lf =
        static_cast<const char*>(std::memchr(buffer.data() + scanned_, '\n', limit - scanned_));
    if (!lf) {
      scanned_ = uint16_t(limit);
      break;
    }
    const size_t lf_at = size_t(lf - buffer.data());
    if (lf_at == line_start_ || buffer[lf_at - 1] != '\r') return fail(HttpHeadError::bare_lf);
    const bool blank = lf_at == size_t(line_start_) + 1;
    scanned_ = line_start_ = uint16_t(lf_at + 1);
    if (!blank) {
      seen_request_line_ = true;
    } else if (seen_request_line_) {
      HttpHeadError e = parse_complete_head(buffer.substr(0, scanned_), limits_, out);
      return e == HttpHeadError::none ? Status::done : fail(e);
    }
  }
  if (buffer.size() >= limits_.max_head_bytes) return fail(HttpHeadError::head_too_large);
  return Status::need_more;
}

namespace {

HttpHeadError parse_request_line(std::string_view line, HttpRequestHead& out) {
  size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return HttpHeadError::bad_request_line;
  size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    return HttpHeadError::bad_request_line;
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (method.empty() || target.empty() || version.empty()) return HttpHeadError::bad_request_line;
  if (!is_http_token(method)) return HttpHeadError::bad_method;
  for (char c : target)
    if (uint8_t(c) <= 0x20 || uint8_t(c) >= 0x7F) return HttpHeadError::bad_target;
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' ||
      version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9')
    return HttpHeadError::bad_version;
  out.version_major = uint8_t(version[5] - '0');
  out.version_minor = uint8_t(version[7] - '0');
  if (out.version_major != 1) return HttpHeadError::unsupported_version;
  out.method = method;
  out.target = target;
  return HttpHeadError::none;
}

}  // namespace

HttpHeadError parse_header_line(std::string_view line, uint32_t max_headers, HttpHeader* headers,
                                uint32_t& count) {
  if (line[0] == ' ' || line[0] == '\t') return HttpHeadError::obs_fold;
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return HttpHeadError::missing_colon;
  std::string_view name = line.substr(0, colon);
  if (!name.empty() && (name.back() == ' ' || name.back() == '\t'))
    return HttpHeadError::space_before_colon;
  if (!is_http_token(name)) return HttpHeadError::bad_header_name;
  size_t begin = colon + 1, end = line.size();
  while (begin < end && (line[begin] == ' ' || line[begin] == '\t')) ++begin;
  while (end > begin && (line[end - 1] == ' ' || line[end - 1] == '\t')) --end;
  for (size_t i = begin; i < end; ++i)
    if (!is_field_value_char(uint8_t(line[i]))) return HttpHeadError::bad_header_value;
  if (count >= max_headers) return HttpHeadError::too_many_headers;
  headers[count++] = {name, line.substr(begin, end - begin)};
  return HttpHeadError::none;
}

HttpHeadError parse_complete_head(std::string_view head, const HttpLimits& limits,
                                  HttpRequestHead& out) {
  out.header_count = 0;
  // The same bound the incremental parser applies, for callers that hold a whole head already.
  if (head.size() > std::min<uint32_t>(limits.max_head_bytes, 65535))
    return HttpHeadError::head_too_large;
  out.head_size = uint32_t(head.size());
  const uint32_t max_headers = std::min<uint32_t>(limits.max_headers, kMaxHeaders);
  bool request_line_done = false;
  size_t pos = 0;
  while (pos < head.size()) {
    size_t lf = head.find('\n', pos);
    if (lf == std::string_view::npos || lf == pos || head[lf - 1] != '\r')
      return HttpHeadError::bare_lf;
    std::string_view line = head.substr(pos, lf - 1 - pos);
    pos = lf + 1;
    if (line.find('\r') != std::string_view::npos) return HttpHeadError::bare_cr;
    if (!request_line_done) {
      if (line.empty()) continue;  // RFC 9112 §2.2: ignore blank lines before the request line
      if (auto e = parse_request_line(line, out); e != HttpHeadError::none) return e;
      request_line_done = true;
    } else if (line.empty()) {
      return pos == head.size() ? HttpHeadError::none : HttpHeadError::bad_request_line;
    } else if (auto e = parse_header_line(line, max_headers, out.headers, out.header_count);
               e != HttpHeadError::none) {
      return e;
    }
  }
  return HttpHeadError::bad_request_line;
}

}  // namespace wshub::proto
