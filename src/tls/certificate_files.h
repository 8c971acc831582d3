// Reads a certificate chain and its private key from PEM files and checks them before they are
// used: parseable, currently valid, and a matching pair. Every refusal names the file and the
// problem. Also the file signatures (inode, size, mtime) that tell when the files changed.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <vector>

#include "tls/tls_config.h"

typedef struct x509_st X509;
typedef struct evp_pkey_st EVP_PKEY;
typedef struct ssl_ctx_st SSL_CTX;

namespace wshub::tls {

// A loaded pair. Owns its references; movable, not copyable.
struct CertificatePair {
  X509* leaf = nullptr;
  std::vector<X509*> chain;  // intermediates after the leaf, in file order
  EVP_PKEY* key = nullptr;
  std::time_t not_after = 0;
  std::string summary;  // "CN=..., DNS:a, DNS:b, expires 2027-01-01" for logs

  CertificatePair() = default;
  CertificatePair(CertificatePair&& other) noexcept;
  CertificatePair& operator=(CertificatePair&& other) noexcept;
  CertificatePair(const CertificatePair&) = delete;
  CertificatePair& operator=(const CertificatePair&) = delete;
  ~CertificatePair();
};

// Loads and checks `files`. On failure returns false and `why` reads "FILE: problem".
// `now` is the time the validity period is checked against.
bool load_certificate_pair(const CertificateFiles& files, std::time_t now, CertificatePair& out,
                           std::string& why);

// Installs the pair into `context` (certificate, chain, key). False with `why` on failure.
bool install_certificate_pair(SSL_CTX* context, const CertificatePair& pair, std::string& why);

// What identifies a file's content without reading it; equal signatures mean "unchanged".
struct FileSignature {
  uint64_t inode = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  bool exists = false;
  bool operator==(const FileSignature&) const = default;
};
FileSignature file_signature(const std::string& path);

// "2027-03-01 12:00:00 UTC"
std::string format_utc(std::time_t time);

}  // namespace wshub::tls
