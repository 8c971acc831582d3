#include "proto/handshake.h"

#include <cstring>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "proto/token_list.h"

namespace wshub::proto {

namespace {

struct ErrorInfo {
  uint16_t status;
  std::string_view name;
  std::string_view sentence;
};

// A proxy's mistake is named for nginx (the lines of deploy/nginx/wshub.conf, in location-block
// order), for HAProxy (deploy/haproxy/wshub.cfg: in `mode http` it speaks HTTP/1.1 and forwards
// Upgrade and Connection by itself, so only a rule of its own removes them) and for any proxy.
constexpr ErrorInfo kErrors[] = {
    {101, "none", ""},
    {426, "plain_http_request",
     "This address is a WebSocket endpoint: connect with a WebSocket client, for example "
     "new WebSocket(\"ws://host/path\"), not with a plain HTTP request."},
    {405, "method_not_get", "A WebSocket handshake must use the GET method."},
    {400, "http_1_0_dropped_upgrade",
     "The handshake arrived as HTTP/1.0 with no Upgrade header and no 'upgrade' in Connection, "
     "so a proxy spoke HTTP/1.0 and dropped both headers; in the nginx location that proxies to "
     "wshub add 'proxy_http_version 1.1;', 'proxy_set_header Upgrade $http_upgrade;' and "
     "'proxy_set_header Connection \"upgrade\";'; any other proxy must forward the handshake as "
     "HTTP/1.1 with the client's Upgrade and Connection headers (HAProxy does in 'mode http')."},
    {400, "http_1_0_missing_upgrade",
     "The handshake arrived as HTTP/1.0 with no Upgrade header, so a proxy spoke HTTP/1.0 and "
     "dropped Upgrade; in the nginx location that proxies to wshub add "
     "'proxy_http_version 1.1;' and 'proxy_set_header Upgrade $http_upgrade;'; any other proxy "
     "must forward the handshake as HTTP/1.1 with the client's Upgrade header (HAProxy does in "
     "'mode http')."},
    {400, "http_1_0_connection_missing_upgrade",
     "The handshake arrived as HTTP/1.0 without 'upgrade' in Connection, so a proxy spoke "
     "HTTP/1.0 and replaced Connection; in the nginx location that proxies to wshub add "
     "'proxy_http_version 1.1;' and 'proxy_set_header Connection \"upgrade\";'; any other proxy "
     "must forward the handshake as HTTP/1.1 with the client's Connection header (HAProxy does "
     "in 'mode http')."},
    {400, "http_1_0",
     "The handshake arrived as HTTP/1.0, which cannot upgrade to WebSocket; in the nginx "
     "location that proxies to wshub add 'proxy_http_version 1.1;'; any other proxy must "
     "forward the handshake as HTTP/1.1 (HAProxy does in 'mode http')."},
    {400, "missing_host", "The handshake has no Host header, which HTTP/1.1 requires."},
    {400, "request_has_body",
     "The handshake carries a body (Content-Length or Transfer-Encoding); a WebSocket upgrade "
     "request has none."},
    {400, "proxy_dropped_upgrade",
     "The WebSocket handshake arrived with no Upgrade header and no 'upgrade' in Connection, so "
     "a proxy dropped them; in the nginx location that proxies to wshub add "
     "'proxy_set_header Upgrade $http_upgrade;' and 'proxy_set_header Connection \"upgrade\";' "
     "(a location with any proxy_set_header of its own ignores those set at server level); "
     "HAProxy forwards both in 'mode http' unless an 'http-request del-header' or 'set-header' "
     "rule removes them; any other proxy must pass the client's Upgrade and Connection headers "
     "on."},
    {400, "missing_upgrade",
     "The WebSocket handshake has no Upgrade header although Connection lists 'upgrade', so a "
     "proxy dropped it; in the nginx location that proxies to wshub add "
     "'proxy_set_header Upgrade $http_upgrade;'; HAProxy forwards Upgrade in 'mode http' unless "
     "an 'http-request del-header' rule removes it; any other proxy must pass the client's "
     "Upgrade header on."},
    {400, "upgrade_not_websocket",
     "The Upgrade header does not name 'websocket'; only WebSocket upgrades are served here."},
    {400, "connection_quoted_upgrade",
     "The Connection header holds \"upgrade\" with literal quote characters, so it does not "
     "list the token upgrade; in nginx write 'proxy_set_header Connection \"upgrade\";' (nginx "
     "removes those quotes), not '\"upgrade\"' inside single quotes."},
    {400, "connection_missing_upgrade",
     "The Connection header does not list the token 'upgrade'; in the nginx location that "
     "proxies to wshub add 'proxy_set_header Connection \"upgrade\";'; HAProxy forwards "
     "Connection in 'mode http' unless an 'http-request del-header' or 'set-header' rule removes "
     "or replaces it; any other proxy must pass the client's Connection header on."},
    {426, "missing_version",
     "The handshake has no Sec-WebSocket-Version header; this server speaks version 13 "
     "(RFC 6455)."},
    {426, "unsupported_version",
     "The handshake asks for a Sec-WebSocket-Version other than 13; this server speaks "
     "version 13 (RFC 6455)."},
    {400, "missing_key", "The handshake has no Sec-WebSocket-Key header."},
    {400, "duplicate_key", "The handshake has more than one Sec-WebSocket-Key header."},
    {400, "bad_key",
     "The Sec-WebSocket-Key header is not the base64 encoding of 16 bytes (24 characters "
     "ending in '==')."},
    {403, "origin_not_allowed",
     "The page's Origin is not in this route's allowed_origins list in the server config."},
    {400, "no_acceptable_subprotocol",
     "None of the subprotocols offered in Sec-WebSocket-Protocol is served on this route."},
};
static_assert(std::size(kErrors) == size_t(HandshakeError::count_));

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

bool is_websocket_attempt(const HttpRequestHead& head) {
  return head.find("Sec-WebSocket-Key") || head.find("Upgrade") ||
         head.find("Sec-WebSocket-Version");
}

bool has_body(const HttpRequestHead& head) {
  if (head.find("Transfer-Encoding")) return true;
  const HttpHeader* length = head.find("Content-Length");
  return length && length->value != "0";
}

std::string_view choose_subprotocol(const HttpRequestHead& head, const HandshakePolicy& policy) {
  // The client lists what it speaks; the server picks its own most preferred of those.
  for (const std::string& candidate : policy.subprotocols) {
    if (candidate.size() > kMaxSubprotocolSize) continue;  // the 101 response could not name it
    for (uint32_t i = 0; i < head.header_count; ++i) {
      if (!equals_ignore_case(head.headers[i].name, "Sec-WebSocket-Protocol")) continue;
      if (any_list_element(head.headers[i].value,
                           [&](std::string_view offered) { return offered == candidate; }))
        return candidate;
    }
  }
  return {};
}

bool origin_allowed(const HttpRequestHead& head, const HandshakePolicy& policy) {
  if (policy.allowed_origins.empty()) return true;
  const HttpHeader* origin = head.find("Origin");
  if (!origin) return true;  // not a browser: Origin protects browsers' users only
  for (const std::string& allowed : policy.allowed_origins)
    if (allowed == "*" || equals_ignore_case(allowed, origin->value)) return true;
  return false;
}

}  // namespace

uint16_t handshake_status(HandshakeError error) { return kErrors[size_t(error)].status; }
std::string_view handshake_error_name(HandshakeError error) { return kErrors[size_t(error)].name; }
std::string_view handshake_error_sentence(HandshakeError error) {
  return kErrors[size_t(error)].sentence;
}

bool is_valid_websocket_key(std::string_view key) {
  if (key.size() != 24 || key[22] != '=' || key[23] != '=') return false;
  for (size_t i = 0; i < 22; ++i)
    if (base64_value(key[i]) < 0) return false;
  // 16 bytes fill 21 characters and 2 bits of the 22nd; its 4 low bits must be zero.
  return (base64_value(key[21]) & 0x0F) == 0;
}

HandshakeOutcome check_upgrade(const HttpRequestHead& head, const HandshakePolicy& policy) {
  HandshakeOutcome out;
  auto fail = [&](HandshakeError e) {
    out.error = e;
    return out;
  };
  const bool is_get = head.method == "GET";
  if (!is_websocket_attempt(head))
    return fail(is_get || head.method == "HEAD" ? HandshakeError::plain_http_request
                                                : HandshakeError::method_not_get);
  if (!is_get) return fail(HandshakeError::method_not_get);
  // What a proxy lost, all of it at once: naming one line at a time costs a reload per line.
  const bool no_upgrade = !head.find("Upgrade");
  const bool no_connection_upgrade = !header_has_token(head, "Connection", "upgrade");
  if (head.version_minor == 0) {
    if (no_upgrade)
      return fail(no_connection_upgrade ? HandshakeError::http_1_0_dropped_upgrade
                                        : HandshakeError::http_1_0_missing_upgrade);
    return fail(no_connection_upgrade ? HandshakeError::http_1_0_connection_missing_upgrade
                                      : HandshakeError::http_1_0);
  }
  if (!head.find("Host")) return fail(HandshakeError::missing_host);
  if (has_body(head)) return fail(HandshakeError::request_has_body);
  if (no_upgrade)
    return fail(no_connection_upgrade ? HandshakeError::proxy_dropped_upgrade
                                      : HandshakeError::missing_upgrade);
  if (!header_has_token(head, "Upgrade", "websocket"))
    return fail(HandshakeError::upgrade_not_websocket);
  if (no_connection_upgrade)
    return fail(header_has_quoted_token(head, "Connection", "upgrade")
                    ? HandshakeError::connection_quoted_upgrade
                    : HandshakeError::connection_missing_upgrade);
  const HttpHeader* version = head.find("Sec-WebSocket-Version");
  if (!version) return fail(HandshakeError::missing_version);
  if (version->value != "13" || head.count("Sec-WebSocket-Version") != 1)
    return fail(HandshakeError::unsupported_version);
  const HttpHeader* key = head.find("Sec-WebSocket-Key");
  if (!key) return fail(HandshakeError::missing_key);
  if (head.count("Sec-WebSocket-Key") != 1) return fail(HandshakeError::duplicate_key);
  if (!is_valid_websocket_key(key->value)) return fail(HandshakeError::bad_key);
  if (!origin_allowed(head, policy)) return fail(HandshakeError::origin_not_allowed);
  out.key = key->value;
  out.subprotocol = choose_subprotocol(head, policy);
  if (out.subprotocol.empty() &&
      (policy.require_subprotocol || (policy.refuse_unmatched_offers && head.find("Sec-WebSocket-Protocol"))))
    return fail(HandshakeError::no_acceptable_subprotocol);
  // An extension that cannot be agreed is left out, never a reason to refuse (RFC 6455 §9.1).
  if (policy.deflate) out.deflate = negotiate_deflate(head, *policy.deflate);
  return out;
}

void compute_accept_key(std::string_view key, char out[kAcceptKeySize]) {
  char input[64 + kGuid.size()];
  const size_t key_size = std::min<size_t>(key.size(), 64);
  std::memcpy(input, key.data(), key_size);
  std::memcpy(input + key_size, kGuid.data(), kGuid.size());
  unsigned char digest[SHA_DIGEST_LENGTH];
  unsigned int digest_size = 0;
  EVP_Digest(input, key_size + kGuid.size(), digest, &digest_size, EVP_sha1(), nullptr);
  unsigned char encoded[kAcceptKeySize + 1];
  EVP_EncodeBlock(encoded, digest, SHA_DIGEST_LENGTH);
  std::memcpy(out, encoded, kAcceptKeySize);
}

// The response without subprotocol and extension values; with the longest subprotocol it must
// fit the reserve the header promises callers.
constexpr size_t kUpgradeResponseFixedSize =
    std::string_view("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Accept: \r\n")
        .size() +
    kAcceptKeySize + std::string_view("Sec-WebSocket-Protocol: \r\n").size() +
    std::string_view("Sec-WebSocket-Extensions: \r\n").size() + std::string_view("\r\n").size();
static_assert(kUpgradeResponseFixedSize + kMaxSubprotocolSize <= kUpgradeResponseReserve);

size_t write_upgrade_response(char* out, std::string_view key, std::string_view subprotocol,
                              std::string_view extensions) {
  auto append = [&out](std::string_view s) {
    std::memcpy(out, s.data(), s.size());
    out += s.size();
  };
  char* start = out;
  append(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: ");
  compute_accept_key(key, out);
  out += kAcceptKeySize;
  append("\r\n");
  if (!subprotocol.empty() && subprotocol.size() <= kMaxSubprotocolSize) {
    append("Sec-WebSocket-Protocol: ");
    append(subprotocol);
    append("\r\n");
  }
  if (!extensions.empty()) {
    append("Sec-WebSocket-Extensions: ");
    append(extensions);
    append("\r\n");
  }
  append("\r\n");
  return size_t(out - start);
}

}  // namespace wshub::proto
