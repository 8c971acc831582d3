// HttpHeadParser and parse_complete_head: valid heads, every HttpHeadError, the limits at and
// just past their values. Every head is fed whole, byte by byte and split in two at every point,
// each call on a freshly allocated copy (the caller's buffer may move between calls). And the
// TLS ClientHello sniff that runs before the parser on plain listeners, on real OpenSSL hellos.
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <string>
#include <utility>
#include <vector>

#include "proto/http_head.h"

namespace wshub::proto {
namespace {

using Status = HttpHeadParser::Status;
using Headers = std::vector<std::pair<std::string, std::string>>;

// What one parse reported, with the views copied out of the buffer they point into.
struct HeadResult {
  Status status = Status::need_more;
  HttpHeadError error = HttpHeadError::none;
  std::string method, target;
  int major = 0, minor = 0;
  Headers headers;
  uint32_t head_size = 0;

  bool operator==(const HeadResult&) const = default;
};

std::ostream& operator<<(std::ostream& os, const HeadResult& r) {
  static constexpr const char* kStatus[] = {"need_more", "done", "error"};
  os << kStatus[size_t(r.status)];
  if (r.status == Status::error) return os << ' ' << http_error_name(r.error);
  if (r.status == Status::done) {
    os << ' ' << r.method << ' ' << r.target << " HTTP/" << r.major << '.' << r.minor << " size "
       << r.head_size << " {";
    for (const auto& [name, value] : r.headers) os << name << ": " << value << "; ";
    os << '}';
  }
  return os;
}

HeadResult summarize(Status status, HttpHeadError error, const HttpRequestHead& head) {
  HeadResult r;
  r.status = status;
  r.error = error;
  if (status != Status::done) return r;
  r.method = head.method;
  r.target = head.target;
  r.major = head.version_major;
  r.minor = head.version_minor;
  r.head_size = head.head_size;
  for (uint32_t i = 0; i < head.header_count; ++i)
    r.headers.emplace_back(head.headers[i].name, head.headers[i].value);
  return r;
}

// Feeds the growing prefixes of `bytes` ending at `ends` (then the whole), each in a new
// allocation, until the parser stops asking for more.
HeadResult parse_in_steps(std::string_view bytes, std::vector<size_t> ends,
                          const HttpLimits& limits) {
  HttpHeadParser parser(limits);
  HttpRequestHead head;
  ends.push_back(bytes.size());
  HeadResult result;
  for (size_t end : ends) {
    std::string buffer(bytes.substr(0, end));
    const Status status = parser.parse(buffer, head);
    result = summarize(status, parser.error(), head);
    if (status != Status::need_more) {
      if (status == Status::done) {
        // The views point into the buffer of the last call.
        EXPECT_GE(head.method.data(), buffer.data());
        EXPECT_LE(head.method.data() + head.method.size(), buffer.data() + buffer.size());
        EXPECT_LE(head.head_size, buffer.size());
      }
      break;
    }
  }
  return result;
}

HeadResult parse_whole(std::string_view bytes, const HttpLimits& limits = {}) {
  return parse_in_steps(bytes, {}, limits);
}

// The same result whole, byte by byte, and split in two anywhere.
void expect_head(std::string_view bytes, const HeadResult& expected,
                 const HttpLimits& limits = {}) {
  EXPECT_EQ(parse_whole(bytes, limits), expected) << "fed whole";
  std::vector<size_t> every;
  for (size_t i = 1; i < bytes.size(); ++i) every.push_back(i);
  EXPECT_EQ(parse_in_steps(bytes, every, limits), expected) << "fed byte by byte";
  for (size_t cut = 0; cut <= bytes.size(); ++cut) {
    HeadResult got = parse_in_steps(bytes, {cut}, limits);
    EXPECT_EQ(got, expected) << "split at " << cut;
    if (got != expected) break;
  }
}

HeadResult done(std::string method, std::string target, int minor, Headers headers,
                size_t head_size) {
  HeadResult r;
  r.status = Status::done;
  r.method = std::move(method);
  r.target = std::move(target);
  r.major = 1;
  r.minor = minor;
  r.headers = std::move(headers);
  r.head_size = uint32_t(head_size);
  return r;
}

HeadResult failed(HttpHeadError error) {
  HeadResult r;
  r.status = Status::error;
  r.error = error;
  return r;
}

const HeadResult kNeedMore{};

void expect_error(std::string_view bytes, HttpHeadError error, const HttpLimits& limits = {}) {
  SCOPED_TRACE(testing::PrintToString(std::string(bytes)));
  expect_head(bytes, failed(error), limits);
}

TEST(HttpHead, ValidHeadLeavesFollowingBytesUnconsumed) {
  const std::string head =
      "GET /chat?room=1 HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\n\r\n";
  const std::string frame_bytes = "\x81\x85\x01\x02\x03\x04Hello\r\n\r\n";
  expect_head(head + frame_bytes,
              done("GET", "/chat?room=1", 1,
                   {{"Host", "example.com"}, {"Upgrade", "websocket"},
                    {"Connection", "Upgrade"}},
                   head.size()));
}

TEST(HttpHead, HeadWithoutHeaders) {
  expect_head("GET / HTTP/1.1\r\n\r\n", done("GET", "/", 1, {}, 18));
}

TEST(HttpHead, IncompleteHeadNeedsMore) {
  for (std::string_view partial : {"", "G", "GET / HTTP/1.1", "GET / HTTP/1.1\r",
                                   "GET / HTTP/1.1\r\n", "GET / HTTP/1.1\r\nHost: a\r\n\r",
                                   "\r\n\r\n", "GET / HTTP/1.1\r\nHost: a\r\n"})
    expect_head(partial, kNeedMore);
}

TEST(HttpHead, LeadingBlankLinesAreSkippedButCounted) {
  const std::string bytes = "\r\n\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\nrest";
  expect_head(bytes, done("GET", "/x", 1, {{"Host", "a"}}, bytes.size() - 4));
}

TEST(HttpHead, Http10IsAcceptedWithMinorZero) {
  expect_head("GET / HTTP/1.0\r\nHost: a\r\n\r\n", done("GET", "/", 0, {{"Host", "a"}}, 27));
}

TEST(HttpHead, OtherMajorVersionsAreUnsupported) {
  expect_error("GET / HTTP/2.0\r\nHost: a\r\n\r\n", HttpHeadError::unsupported_version);
  expect_error("GET / HTTP/0.9\r\n\r\n", HttpHeadError::unsupported_version);
  expect_error("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", HttpHeadError::unsupported_version);
}

TEST(HttpHead, BadVersion) {
  for (std::string_view v : {"HTTP/1.1x", "HTTP/1", "http/1.1", "HTTP/a.1", "HTTP/1.b",
                             "HTXP/1.1", "HTTP/1,1", "HTTP/11.1"})
    expect_error("GET / " + std::string(v) + "\r\n\r\n", HttpHeadError::bad_version);
}

TEST(HttpHead, BadRequestLine) {
  for (std::string_view line :
       {"GET /", "GET  / HTTP/1.1", "GET / HTTP/1.1 extra", " GET / HTTP/1.1", "GET / ", "GET"})
    expect_error(std::string(line) + "\r\nHost: a\r\n\r\n", HttpHeadError::bad_request_line);
}

TEST(HttpHead, BadMethod) {
  for (std::string_view method : {"G(T", "GE\"T", "G@T", "GET\x7F", "G\xC3\xA9T"})
    expect_error(std::string(method) + " / HTTP/1.1\r\n\r\n", HttpHeadError::bad_method);
}

TEST(HttpHead, BadTarget) {
  for (std::string_view target : {"/a\x01" "b", "/\x7F", "/caf\xC3\xA9", "/a\tb", "/\x1F"})
    expect_error("GET " + std::string(target) + " HTTP/1.1\r\n\r\n", HttpHeadError::bad_target);
}

TEST(HttpHead, BareCr) {
  expect_error("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", HttpHeadError::bare_cr);
  expect_error("GET / HT\rTP/1.1\r\n\r\n", HttpHeadError::bare_cr);
  expect_error("GET / HTTP/1.1\r\r\n\r\n", HttpHeadError::bare_cr);
  expect_error("GET / HTTP/1.1\r\nX: y\r\n\r\r\n\r\n", HttpHeadError::bare_cr);
}

TEST(HttpHead, BareLf) {
  expect_error("GET / HTTP/1.1\nHost: a\r\n\r\n", HttpHeadError::bare_lf);
  expect_error("GET / HTTP/1.1\r\nHost: a\n\r\n", HttpHeadError::bare_lf);
  expect_error("GET / HTTP/1.1\r\nHost: a\r\n\n", HttpHeadError::bare_lf);
  expect_error("\nGET / HTTP/1.1\r\n\r\n", HttpHeadError::bare_lf);
  expect_error("\r\n\nGET / HTTP/1.1\r\n\r\n", HttpHeadError::bare_lf);
}

TEST(HttpHead, ObsFold) {
  expect_error("GET / HTTP/1.1\r\nX: a\r\n  continued\r\n\r\n", HttpHeadError::obs_fold);
  expect_error("GET / HTTP/1.1\r\n\tX: a\r\n\r\n", HttpHeadError::obs_fold);
  expect_error("GET / HTTP/1.1\r\n Host: a\r\n\r\n", HttpHeadError::obs_fold);
}

TEST(HttpHead, BadHeaderName) {
  for (std::string_view name : {"Ho(st", "X@Y", "H\xC3\xB6", "Host\x01", "A/B", "{}", "a\"b"})
    expect_error("GET / HTTP/1.1\r\n" + std::string(name) + ": v\r\n\r\n",
                 HttpHeadError::bad_header_name);
  expect_error("GET / HTTP/1.1\r\n: empty name\r\n\r\n", HttpHeadError::bad_header_name);
  expect_error("GET / HTTP/1.1\r\nHo st: a\r\n\r\n", HttpHeadError::bad_header_name);
}

TEST(HttpHead, TokenCharactersAreAllowedInNames) {
  const std::string bytes = "GET / HTTP/1.1\r\n!#$%&'*+-.^_`|~09azAZ: v\r\n\r\n";
  expect_head(bytes, done("GET", "/", 1, {{"!#$%&'*+-.^_`|~09azAZ", "v"}}, bytes.size()));
}

TEST(HttpHead, SpaceBeforeColon) {
  expect_error("GET / HTTP/1.1\r\nHost : a\r\n\r\n", HttpHeadError::space_before_colon);
  expect_error("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", HttpHeadError::space_before_colon);
}

TEST(HttpHead, MissingColon) {
  expect_error("GET / HTTP/1.1\r\nHost a\r\n\r\n", HttpHeadError::missing_colon);
  expect_error("GET / HTTP/1.1\r\nHost: a\r\nX\r\n\r\n", HttpHeadError::missing_colon);
}

TEST(HttpHead, ControlCharacterInValue) {
  for (char c : {'\x01', '\x00', '\x1F', '\x7F', '\x0B'}) {
    std::string bytes = "GET / HTTP/1.1\r\nX: a";
    bytes += c;
    bytes += "b\r\n\r\n";
    expect_error(bytes, HttpHeadError::bad_header_value);
  }
}

TEST(HttpHead, ValueWhitespaceIsTrimmedAndInnerBytesKept) {
  const std::string bytes =
      "GET / HTTP/1.1\r\nA:   spaced  value \t \r\nB:\r\nC: \t\r\nD:\ttab\tinside\t\r\n"
      "E: caf\xC3\xA9\r\n\r\n";
  expect_head(bytes, done("GET", "/", 1,
                          {{"A", "spaced  value"}, {"B", ""}, {"C", ""}, {"D", "tab\tinside"},
                           {"E", "caf\xC3\xA9"}},
                          bytes.size()));
}

TEST(HttpHead, FindAndCountIgnoreCase) {
  const std::string bytes =
      "GET /p HTTP/1.1\r\nConnection: a\r\nHost: h\r\nCONNECTION: b\r\nconnection: c\r\n\r\n";
  HttpRequestHead head;
  HttpHeadParser parser;
  ASSERT_EQ(parser.parse(bytes, head), Status::done);
  EXPECT_EQ(head.count("connection"), 3u);
  EXPECT_EQ(head.count("Connection"), 3u);
  EXPECT_EQ(head.count("Connectio"), 0u);
  EXPECT_EQ(head.count("host"), 1u);
  ASSERT_NE(head.find("cOnNeCtIoN"), nullptr);
  EXPECT_EQ(head.find("cOnNeCtIoN")->value, "a");
  EXPECT_EQ(head.find("HOST")->value, "h");
  EXPECT_EQ(head.find("Upgrade"), nullptr);
  EXPECT_TRUE(equals_ignore_case("Sec-WebSocket-Key", "sec-websocket-KEY"));
  EXPECT_FALSE(equals_ignore_case("Key", "Keys"));
  EXPECT_FALSE(equals_ignore_case("[", "{"));  // 0x5B and 0x7B differ by 0x20 but are not letters
}

TEST(HttpHead, PathStripsQuery) {
  HttpRequestHead head;
  head.target = "/chat/room?token=abc?x";
  EXPECT_EQ(head.path(), "/chat/room");
  head.target = "/plain";
  EXPECT_EQ(head.path(), "/plain");
  head.target = "/?";
  EXPECT_EQ(head.path(), "/");
  head.target = "*";
  EXPECT_EQ(head.path(), "*");
}

// A head of exactly `size` bytes: request line, `extra` small headers, padding, blank line.
std::string head_of_size(size_t size, int extra_headers = 0) {
  std::string head = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < extra_headers; ++i) head += "H" + std::to_string(i) + ": v\r\n";
  const std::string pad_start = "Pad: ";
  const size_t fixed = head.size() + pad_start.size() + 2 + 2;
  EXPECT_GE(size, fixed + 1);
  head += pad_start + std::string(size - fixed, 'p') + "\r\n\r\n";
  EXPECT_EQ(head.size(), size);
  return head;
}

TEST(HttpHead, HeadExactlyAtTheByteLimitIsAccepted) {
  const std::string head = head_of_size(8192);
  EXPECT_EQ(parse_whole(head + "trailing").status, Status::done);
  EXPECT_EQ(parse_whole(head).head_size, 8192u);
  HttpLimits small;
  small.max_head_bytes = 100;
  expect_head(head_of_size(100) + "more bytes after", parse_whole(head_of_size(100)), small);
  EXPECT_EQ(parse_whole(head_of_size(100), small).status, Status::done);
}

TEST(HttpHead, HeadOverTheByteLimitIsRefused) {
  expect_error(head_of_size(8193), HttpHeadError::head_too_large);
  HttpLimits small;
  small.max_head_bytes = 100;
  expect_error(head_of_size(101), HttpHeadError::head_too_large, small);
  // A head that never ends is refused as soon as the limit is reached, not later.
  EXPECT_EQ(parse_whole(std::string(99, 'G'), small), kNeedMore);
  EXPECT_EQ(parse_whole(std::string(100, 'G'), small), failed(HttpHeadError::head_too_large));
  EXPECT_EQ(parse_whole("GET / HTTP/1.1\r\nX: " + std::string(200, 'v'), small),
            failed(HttpHeadError::head_too_large));
}

TEST(HttpHead, ByteLimitAbove65535IsClamped) {
  HttpLimits huge;
  huge.max_head_bytes = 1 << 20;
  EXPECT_EQ(parse_whole(head_of_size(65535), huge).status, Status::done);
  EXPECT_EQ(parse_whole(head_of_size(65536), huge), failed(HttpHeadError::head_too_large));
}

TEST(HttpHead, HeaderCountLimit) {
  EXPECT_EQ(parse_whole(head_of_size(2000, 63)).headers.size(), 64u);  // 63 + Pad
  EXPECT_EQ(parse_whole(head_of_size(2000, 64)), failed(HttpHeadError::too_many_headers));
  HttpLimits three;
  three.max_headers = 3;
  const std::string at_limit = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
  expect_head(at_limit, done("GET", "/", 1, {{"A", "1"}, {"B", "2"}, {"C", "3"}}, at_limit.size()),
              three);
  expect_error("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n",
               HttpHeadError::too_many_headers, three);
}

TEST(HttpHead, HeaderCountLimitIsClampedToStorage) {
  HttpLimits many;
  many.max_headers = 1000;
  many.max_head_bytes = 65535;
  EXPECT_EQ(parse_whole(head_of_size(4000, kMaxHeaders - 1), many).headers.size(), kMaxHeaders);
  EXPECT_EQ(parse_whole(head_of_size(4000, kMaxHeaders), many),
            failed(HttpHeadError::too_many_headers));
  HttpRequestHead head;
  EXPECT_EQ(parse_complete_head(head_of_size(4000, kMaxHeaders), many, head),
            HttpHeadError::too_many_headers);
}

TEST(HttpHead, ErrorIsStickyAndResetStartsOver) {
  HttpHeadParser parser;
  HttpRequestHead head;
  EXPECT_EQ(parser.parse("GET / HTTP/1.1\n", head), Status::error);
  EXPECT_EQ(parser.error(), HttpHeadError::bare_lf);
  EXPECT_EQ(parser.parse("GET / HTTP/1.1\r\n\r\n", head), Status::error);
  parser.reset();
  EXPECT_EQ(parser.error(), HttpHeadError::none);
  EXPECT_EQ(parser.parse("GET /again HTTP/1.1\r\n\r\n", head), Status::done);
  EXPECT_EQ(head.target, "/again");
}

TEST(HttpHead, ResetKeepsTheLimits) {
  HttpLimits small;
  small.max_head_bytes = 50;
  HttpHeadParser parser(small);
  HttpRequestHead head;
  parser.reset();
  EXPECT_EQ(parser.parse(head_of_size(51), head), Status::error);
  EXPECT_EQ(parser.error(), HttpHeadError::head_too_large);
}

TEST(ParseCompleteHead, ValidHead) {
  HttpRequestHead head;
  const std::string bytes = "\r\nGET /a?b HTTP/1.1\r\nHost: x\r\nX:  y \r\n\r\n";
  ASSERT_EQ(parse_complete_head(bytes, {}, head), HttpHeadError::none);
  EXPECT_EQ(summarize(Status::done, HttpHeadError::none, head),
            done("GET", "/a?b", 1, {{"Host", "x"}, {"X", "y"}}, bytes.size()));
  EXPECT_EQ(head.path(), "/a");
}

TEST(ParseCompleteHead, EnforcesTheByteLimit) {
  HttpRequestHead head;
  HttpLimits small;
  small.max_head_bytes = 100;
  EXPECT_EQ(parse_complete_head(head_of_size(100), small, head), HttpHeadError::none);
  EXPECT_EQ(parse_complete_head(head_of_size(101), small, head), HttpHeadError::head_too_large);
  EXPECT_EQ(parse_complete_head(head_of_size(8193), {}, head), HttpHeadError::head_too_large);
}

TEST(ParseCompleteHead, RejectsBytesAfterTheBlankLineAndMissingEnd) {
  HttpRequestHead head;
  EXPECT_NE(parse_complete_head("GET / HTTP/1.1\r\n\r\nextra", {}, head), HttpHeadError::none);
  EXPECT_NE(parse_complete_head("GET / HTTP/1.1\r\nHost: a\r\n", {}, head), HttpHeadError::none);
  EXPECT_NE(parse_complete_head("\r\n\r\n", {}, head), HttpHeadError::none);
  EXPECT_NE(parse_complete_head("", {}, head), HttpHeadError::none);
}

TEST(HttpHeadErrors, EveryErrorHasNameSentenceAndStatus) {
  for (int i = 0; i < int(HttpHeadError::count_); ++i) {
    const auto error = HttpHeadError(i);
    EXPECT_FALSE(http_error_name(error).empty());
    EXPECT_NE(http_error_name(error), "unknown");
    if (error == HttpHeadError::none) continue;
    EXPECT_FALSE(http_error_sentence(error).empty()) << http_error_name(error);
    EXPECT_GE(http_status_of(error), 400) << http_error_name(error);
  }
  EXPECT_EQ(http_status_of(HttpHeadError::head_too_large), 431);
  EXPECT_EQ(http_status_of(HttpHeadError::too_many_headers), 431);
  EXPECT_EQ(http_status_of(HttpHeadError::unsupported_version), 505);
  EXPECT_EQ(http_status_of(HttpHeadError::bare_lf), 400);
  EXPECT_NE(http_error_sentence(HttpHeadError::unsupported_version).find("HTTP/1.1"),
            std::string_view::npos);
}

// The bytes a real TLS client (OpenSSL's) sends first, up to TLS 1.3 or down to TLS 1.2 only.
std::string openssl_client_hello(int max_version) {
  SSL_CTX* context = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_max_proto_version(context, max_version);
  SSL* ssl = SSL_new(context);
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, in, out);
  SSL_set_tlsext_host_name(ssl, "test.ws.com");
  EXPECT_EQ(SSL_connect(ssl), -1);  // wants the server's answer, which never comes
  char* bytes = nullptr;
  const long size = BIO_get_mem_data(out, &bytes);
  std::string hello(bytes, size_t(size));
  SSL_free(ssl);
  SSL_CTX_free(context);
  return hello;
}

