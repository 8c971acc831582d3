// Shared by the TLS unit tests: development certificates in a temporary directory, and an
// OpenSSL client that talks to a TlsSession through memory BIOs (no sockets).
#pragma once

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "net/stream.h"
#include "tls/dev_certificates.h"

namespace wshub::tls::testing {

struct TempDir {
  std::string path;
  TempDir() {
    char name[] = "/tmp/wshub-tls-test-XXXXXX";
    path = mkdtemp(name);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string file(const std::string& name) const { return path + "/" + name; }
};

inline DevCertificates make_certs(std::vector<std::string> hosts,
                                  DevKeyType type = DevKeyType::ecdsa_p256, int days = 30) {
  DevCertificates out;
  std::string why;
  if (!make_dev_certificates(hosts, type, days, out, why)) throw std::runtime_error(why);
  return out;
}

inline std::string write_certs(const TempDir& dir, const std::string& sub, const DevCertificates& c) {
  std::string why;
  const std::string where = dir.file(sub);
  if (!write_dev_certificates(c, where, why)) throw std::runtime_error(why);
  return where;
}

// What the session hands the reactor.
struct RecordingOutput final : net::FilterOutput {
  std::string plain;       // application bytes for the server
  std::string to_client;   // ciphertext for the socket
  bool plaintext(MutableBytes bytes) override {
    plain.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    return true;
  }
  void ciphertext(Bytes bytes) override {
    to_client.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }
};

// An OpenSSL client on memory BIOs.
struct MemoryClient {
  SSL_CTX* ctx = nullptr;
  SSL* ssl = nullptr;
  BIO* in = nullptr;   // bytes from the server
  BIO* out = nullptr;  // bytes to the server

  explicit MemoryClient(const std::string& ca_file, const std::string& sni = "",
                        int max_version = TLS1_3_VERSION) {
    ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_max_proto_version(ctx, max_version);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    if (!ca_file.empty()) {
      SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr);
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    }
    static const unsigned char alpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    SSL_CTX_set_alpn_protos(ctx, alpn, sizeof alpn);
    ssl = SSL_new(ctx);
    in = BIO_new(BIO_s_mem());
    out = BIO_new(BIO_s_mem());
    SSL_set_bio(ssl, in, out);
    if (!sni.empty()) {
      SSL_set_tlsext_host_name(ssl, sni.c_str());
      SSL_set1_host(ssl, sni.c_str());
    }
    SSL_set_connect_state(ssl);
  }
  ~MemoryClient() {
    SSL_free(ssl);
    SSL_CTX_free(ctx);
  }
  std::string take_output() {
    std::string bytes;
    char buffer[16384];
    int n;
    while ((n = BIO_read(out, buffer, sizeof buffer)) > 0) bytes.append(buffer, size_t(n));
    return bytes;
  }
  void give_input(const std::string& bytes) {
    if (!bytes.empty()) BIO_write(in, bytes.data(), int(bytes.size()));
  }
  std::string read_all() {
    std::string text;
    char buffer[65536];
    size_t n = 0;
    while (SSL_read_ex(ssl, buffer, sizeof buffer, &n) == 1) text.append(buffer, n);
    ERR_clear_error();
    return text;
  }
  bool write(const std::string& text) {
    size_t n = 0;
    return SSL_write_ex(ssl, text.data(), text.size(), &n) == 1;
  }
};

// The subject CN of the certificate the client was given.
inline std::string peer_common_name(SSL* ssl) {
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (!cert) return "";
  char cn[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
  X509_free(cert);
  return cn;
}

}  // namespace wshub::tls::testing
