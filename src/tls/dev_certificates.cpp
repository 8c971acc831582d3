#include "tls/dev_certificates.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <memory>

#include "net/peer_address.h"

namespace wshub::tls {

namespace {

struct Free {
  void operator()(X509* p) const { X509_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
};
template <typename T>
using Owned = std::unique_ptr<T, Free>;

std::string openssl_error() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  const char* reason = code ? ERR_reason_error_string(code) : nullptr;
  return reason ? reason : "unknown OpenSSL error";
}

EVP_PKEY* make_key(DevKeyType type) {
  return type == DevKeyType::rsa_2048 ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
}

bool valid_dns_name(const std::string& host) {
  if (host.empty() || host.size() > 253) return false;
  for (char c : host)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '*')) return false;
  return true;
}

bool add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) return false;
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

X509* new_certificate(EVP_PKEY* key, const std::string& common_name, int valid_days) {
  X509* cert = X509_new();
  if (!cert) return nullptr;
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7F;  // a positive serial number
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  bool ok = bn && X509_set_version(cert, 2) == 1 &&
            BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != nullptr;
  BN_free(bn);
  // Valid from an hour ago, so a client whose clock is a little behind accepts it.
  ok = ok && X509_gmtime_adj(X509_getm_notBefore(cert), -3600) &&
       X509_gmtime_adj(X509_getm_notAfter(cert), long(valid_days) * 86400) &&
       X509_set_pubkey(cert, key) == 1;
  X509_NAME* name = X509_get_subject_name(cert);
  ok = ok && X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                         reinterpret_cast<const unsigned char*>("wshub development"),
                                         -1, -1, 0) == 1 &&
       X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                  reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                  -1, 0) == 1;
  if (!ok) {
    X509_free(cert);
    return nullptr;
  }
  return cert;
}

bool to_pem(X509* cert, std::string& out) {
  Owned<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return false;
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  out.assign(data, size_t(size));
  return true;
}

bool write_file(const std::string& path, const std::string& text, mode_t mode, std::string& why) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0 || ::fchmod(fd, mode) != 0) {
    why = fmt::format("{}: cannot write: {}", path, std::strerror(errno));
    if (fd >= 0) ::close(fd);
    return false;
  }
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      why = fmt::format("{}: cannot write: {}", path, std::strerror(errno));
      ::close(fd);
      return false;
    }
    done += size_t(n);
  }
  ::close(fd);
  return true;
}

}  // namespace

bool make_dev_certificates(const std::vector<std::string>& hosts, DevKeyType key_type,
                           int valid_days, DevCertificates& out, std::string& why) {
  if (hosts.empty()) {
    why = "at least one --host is needed";
    return false;
  }
  std::string alt_names;
  for (const std::string& host : hosts) {
    std::string literal = host;
    if (literal.size() > 2 && literal.front() == '[' && literal.back() == ']')
      literal = literal.substr(1, literal.size() - 2);
    net::IpAddress ip;
    if (net::IpAddress::parse(literal, ip)) {
      alt_names += fmt::format("{}IP:{}", alt_names.empty() ? "" : ",", literal);
    } else if (valid_dns_name(host)) {
      alt_names += fmt::format("{}DNS:{}", alt_names.empty() ? "" : ",", host);
    } else {
      why = fmt::format("'{}' is neither a DNS name nor an IP address", host);
      return false;
    }
  }
  ERR_clear_error();
  Owned<EVP_PKEY> ca_key(make_key(DevKeyType::ecdsa_p256));
  Owned<EVP_PKEY> key(make_key(key_type));
  if (!ca_key || !key) {
    why = "key generation failed: " + openssl_error();
    return false;
  }
  // The CA lives as long as the certificate it signs; its key is discarded after signing.
  Owned<X509> ca(new_certificate(ca_key.get(), fmt::format("wshub development CA for {}", hosts[0]),
                                 valid_days));
  Owned<X509> cert(new_certificate(key.get(), hosts[0], valid_days));
  bool ok = ca && cert && X509_set_issuer_name(ca.get(), X509_get_subject_name(ca.get())) == 1 &&
            add_extension(ca.get(), ca.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0") &&
            add_extension(ca.get(), ca.get(), NID_key_usage, "critical,keyCertSign,cRLSign") &&
            add_extension(ca.get(), ca.get(), NID_subject_key_identifier, "hash") &&
            X509_sign(ca.get(), ca_key.get(), EVP_sha256()) > 0;
  const char* usage = key_type == DevKeyType::rsa_2048 ? "critical,digitalSignature,keyEncipherment"
                                                       : "critical,digitalSignature";
  ok = ok && X509_set_issuer_name(cert.get(), X509_get_subject_name(ca.get())) == 1 &&
       add_extension(cert.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE") &&
       add_extension(cert.get(), ca.get(), NID_key_usage, usage) &&
       add_extension(cert.get(), ca.get(), NID_ext_key_usage, "serverAuth") &&
       add_extension(cert.get(), ca.get(), NID_subject_alt_name, alt_names) &&
       add_extension(cert.get(), ca.get(), NID_subject_key_identifier, "hash") &&
       add_extension(cert.get(), ca.get(), NID_authority_key_identifier, "keyid:always") &&
       X509_sign(cert.get(), ca_key.get(), EVP_sha256()) > 0;
  if (!ok) {
    why = "certificate creation failed: " + openssl_error();
    return false;
  }
  Owned<BIO> bio(BIO_new(BIO_s_mem()));
  if (!to_pem(ca.get(), out.ca_pem) || !to_pem(cert.get(), out.cert_pem) || !bio ||
      PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    why = "PEM encoding failed: " + openssl_error();
    return false;
  }
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  out.key_pem.assign(data, size_t(size));
  return true;
}

bool write_dev_certificates(const DevCertificates& certificates, const std::string& directory,
                            std::string& why) {
  if (::mkdir(directory.c_str(), 0755) != 0 && errno != EEXIST) {
    why = fmt::format("{}: cannot create: {}", directory, std::strerror(errno));
    return false;
  }
  return write_file(directory + "/ca.pem", certificates.ca_pem, 0644, why) &&
         write_file(directory + "/cert.pem", certificates.cert_pem, 0644, why) &&
         write_file(directory + "/key.pem", certificates.key_pem, 0600, why);
}

}  // namespace wshub::tls