TEST(TlsSniff, RealClientHellosAreRecognisedAtEveryLength) {
  for (int version : {TLS1_3_VERSION, TLS1_2_VERSION}) {
    const std::string hello = openssl_client_hello(version);
    ASSERT_GT(hello.size(), 50u);
    EXPECT_EQ(sniff_tls_client_hello(""), TlsSniff::need_more);
    EXPECT_EQ(sniff_tls_client_hello(hello.substr(0, 1)), TlsSniff::need_more);
    EXPECT_EQ(sniff_tls_client_hello(hello.substr(0, 2)), TlsSniff::need_more);
    for (size_t n = 3; n <= hello.size(); ++n)
      ASSERT_EQ(sniff_tls_client_hello(hello.substr(0, n)), TlsSniff::client_hello) << n;
  }
}

TEST(TlsSniff, RecordVersionsFromSsl3ToTls13) {
  for (char minor : {'\x00', '\x01', '\x02', '\x03', '\x04'})
    EXPECT_EQ(sniff_tls_client_hello(std::string("\x16\x03") + minor), TlsSniff::client_hello);
  EXPECT_EQ(sniff_tls_client_hello("\x16\x03\x05"), TlsSniff::not_tls);
  EXPECT_EQ(sniff_tls_client_hello("\x16\x02\x00"), TlsSniff::not_tls);
  EXPECT_EQ(sniff_tls_client_hello("\x16\x02"), TlsSniff::not_tls);
  EXPECT_EQ(sniff_tls_client_hello("\x17\x03\x03"), TlsSniff::not_tls);  // application data
  EXPECT_EQ(sniff_tls_client_hello("\x80\x2e\x01"), TlsSniff::not_tls);  // SSL 2 hello
}

TEST(TlsSniff, HttpIsNeverTakenForTls) {
  for (std::string_view start : {"GET / HTTP/1.1\r\n", "\r\nGET /", "G", "GE", "PRI * HTTP/2.0",
                                 "\n", "\x16\n"})
    for (size_t n = 1; n <= start.size(); ++n)
      EXPECT_EQ(sniff_tls_client_hello(start.substr(0, n)),
                n == 1 && start[0] == '\x16' ? TlsSniff::need_more : TlsSniff::not_tls)
          << start.substr(0, n);
  // The parser itself never reports it: only the sniff, run before it on plain listeners.
  HttpRequestHead head;
  EXPECT_NE(parse_complete_head("\x16\x03\x01\r\n\r\n", {}, head), HttpHeadError::tls_client_hello);
  EXPECT_NE(http_error_sentence(HttpHeadError::tls_client_hello).find("plain ws:// listener"),
            std::string_view::npos);
}

}  // namespace
}  // namespace wshub::proto
