#include "tls/tls_failure.h"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

namespace wshub::tls {

namespace {

struct FailureInfo {
  std::string_view name;
  std::string_view sentence;
};

constexpr FailureInfo kFailures[] = {
    {"none", ""},
    {"plain_http",
     "The client sent plain HTTP to a TLS listener: connect with wss:// (or https://), or point "
     "ws:// clients at a listener without tls."},
    {"not_tls",
     "The client's first bytes are not a TLS handshake: it is not a TLS client, or something "
     "between it and wshub already terminated TLS (then use a listener without tls)."},
    {"unsupported_version",
     "The client offers only TLS 1.1 or older; wshub accepts TLS 1.2 and 1.3, so update the "
     "client or its TLS library."},
    {"no_shared_cipher",
     "The client and wshub share no cipher suite or key-exchange group; wshub offers the modern "
     "AES-GCM and ChaCha20-Poly1305 suites with X25519, P-256 and P-384."},
    {"certificate_rejected",
     "The client rejected the server certificate: serve one it trusts, with the host name it "
     "connects to in its subjectAltName (for development, trust the CA from 'wshub cert'; see "
     "docs/deploy.md)."},
    {"protocol_error", "The TLS handshake failed."},
    {"closed_in_handshake",
     "The client closed the connection during the TLS handshake, before it was sent the "
     "certificate (port scanners and TCP health checks do this)."},
    {"closed_after_certificate",
     "The client closed the connection during the TLS handshake, after it was sent the server "
     "certificate and without an alert; the usual cause is a client that does not trust the "
     "certificate (Python's asyncio, and so the websockets library, close this way): serve one "
     "it trusts, with the host name it connects to in its subjectAltName (for development, "
     "trust the CA from 'wshub cert'; see docs/deploy.md)."},
    {"handshake_timeout",
     "The TLS handshake did not finish within limits.handshake_timeout_ms."},
};
static_assert(std::size(kFailures) == size_t(TlsFailure::count_));

}  // namespace

std::string_view tls_failure_name(TlsFailure failure) {
  return kFailures[size_t(failure) < size_t(TlsFailure::count_) ? size_t(failure) : 0].name;
}

std::string_view tls_failure_sentence(TlsFailure failure) {
  return kFailures[size_t(failure) < size_t(TlsFailure::count_) ? size_t(failure) : 0].sentence;
}

TlsFailure classify_tls_error(unsigned long code) {
  if (ERR_GET_LIB(code) != ERR_LIB_SSL) return TlsFailure::protocol_error;
  switch (ERR_GET_REASON(code)) {
    case SSL_R_HTTP_REQUEST:
    case SSL_R_HTTPS_PROXY_REQUEST: return TlsFailure::plain_http;
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_UNKNOWN_PROTOCOL:
    case SSL_R_PACKET_LENGTH_TOO_LONG:
    case SSL_R_RECORD_LENGTH_MISMATCH: return TlsFailure::not_tls;
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_VERSION_TOO_LOW: return TlsFailure::unsupported_version;
    case SSL_R_NO_SHARED_CIPHER:
    case SSL_R_NO_SHARED_GROUPS:
    case SSL_R_NO_SUITABLE_KEY_SHARE:
    case SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM: return TlsFailure::no_shared_cipher;
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
    case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_TLSV1_ALERT_ACCESS_DENIED: return TlsFailure::certificate_rejected;
    default: return TlsFailure::protocol_error;
  }
}

std::string tls_error_reason(unsigned long code) {
  if (code == 0) return {};
  const char* reason = ERR_reason_error_string(code);
  if (reason) return reason;
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

std::string TlsCounters::to_json() const {
  auto load = [](const std::atomic<uint64_t>& v) { return v.load(std::memory_order_relaxed); };
  std::string failed = "{";
  for (size_t i = 1; i < size_t(TlsFailure::count_); ++i) {
    const uint64_t v = load(failures[i]);
    if (!v) continue;
    if (failed.size() > 1) failed += ',';
    failed += fmt::format("\"{}\":{}", tls_failure_name(TlsFailure(i)), v);
  }
  failed += '}';
  return fmt::format(
      "{{\"handshakes\":{},\"resumed\":{},\"tls13\":{},\"handshake_failures\":{},"
      "\"reloads\":{},\"reload_failures\":{}}}",
      load(handshakes), load(resumed), load(tls13), failed, load(reloads), load(reload_failures));
}

}  // namespace wshub::tls
