// The OpenSSL server side of one wss listener: the default certificate and the SNI ones,
// protocol and cipher policy, ALPN, session tickets, and reload. Hands out one TlsSession per
// accepted connection. Knows nothing about sockets, HTTP or the server's connections.
#pragma once

#include <array>
#include <cstdint>
#include <ctime>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "tls/certificate_files.h"
#include "tls/tls_config.h"
#include "tls/tls_failure.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace wshub::tls {

class TlsSession;

// One generation of loaded certificates: immutable once built, shared by the handshakes that
// started while it was current.
struct CertificateSet {
  SSL_CTX* default_context = nullptr;
  std::vector<std::pair<std::string, SSL_CTX*>> by_host;  // lower-case host or "*.suffix"
  std::vector<std::string> summaries;                     // for the log, default first
  std::time_t earliest_expiry = 0;

  CertificateSet() = default;
  CertificateSet(const CertificateSet&) = delete;
  CertificateSet& operator=(const CertificateSet&) = delete;
  ~CertificateSet();
  // The context for an SNI name, or null for the default.
  SSL_CTX* find(std::string_view host) const;
};

class TlsContext {
 public:
  // Loads every certificate of `config`. Throws std::runtime_error with "FILE: problem" when
  // one cannot be used. `name` identifies the listener in log lines.
  TlsContext(TlsConfig config, std::string name);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // Loads the files again. On success new handshakes use them and existing connections keep
  // the certificates they started with. On failure nothing changes and `why` says what is
  // wrong ("FILE: problem"). Any thread.
  bool reload(std::string& why);
  // True when a certificate or key file changed since the last load or reload attempt and has
  // not changed since the previous call (so a half-written pair is not picked up). Any thread.
  bool files_settled_after_change();

  // A session for a new connection, or null when OpenSSL cannot allocate one.
  TlsSession* new_session();

  const std::string& name() const { return name_; }
  const TlsConfig& config() const { return config_; }
  TlsCounters& counters() { return counters_; }
  const TlsCounters& counters() const { return counters_; }
  // "cert.pem (CN=..., expires ...)" for each certificate in use.
  std::vector<std::string> summaries() const;

 private:
  std::shared_ptr<const CertificateSet> current() const;
  std::unique_ptr<CertificateSet> build(std::string& why) const;
  std::vector<FileSignature> signatures() const;

  friend class TlsSession;

  const TlsConfig config_;
  const std::string name_;
  // Session ticket keys (name, HMAC, AES) shared by every SSL_CTX this listener builds, so a
  // ticket issued before a reload still resumes after it.
  std::array<unsigned char, 80> ticket_keys_{};
  mutable std::mutex mutex_;
  std::shared_ptr<const CertificateSet> current_;
  std::vector<FileSignature> loaded_signatures_;   // as of the last load attempt
  std::vector<FileSignature> observed_signatures_;  // as of the last files_settled_after_change
  TlsCounters counters_;
};

}  // namespace wshub::tls
