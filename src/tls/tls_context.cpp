#include "tls/tls_context.h"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "tls/tls_session.h"

namespace wshub::tls {

void install_session_keylog(SSL_CTX* context);  // tls_session.cpp

namespace {

// Mozilla's "intermediate" TLS 1.2 list: forward secrecy and AEAD only. TLS 1.3 uses
// OpenSSL's three AEAD suites.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr const char* kTls13Suites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
constexpr const char* kGroups = "X25519:P-256:P-384";
constexpr unsigned char kSessionIdContext[] = "wshub";

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// ALPN: WebSocket over TLS is HTTP/1.1. A client that offers only other protocols gets no ALPN
// answer rather than a failed handshake; its request then tells the rest.
int select_alpn(SSL*, const unsigned char** out, unsigned char* out_size, const unsigned char* in,
                unsigned int in_size, void*) {
  static const unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, out_size, kHttp11, sizeof kHttp11, in, in_size) ==
      OPENSSL_NPN_NEGOTIATED) {
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

// SNI: switch to the certificate registered for the name; unknown names get the default.
// `arg` is the CertificateSet, kept alive by the session for the whole handshake.
int select_certificate(SSL* ssl, int*, void* arg) {
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (!name) return SSL_TLSEXT_ERR_NOACK;
  if (SSL_CTX* match = static_cast<const CertificateSet*>(arg)->find(name)) SSL_set_SSL_CTX(ssl, match);
  return SSL_TLSEXT_ERR_OK;
}

SSL_CTX* new_server_context(const std::array<unsigned char, 80>& ticket_keys, std::string& why) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) {
    why = "OpenSSL could not create a context (out of memory?)";
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                               SSL_OP_PRIORITIZE_CHACHA | SSL_OP_NO_COMPRESSION);
  // Idle connections hold no record buffers: they are allocated per read or write.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  bool ok = SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) == 1 &&
            SSL_CTX_set_ciphersuites(ctx, kTls13Suites) == 1 &&
            SSL_CTX_set1_groups_list(ctx, kGroups) == 1;
  // Resumption through stateless tickets only: no server-side session cache, whose entries
  // would cost memory per connection. One ticket per handshake is what browsers use.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(ctx, 1);
  ok = ok && SSL_CTX_set_session_id_context(ctx, kSessionIdContext, sizeof kSessionIdContext - 1) == 1;
  ok = ok && SSL_CTX_set_tlsext_ticket_keys(ctx, const_cast<unsigned char*>(ticket_keys.data()),
                                             long(ticket_keys.size())) == 1;
  SSL_CTX_set_alpn_select_cb(ctx, select_alpn, nullptr);
  // The TLS 1.3 application secrets, so an established session can drop its SSL object.
  install_session_keylog(ctx);
  if (!ok) {
    unsigned long code = ERR_get_error();
    ERR_clear_error();
    why = fmt::format("OpenSSL refused the TLS policy: {}", tls_error_reason(code));
    SSL_CTX_free(ctx);
    return nullptr;
  }
  return ctx;
}

}  // namespace

CertificateSet::~CertificateSet() {
  SSL_CTX_free(default_context);
  for (auto& [host, ctx] : by_host) SSL_CTX_free(ctx);
}

SSL_CTX* CertificateSet::find(std::string_view host) const {
  if (by_host.empty() || host.empty() || host.size() > 253) return nullptr;
  char name[254];
  for (size_t i = 0; i < host.size(); ++i) name[i] = char(std::tolower(static_cast<unsigned char>(host[i])));
  const std::string_view wanted(name, host.size());
  for (const auto& [pattern, ctx] : by_host) {
    if (pattern == wanted) return ctx;
    if (pattern.size() > 2 && pattern[0] == '*' && pattern[1] == '.') {
      const size_t dot = wanted.find('.');
      if (dot != std::string_view::npos && dot > 0 && wanted.substr(dot) == std::string_view(pattern).substr(1))
        return ctx;
    }
  }
  return nullptr;
}

TlsContext::TlsContext(TlsConfig config, std::string name)
    : config_(std::move(config)), name_(std::move(name)) {
  if (RAND_bytes(ticket_keys_.data(), int(ticket_keys_.size())) != 1)
    throw std::runtime_error("TLS: no random bytes for session ticket keys");
  std::string why;
  loaded_signatures_ = signatures();
  observed_signatures_ = loaded_signatures_;
  std::unique_ptr<CertificateSet> set = build(why);
  if (!set) throw std::runtime_error(fmt::format("TLS listener {}: {}", name_, why));
  current_ = std::move(set);
}

TlsContext::~TlsContext() { OPENSSL_cleanse(ticket_keys_.data(), ticket_keys_.size()); }

std::unique_ptr<CertificateSet> TlsContext::build(std::string& why) const {
  auto set = std::make_unique<CertificateSet>();
  const std::time_t now = std::time(nullptr);
  auto make = [&](const CertificateFiles& files) -> SSL_CTX* {
    CertificatePair pair;
    if (!load_certificate_pair(files, now, pair, why)) return nullptr;
    SSL_CTX* ctx = new_server_context(ticket_keys_, why);
    if (!ctx) return nullptr;
    if (!install_certificate_pair(ctx, pair, why)) {
      why = fmt::format("{}: {}", files.cert, why);
      SSL_CTX_free(ctx);
      return nullptr;
    }
    set->summaries.push_back(fmt::format("{} ({})", files.cert, pair.summary));
    if (!set->earliest_expiry || pair.not_after < set->earliest_expiry) set->earliest_expiry = pair.not_after;
    return ctx;
  };
  set->default_context = make(config_.files);
  if (!set->default_context) return nullptr;
  for (const SniCertificate& entry : config_.sni) {
    SSL_CTX* ctx = make(entry.files);
    if (!ctx) return nullptr;
    set->by_host.emplace_back(lower(entry.host), ctx);
  }
  if (!set->by_host.empty()) {
    SSL_CTX_set_tlsext_servername_callback(set->default_context, select_certificate);
    SSL_CTX_set_tlsext_servername_arg(set->default_context, set.get());
  }
  return set;
}

std::vector<FileSignature> TlsContext::signatures() const {
  std::vector<FileSignature> out;
  out.push_back(file_signature(config_.files.cert));
  out.push_back(file_signature(config_.files.key));
  for (const SniCertificate& entry : config_.sni) {
    out.push_back(file_signature(entry.files.cert));
    out.push_back(file_signature(entry.files.key));
  }
  return out;
}

bool TlsContext::reload(std::string& why) {
  std::vector<FileSignature> seen = signatures();
  std::unique_ptr<CertificateSet> set = build(why);
  std::lock_guard lock(mutex_);
  loaded_signatures_ = seen;
  observed_signatures_ = std::move(seen);
  if (!set) {
    counters_.reload_failures.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  current_ = std::move(set);
  counters_.reloads.fetch_add(1, std::memory_order_relaxed);
  return true;
}

bool TlsContext::files_settled_after_change() {
  std::vector<FileSignature> now = signatures();
  std::lock_guard lock(mutex_);
  const bool settled = now == observed_signatures_;
  observed_signatures_ = now;
  return settled && now != loaded_signatures_;
}

std::shared_ptr<const CertificateSet> TlsContext::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

std::vector<std::string> TlsContext::summaries() const { return current()->summaries; }

}  // namespace wshub::tls
