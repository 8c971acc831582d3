// Why a TLS handshake failed, as one named value per cause with a sentence that names the fix,
// and the per-listener counters shown at /health. Knows nothing about sockets or the server.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace wshub::tls {

enum class TlsFailure : uint8_t {
  none,
  plain_http,             // an http:// or ws:// client on the TLS port
  not_tls,                // the first bytes are not a TLS record at all
  unsupported_version,    // the client offers only TLS 1.1 or older
  no_shared_cipher,       // no cipher suite or key-exchange group in common
  certificate_rejected,   // the client sent an alert about our certificate
  protocol_error,         // any other TLS error: the OpenSSL reason is logged with it
  closed_in_handshake,    // the client closed TCP before it was sent a certificate
  closed_after_certificate,  // ... after it was sent one: usually it does not trust it
  handshake_timeout,      // limits.handshake_timeout_ms passed during the TLS handshake
  count_
};

std::string_view tls_failure_name(TlsFailure failure);
std::string_view tls_failure_sentence(TlsFailure failure);

// Maps an OpenSSL error code (ERR_get_error) seen while handshaking to a failure.
TlsFailure classify_tls_error(unsigned long code);
// The OpenSSL reason text for `code`, "" when there is none.
std::string tls_error_reason(unsigned long code);

struct TlsCounters {
  std::atomic<uint64_t> handshakes{0};  // finished handshakes, full or resumed
  std::atomic<uint64_t> resumed{0};     // of those, resumed from a session ticket
  std::atomic<uint64_t> tls13{0};       // of those, TLS 1.3
  std::atomic<uint64_t> failures[size_t(TlsFailure::count_)] = {};
  std::atomic<uint64_t> reloads{0};
  std::atomic<uint64_t> reload_failures{0};

  void count(TlsFailure f) { failures[size_t(f)].fetch_add(1, std::memory_order_relaxed); }
  // {"handshakes":N,...,"failures":{...}}: failures lists only non-zero entries.
  std::string to_json() const;
};

}  // namespace wshub::tls
