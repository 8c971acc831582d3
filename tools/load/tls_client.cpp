#include "tls_client.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace wshub::load {

namespace {

std::string last_openssl_error() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

bool is_ip_literal(const std::string& host) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, host.c_str(), buffer) == 1 || inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

}  // namespace

TlsClientContext::~TlsClientContext() {
  if (context_) SSL_CTX_free(context_);
}

bool TlsClientContext::init(const TlsOptions& options, std::string& why) {
  context_ = SSL_CTX_new(TLS_client_method());
  if (!context_) {
    why = "SSL_CTX_new: " + last_openssl_error();
    return false;
  }
  SSL_CTX_set_min_proto_version(context_, TLS1_2_VERSION);
  // Writes come from a per-connection buffer that may be compacted between retries.
  SSL_CTX_set_mode(context_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                 SSL_MODE_RELEASE_BUFFERS);
  // Every connect-mode handshake must be a full one: no session tickets, no resumption.
  SSL_CTX_set_session_cache_mode(context_, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(context_, SSL_OP_NO_TICKET);
  verify_ = !options.insecure;
  if (verify_) {
    SSL_CTX_set_verify(context_, SSL_VERIFY_PEER, nullptr);
    const bool loaded = options.ca_file.empty()
                            ? SSL_CTX_set_default_verify_paths(context_) == 1
                            : SSL_CTX_load_verify_locations(context_, options.ca_file.c_str(), nullptr) == 1;
    if (!loaded) {
      why = (options.ca_file.empty() ? std::string("loading the system CA store")
                                     : "--ca " + options.ca_file) +
            ": " + last_openssl_error();
      return false;
    }
  } else {
    SSL_CTX_set_verify(context_, SSL_VERIFY_NONE, nullptr);
  }
  return true;
}

SSL* tls_new_session(const TlsClientContext& context, int fd, const std::string& server_name,
                     std::string& why) {
  SSL* ssl = SSL_new(context.get());
  if (!ssl) {
    why = "SSL_new: " + last_openssl_error();
    return nullptr;
  }
  SSL_set_fd(ssl, fd);
  SSL_set_connect_state(ssl);
  const bool literal = is_ip_literal(server_name);
  if (!literal) SSL_set_tlsext_host_name(ssl, server_name.c_str());
  if (context.verifies()) {
    const int ok = literal ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), server_name.c_str())
                           : SSL_set1_host(ssl, server_name.c_str());
    if (ok != 1) {
      why = "cannot set the name to verify: " + last_openssl_error();
      SSL_free(ssl);
      return nullptr;
    }
  }
  return ssl;
}

TlsStep tls_handshake_step(SSL* ssl, std::string& why) {
  const int rc = SSL_do_handshake(ssl);
  if (rc == 1) return TlsStep::done;
  switch (SSL_get_error(ssl, rc)) {
    case SSL_ERROR_WANT_READ: return TlsStep::want_read;
    case SSL_ERROR_WANT_WRITE: return TlsStep::want_write;
    default: break;
  }
  const long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK) {
    why = std::string("TLS certificate rejected: ") + X509_verify_cert_error_string(verify) +
          " (use --ca FILE for a private CA, or --insecure to skip verification)";
  } else {
    why = "TLS handshake failed: " + last_openssl_error();
  }
  ERR_clear_error();
  return TlsStep::failed;
}

TlsIo tls_read(SSL* ssl, uint8_t* data, size_t size, size_t& done) {
  const int rc = SSL_read_ex(ssl, data, size, &done) ;
  if (rc == 1) return TlsIo::ok;
  switch (SSL_get_error(ssl, rc)) {
    case SSL_ERROR_WANT_READ: return TlsIo::want_read;
    case SSL_ERROR_WANT_WRITE: return TlsIo::want_write;
    case SSL_ERROR_ZERO_RETURN: return TlsIo::closed;
    default: ERR_clear_error(); return TlsIo::failed;
  }
}

TlsIo tls_write(SSL* ssl, const uint8_t* data, size_t size, size_t& done) {
  const int rc = SSL_write_ex(ssl, data, size, &done);
  if (rc == 1) return TlsIo::ok;
  switch (SSL_get_error(ssl, rc)) {
    case SSL_ERROR_WANT_READ: return TlsIo::want_read;
    case SSL_ERROR_WANT_WRITE: return TlsIo::want_write;
    case SSL_ERROR_ZERO_RETURN: return TlsIo::closed;
    default: ERR_clear_error(); return TlsIo::failed;
  }
}

void tls_free_session(SSL* ssl) {
  if (ssl) SSL_free(ssl);
}

}  // namespace wshub::load
