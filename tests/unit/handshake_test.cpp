// check_upgrade() for every HandshakeError, including the heads nginx sends when misconfigured,
// the key check, the accept key, the 101 response bytes, and the Connection token lists.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "proto/handshake.h"
#include "proto/http_head.h"
#include "proto/token_list.h"

namespace wshub::proto {
namespace {

constexpr std::string_view kRfcKey = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr std::string_view kRfcAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

// A parsed head that owns the bytes its views point into.
struct Request {
  std::string bytes;
  HttpRequestHead head;
};

std::unique_ptr<Request> parse(std::string request_line, const std::vector<std::string>& lines) {
  auto r = std::make_unique<Request>();
  r->bytes = request_line + "\r\n";
  for (const std::string& line : lines) r->bytes += line + "\r\n";
  r->bytes += "\r\n";
  HttpHeadParser parser;
  EXPECT_EQ(parser.parse(r->bytes, r->head), HttpHeadParser::Status::done)
      << http_error_name(parser.error());
  return r;
}

const std::vector<std::string> kValid = {
    "Host: example.com",
    "Upgrade: websocket",
    "Connection: Upgrade",
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version: 13",
};

// kValid with the header named `name` removed, then `add` appended.
std::vector<std::string> valid_with(std::string_view name, std::vector<std::string> add = {}) {
  std::vector<std::string> out;
  for (const std::string& line : kValid)
    if (!equals_ignore_case(line.substr(0, line.find(':')), name)) out.push_back(line);
  out.insert(out.end(), add.begin(), add.end());
  return out;
}

HandshakeOutcome check(const std::vector<std::string>& lines, const HandshakePolicy& policy = {},
                       std::string request_line = "GET /ws HTTP/1.1") {
  auto r = parse(std::move(request_line), lines);
  HandshakeOutcome out = check_upgrade(r->head, policy);
  out.key = {};  // points into r, which dies here
  return out;
}

HandshakeError error_of(const std::vector<std::string>& lines, const HandshakePolicy& policy = {},
                        std::string request_line = "GET /ws HTTP/1.1") {
  return check(lines, policy, std::move(request_line)).error;
}

TEST(Handshake, ValidRequest) {
  auto r = parse("GET /ws?token=x HTTP/1.1", kValid);
  HandshakeOutcome out = check_upgrade(r->head, {});
  EXPECT_EQ(out.error, HandshakeError::none);
  EXPECT_EQ(out.key, kRfcKey);
  EXPECT_TRUE(out.subprotocol.empty());
  EXPECT_EQ(handshake_status(HandshakeError::none), 101);
}

TEST(Handshake, PlainBrowserGetIs426) {
  const std::vector<std::string> browser = {
      "Host: example.com", "User-Agent: Mozilla/5.0", "Accept: text/html,*/*;q=0.8",
      "Accept-Language: en", "Connection: keep-alive"};
  EXPECT_EQ(error_of(browser), HandshakeError::plain_http_request);
  EXPECT_EQ(error_of(browser, {}, "HEAD /ws HTTP/1.1"), HandshakeError::plain_http_request);
  EXPECT_EQ(error_of({}, {}, "GET / HTTP/1.0"), HandshakeError::plain_http_request);
  EXPECT_EQ(handshake_status(HandshakeError::plain_http_request), 426);
}

TEST(Handshake, MethodNotGet) {
  EXPECT_EQ(error_of(kValid, {}, "POST /ws HTTP/1.1"), HandshakeError::method_not_get);
  EXPECT_EQ(error_of({"Host: a"}, {}, "POST /ws HTTP/1.1"), HandshakeError::method_not_get);
  EXPECT_EQ(error_of(kValid, {}, "get /ws HTTP/1.1"), HandshakeError::method_not_get);
  EXPECT_EQ(handshake_status(HandshakeError::method_not_get), 405);
}

// The three lines an nginx location needs, in the order they go in it.
constexpr std::string_view kVersionLine = "proxy_http_version 1.1;";
constexpr std::string_view kUpgradeLine = "proxy_set_header Upgrade $http_upgrade;";
constexpr std::string_view kConnectionLine = "proxy_set_header Connection \"upgrade\";";

// What nginx 1.22 sends upstream for a browser's upgrade, for each subset of those lines the
// location has (captured from a real nginx; tests/proxy/test_nginx.py checks the same live).
struct NginxLocation {
  const char* lines_present;
  std::string request_line;
  std::vector<std::string> headers;
  HandshakeError error;
  std::vector<std::string_view> missing;  // what the sentence must name, in this order
};

std::vector<NginxLocation> nginx_locations() {
  const std::string key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==";
  const std::string version = "Sec-WebSocket-Version: 13";
  return {
      {"only proxy_pass", "GET /ws HTTP/1.0",
       {"Host: backend", "Connection: close", key, version},
       HandshakeError::http_1_0_dropped_upgrade, {kVersionLine, kUpgradeLine, kConnectionLine}},
      {"version", "GET /ws HTTP/1.1",
       {"Host: backend", "Connection: close", key, version},
       HandshakeError::proxy_dropped_upgrade, {kUpgradeLine, kConnectionLine}},
      {"Upgrade, Connection", "GET /ws HTTP/1.0",
       {"Upgrade: websocket", "Connection: upgrade", "Host: backend", key, version},
       HandshakeError::http_1_0, {kVersionLine}},
      {"version, Upgrade", "GET /ws HTTP/1.1",
       {"Upgrade: websocket", "Host: backend", "Connection: close", key, version},
       HandshakeError::connection_missing_upgrade, {kConnectionLine}},
      {"version, Connection", "GET /ws HTTP/1.1",
       {"Connection: upgrade", "Host: backend", key, version},
       HandshakeError::missing_upgrade, {kUpgradeLine}},
      {"Upgrade", "GET /ws HTTP/1.0",
       {"Upgrade: websocket", "Host: backend", "Connection: close", key, version},
       HandshakeError::http_1_0_connection_missing_upgrade, {kVersionLine, kConnectionLine}},
      {"Connection", "GET /ws HTTP/1.0",
       {"Connection: upgrade", "Host: backend", key, version},
       HandshakeError::http_1_0_missing_upgrade, {kVersionLine, kUpgradeLine}},
  };
}

TEST(Handshake, EachNginxLocationStateHasItsOwnError) {
  for (const NginxLocation& location : nginx_locations())
    EXPECT_EQ(error_of(location.headers, {}, location.request_line), location.error)
        << "location with " << location.lines_present << ": got "
        << handshake_error_name(error_of(location.headers, {}, location.request_line));
  EXPECT_EQ(error_of(kValid, {}, "GET /ws HTTP/1.0"), HandshakeError::http_1_0);
  for (HandshakeError e : {HandshakeError::http_1_0_dropped_upgrade,
                           HandshakeError::http_1_0_missing_upgrade,
                           HandshakeError::http_1_0_connection_missing_upgrade,
                           HandshakeError::http_1_0})
    EXPECT_EQ(handshake_status(e), 400) << handshake_error_name(e);
}

TEST(HandshakeErrors, EachNginxStateNamesExactlyTheMissingLinesInLocationOrder) {
  for (const NginxLocation& location : nginx_locations()) {
    const std::string_view sentence = handshake_error_sentence(location.error);
    size_t after = 0;
    for (std::string_view line : location.missing) {
      const size_t at = sentence.find(line);
      ASSERT_NE(at, std::string_view::npos) << location.lines_present << ": no " << line;
      EXPECT_GE(at, after) << location.lines_present << ": " << line << " out of order";
      after = at + line.size();
    }
    for (std::string_view line : {kVersionLine, kUpgradeLine, kConnectionLine}) {
      const bool missing = std::find(location.missing.begin(), location.missing.end(), line) !=
                           location.missing.end();
      if (!missing) {
        EXPECT_EQ(sentence.find(line), std::string_view::npos)
            << location.lines_present << " has " << line << " but the sentence names it";
      }
    }
    EXPECT_EQ(sentence.find('\n'), std::string_view::npos);
  }
}

TEST(Handshake, MissingHost) {
  EXPECT_EQ(error_of(valid_with("Host")), HandshakeError::missing_host);
}

TEST(Handshake, RequestWithBody) {
  EXPECT_EQ(error_of(valid_with("", {"Content-Length: 5"})), HandshakeError::request_has_body);
  EXPECT_EQ(error_of(valid_with("", {"Transfer-Encoding: chunked"})),
            HandshakeError::request_has_body);
  EXPECT_EQ(error_of(valid_with("", {"Content-Length: 0"})), HandshakeError::none);
}

TEST(Handshake, NginxWithoutUpgradeHeadersDropsThem) {
  // proxy_http_version 1.1 but no proxy_set_header lines: Upgrade gone, Connection: close.
  EXPECT_EQ(error_of({"Host: backend", "Connection: close",
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"}),
            HandshakeError::proxy_dropped_upgrade);
  EXPECT_EQ(error_of({"Host: backend", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                      "Sec-WebSocket-Version: 13"}),
            HandshakeError::proxy_dropped_upgrade);
  EXPECT_EQ(error_of({"Host: backend", "Connection: keep-alive, Close",
                      "Sec-WebSocket-Version: 13"}),
            HandshakeError::proxy_dropped_upgrade);
}

TEST(Handshake, MissingUpgradeOnlyWhenConnectionListsUpgrade) {
  EXPECT_EQ(error_of(valid_with("Upgrade")), HandshakeError::missing_upgrade);
  EXPECT_EQ(error_of(valid_with("Upgrade"), {}, "GET /ws HTTP/1.0"),
            HandshakeError::http_1_0_missing_upgrade);
  // Connection without the token: both headers are missing, and the answer names both.
  EXPECT_EQ(error_of({"Host: a", "Connection: keep-alive",
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="}),
            HandshakeError::proxy_dropped_upgrade);
  EXPECT_EQ(error_of({"Host: a", "Connection: \"upgrade\"",
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="}),
            HandshakeError::proxy_dropped_upgrade);
}

TEST(Handshake, UpgradeNotWebSocket) {
  EXPECT_EQ(error_of(valid_with("Upgrade", {"Upgrade: h2c"})),
            HandshakeError::upgrade_not_websocket);
  EXPECT_EQ(error_of(valid_with("Upgrade", {"Upgrade: websocketx"})),
            HandshakeError::upgrade_not_websocket);
  EXPECT_EQ(error_of(valid_with("Upgrade", {"Upgrade: "})), HandshakeError::upgrade_not_websocket);
  EXPECT_EQ(error_of(valid_with("Upgrade", {"Upgrade: h2c, WebSocket"})), HandshakeError::none);
  EXPECT_EQ(error_of(valid_with("Upgrade", {"Upgrade: WEBSOCKET"})), HandshakeError::none);
}

TEST(Handshake, ConnectionWithQuotedUpgrade) {
  // nginx with proxy_set_header Connection '"upgrade"' sends the quotes literally.
  EXPECT_EQ(error_of(valid_with("Connection", {"Connection: \"upgrade\""})),
            HandshakeError::connection_quoted_upgrade);
  EXPECT_EQ(error_of(valid_with("Connection", {"Connection: keep-alive, \"Upgrade\""})),
            HandshakeError::connection_quoted_upgrade);
  EXPECT_EQ(error_of(valid_with("Connection", {"Connection: \"upgrades\""})),
            HandshakeError::connection_missing_upgrade);
}

TEST(Handshake, ConnectionMissingUpgrade) {
  for (std::string_view value : {"keep-alive", "upgrades", "close", "", "up grade"})
    EXPECT_EQ(error_of(valid_with("Connection", {"Connection: " + std::string(value)})),
              HandshakeError::connection_missing_upgrade)
        << value;
  EXPECT_EQ(error_of(valid_with("Connection")), HandshakeError::connection_missing_upgrade);
}

TEST(Handshake, ConnectionTokenLists) {
  for (std::string_view value : {"keep-alive, Upgrade", "keep-alive,Upgrade", "Upgrade, close",
                                 "upgrade", "UPGRADE", ", ,\tUpgrade\t, ", "a,b,c,upgrade"})
    EXPECT_EQ(error_of(valid_with("Connection", {"Connection: " + std::string(value)})),
              HandshakeError::none)
        << value;
  // Split over two Connection headers.
  EXPECT_EQ(error_of(valid_with("Connection", {"Connection: keep-alive", "Connection: Upgrade"})),
            HandshakeError::none);
}

TEST(Handshake, Version) {
  EXPECT_EQ(error_of(valid_with("Sec-WebSocket-Version")), HandshakeError::missing_version);
  for (std::string_view v : {"8", "12", "14", "13, 8", "", "013"}) {
    EXPECT_EQ(error_of(valid_with("Sec-WebSocket-Version",
                                  {"Sec-WebSocket-Version: " + std::string(v)})),
              HandshakeError::unsupported_version)
        << v;
  }
  EXPECT_EQ(error_of(valid_with("", {"Sec-WebSocket-Version: 13"})),
            HandshakeError::unsupported_version);
  EXPECT_EQ(handshake_status(HandshakeError::missing_version), 426);
  EXPECT_EQ(handshake_status(HandshakeError::unsupported_version), 426);
}

TEST(Handshake, Key) {
  EXPECT_EQ(error_of(valid_with("Sec-WebSocket-Key")), HandshakeError::missing_key);
  EXPECT_EQ(error_of(valid_with("", {"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="})),
            HandshakeError::duplicate_key);
  EXPECT_EQ(error_of(valid_with("", {"Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA=="})),
            HandshakeError::duplicate_key);
  for (std::string_view key :
       {"dGhlIHNhbXBsZSBub25jZR==", "dGhlIHNhbXBsZSBub25jZQ=", "dGhlIHNhbXBsZSBub25jZQ===",
        "dGhlIHNhbXBsZSBub25jZ-==", "dGhlIHNhbXBsZSBub25j_Q==", "dGhlIHNhbXBsZSBub25jZQAA",
        "", "dGhlIHNhbXBsZSBub25jZQ=x", "dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25j ZQ=="})
    EXPECT_EQ(error_of(valid_with("Sec-WebSocket-Key", {"Sec-WebSocket-Key: " + std::string(key)})),
              HandshakeError::bad_key)
        << key;
}

std::string base64(const uint8_t* data, size_t size) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < size; i += 3) {
    uint32_t n = uint32_t(data[i]) << 16;
    if (i + 1 < size) n |= uint32_t(data[i + 1]) << 8;
    if (i + 2 < size) n |= data[i + 2];
    out += kAlphabet[n >> 18 & 63];
    out += kAlphabet[n >> 12 & 63];
    out += i + 1 < size ? kAlphabet[n >> 6 & 63] : '=';
    out += i + 2 < size ? kAlphabet[n & 63] : '=';
  }
  return out;
}

TEST(Handshake, EveryEncodingOf16BytesIsAValidKey) {
  uint8_t bytes[16];
  uint32_t x = 12345;
  for (int round = 0; round < 2000; ++round) {
    for (uint8_t& b : bytes) b = uint8_t((x = x * 1103515245 + 12345) >> 16);
    if (round == 0) std::fill(std::begin(bytes), std::end(bytes), 0x00);
    if (round == 1) std::fill(std::begin(bytes), std::end(bytes), 0xFF);
    const std::string key = base64(bytes, 16);
    ASSERT_TRUE(is_valid_websocket_key(key)) << key;
  }
}

TEST(Handshake, OnlyCanonicalLastCharactersAreValid) {
  std::string key(kRfcKey);
  std::string accepted;
  for (char c : std::string_view(
           "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")) {
    key[21] = c;
    if (is_valid_websocket_key(key)) accepted += c;
  }
  EXPECT_EQ(accepted, "AQgw");  // the values with their four low bits clear
}

TEST(Handshake, OriginAllowList) {
  const std::vector<std::string> allowed = {"https://app.example.com", "http://localhost:8080"};
  HandshakePolicy policy;
  policy.allowed_origins = allowed;
  EXPECT_EQ(error_of(valid_with("", {"Origin: https://app.example.com"}), policy),
            HandshakeError::none);
  EXPECT_EQ(error_of(valid_with("", {"Origin: HTTPS://APP.example.com"}), policy),
            HandshakeError::none);
  EXPECT_EQ(error_of(valid_with("", {"Origin: http://localhost:8080"}), policy),
            HandshakeError::none);
  EXPECT_EQ(error_of(valid_with("", {"Origin: https://evil.example.com"}), policy),
            HandshakeError::origin_not_allowed);
  EXPECT_EQ(error_of(valid_with("", {"Origin: https://app.example.com.evil"}), policy),
            HandshakeError::origin_not_allowed);
  EXPECT_EQ(error_of(valid_with("", {"Origin: null"}), policy),
            HandshakeError::origin_not_allowed);
  EXPECT_EQ(error_of(kValid, policy), HandshakeError::none);  // no Origin: not a browser
  EXPECT_EQ(handshake_status(HandshakeError::origin_not_allowed), 403);

  const std::vector<std::string> any = {"*"};
  policy.allowed_origins = any;
  EXPECT_EQ(error_of(valid_with("", {"Origin: https://evil.example.com"}), policy),
            HandshakeError::none);
  EXPECT_EQ(error_of(valid_with("", {"Origin: https://evil.example.com"}), {}),
            HandshakeError::none);
}

TEST(Handshake, SubprotocolFollowsServerPreference) {
  const std::vector<std::string> served = {"v2.chat", "v1.chat"};
  HandshakePolicy policy;
  policy.subprotocols = served;
  auto r = parse("GET /ws HTTP/1.1", valid_with("", {"Sec-WebSocket-Protocol: v1.chat, v2.chat"}));
  HandshakeOutcome out = check_upgrade(r->head, policy);
  EXPECT_EQ(out.error, HandshakeError::none);
  EXPECT_EQ(out.subprotocol, "v2.chat");
  EXPECT_EQ(out.subprotocol.data(), served[0].data());  // points into the policy

  EXPECT_EQ(check(valid_with("", {"Sec-WebSocket-Protocol: v1.chat"}), policy).subprotocol,
            "v1.chat");
  EXPECT_EQ(check(valid_with("", {"Sec-WebSocket-Protocol: x", "Sec-WebSocket-Protocol: v1.chat"}),
                  policy)
                .subprotocol,
            "v1.chat");
  EXPECT_EQ(check(valid_with("", {"Sec-WebSocket-Protocol: other, V2.CHAT"}), policy).subprotocol,
            "");
  HandshakeOutcome none = check(valid_with("", {"Sec-WebSocket-Protocol: v3.chat"}), policy);
  EXPECT_EQ(none.error, HandshakeError::none);
  EXPECT_EQ(none.subprotocol, "");
}

TEST(Handshake, RequiredSubprotocol) {
  const std::vector<std::string> served = {"mqtt"};
  HandshakePolicy policy;
  policy.subprotocols = served;
  policy.require_subprotocol = true;
  EXPECT_EQ(error_of(valid_with("", {"Sec-WebSocket-Protocol: v3.chat"}), policy),
            HandshakeError::no_acceptable_subprotocol);
  EXPECT_EQ(error_of(kValid, policy), HandshakeError::no_acceptable_subprotocol);
  EXPECT_EQ(check(valid_with("", {"Sec-WebSocket-Protocol: wamp, mqtt"}), policy).subprotocol,
            "mqtt");
  EXPECT_EQ(handshake_status(HandshakeError::no_acceptable_subprotocol), 400);
}

TEST(Handshake, UnmatchedOffersRefusedWhereThePolicySays) {
  const std::vector<std::string> served = {"wshub.v1.json"};
  HandshakePolicy policy;
  policy.subprotocols = served;
  policy.refuse_unmatched_offers = true;
  EXPECT_EQ(error_of(valid_with("", {"Sec-WebSocket-Protocol: v3.chat, mqtt"}), policy),
            HandshakeError::no_acceptable_subprotocol);
  EXPECT_EQ(check(kValid, policy).error, HandshakeError::none);  // no offer: served, as v1
  EXPECT_EQ(check(valid_with("", {"Sec-WebSocket-Protocol: mqtt, wshub.v1.json"}), policy).subprotocol,
            "wshub.v1.json");
}

TEST(Handshake, AcceptKeyFromRfc6455) {
  char accept[kAcceptKeySize];
  compute_accept_key(kRfcKey, accept);
  EXPECT_EQ(std::string_view(accept, kAcceptKeySize), kRfcAccept);
  compute_accept_key("x3JJHMbDL1EzLkh9GBhXDw==", accept);  // the MDN example
  EXPECT_EQ(std::string_view(accept, kAcceptKeySize), "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
}

// Writes into a heap block of exactly the documented size, so an overrun trips ASan.
std::string upgrade_response(std::string_view key, std::string_view subprotocol,
                             std::string_view extensions) {
  const size_t capacity = kUpgradeResponseReserve + extensions.size();
  auto out = std::make_unique<char[]>(capacity);
  const size_t size = write_upgrade_response(out.get(), key, subprotocol, extensions);
  EXPECT_LE(size, capacity);
  return std::string(out.get(), std::min(size, capacity));
}

TEST(Handshake, UpgradeResponseBytes) {
  const std::string base =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n";
  EXPECT_EQ(upgrade_response(kRfcKey, "", ""), base + "\r\n");
  EXPECT_EQ(upgrade_response(kRfcKey, "chat", ""),
            base + "Sec-WebSocket-Protocol: chat\r\n\r\n");
  EXPECT_EQ(upgrade_response(kRfcKey, "", "permessage-deflate; client_max_window_bits=15"),
            base +
                "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=15\r\n\r\n");
  EXPECT_EQ(upgrade_response(kRfcKey, "chat", "permessage-deflate"),
            base + "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Extensions: "
                   "permessage-deflate\r\n\r\n");
}

TEST(Handshake, UpgradeResponseFitsTheReserveWithTheLongestSubprotocol) {
  const std::string longest(kMaxSubprotocolSize, 'p');
  const std::string response = upgrade_response(kRfcKey, longest, "permessage-deflate");
  EXPECT_NE(response.find("Sec-WebSocket-Protocol: " + longest + "\r\n"), std::string::npos);
  EXPECT_TRUE(response.ends_with("\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n"));
}

TEST(Handshake, SubprotocolTooLongToWriteIsNeverAgreed) {
  // The server must not agree to a subprotocol its 101 response would leave out.
  const std::vector<std::string> served = {std::string(kMaxSubprotocolSize + 1, 'p'), "short"};
  HandshakePolicy policy;
  policy.subprotocols = served;
  EXPECT_EQ(check(valid_with("", {"Sec-WebSocket-Protocol: " + served[0] + ", short"}), policy)
                .subprotocol,
            "short");
}

TEST(HandshakeErrors, EveryErrorHasNameStatusAndSentence) {
  std::set<std::string_view> names;
  for (size_t i = 0; i < size_t(HandshakeError::count_); ++i) {
    const auto error = HandshakeError(i);
    EXPECT_FALSE(handshake_error_name(error).empty()) << i;
    EXPECT_TRUE(names.insert(handshake_error_name(error)).second) << handshake_error_name(error);
    if (error == HandshakeError::none) continue;
    EXPECT_FALSE(handshake_error_sentence(error).empty()) << handshake_error_name(error);
    const uint16_t status = handshake_status(error);
    EXPECT_TRUE(status == 400 || status == 403 || status == 405 || status == 426)
        << handshake_error_name(error) << ' ' << status;
  }
  EXPECT_EQ(handshake_error_name(HandshakeError::proxy_dropped_upgrade), "proxy_dropped_upgrade");
}

TEST(HandshakeErrors, NginxSentencesNameTheDirective) {
  auto says = [](HandshakeError e, std::string_view text) {
    return handshake_error_sentence(e).find(text) != std::string_view::npos;
  };
  EXPECT_TRUE(says(HandshakeError::http_1_0, "proxy_http_version 1.1;"));
  EXPECT_TRUE(says(HandshakeError::http_1_0_dropped_upgrade,
                   "add 'proxy_http_version 1.1;', 'proxy_set_header Upgrade $http_upgrade;' "
                   "and 'proxy_set_header Connection \"upgrade\";'"));
  EXPECT_TRUE(
      says(HandshakeError::proxy_dropped_upgrade, "proxy_set_header Upgrade $http_upgrade;"));
  EXPECT_TRUE(
      says(HandshakeError::proxy_dropped_upgrade, "proxy_set_header Connection \"upgrade\";"));
  EXPECT_TRUE(says(HandshakeError::missing_upgrade, "proxy_set_header Upgrade $http_upgrade;"));
  EXPECT_TRUE(
      says(HandshakeError::connection_quoted_upgrade, "proxy_set_header Connection \"upgrade\";"));
  EXPECT_TRUE(
      says(HandshakeError::connection_missing_upgrade, "proxy_set_header Connection \"upgrade\";"));
  EXPECT_TRUE(says(HandshakeError::plain_http_request, "WebSocket"));
}

TEST(HandshakeErrors, ProxySentencesNameTheFixForNginxHaproxyAndAnyProxy) {
  for (const NginxLocation& location : nginx_locations()) {
    const std::string_view sentence = handshake_error_sentence(location.error);
    EXPECT_NE(sentence.find("in the nginx location that proxies to wshub add '"),
              std::string_view::npos) << sentence;
    EXPECT_NE(sentence.find("HAProxy"), std::string_view::npos) << sentence;
    EXPECT_NE(sentence.find("'mode http'"), std::string_view::npos) << sentence;
    EXPECT_NE(sentence.find("any other proxy must"), std::string_view::npos) << sentence;
    EXPECT_EQ(sentence.find("behind nginx"), std::string_view::npos) << sentence;
  }
  // A rule of HAProxy's own is the only way it loses the headers: the sentences say which.
  for (HandshakeError e : {HandshakeError::proxy_dropped_upgrade, HandshakeError::missing_upgrade,
                           HandshakeError::connection_missing_upgrade})
    EXPECT_NE(handshake_error_sentence(e).find("unless an 'http-request del-header'"),
              std::string_view::npos) << handshake_error_name(e);
}

TEST(TokenList, VisitsTrimmedNonEmptyElements) {
  std::vector<std::string> seen;
  EXPECT_FALSE(any_list_element(" a ,\tb\t,,  ,c d, ", [&](std::string_view e) {
    seen.emplace_back(e);
    return false;
  }));
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b", "c d"}));
  EXPECT_TRUE(any_list_element("x, y, z", [](std::string_view e) { return e == "y"; }));
  EXPECT_FALSE(any_list_element("", [](std::string_view) { return true; }));
  EXPECT_FALSE(any_list_element(" , ,", [](std::string_view) { return true; }));
}

TEST(TokenList, HeaderTokensAcrossHeaders) {
  auto r = parse("GET / HTTP/1.1", {"Connection: keep-alive", "X: upgrade",
                                    "connection: \"Upgrade\", close"});
  EXPECT_TRUE(header_has_token(r->head, "Connection", "KEEP-ALIVE"));
  EXPECT_TRUE(header_has_token(r->head, "Connection", "close"));
  EXPECT_FALSE(header_has_token(r->head, "Connection", "upgrade"));
  EXPECT_TRUE(header_has_quoted_token(r->head, "connection", "upgrade"));
  EXPECT_FALSE(header_has_quoted_token(r->head, "Connection", "close"));
  EXPECT_FALSE(header_has_token(r->head, "Upgrade", "upgrade"));
}

}  // namespace
}  // namespace wshub::proto
