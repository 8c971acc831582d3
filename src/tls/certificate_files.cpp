#include "tls/certificate_files.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

namespace wshub::tls {

namespace {

// Certificate and key files are small; a larger file is the wrong file.
constexpr size_t kMaxPemBytes = 1 << 20;

bool read_small_file(const std::string& path, std::string& out, std::string& why) {
  FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) {
    why = fmt::format("{}: cannot open: {}", path, std::strerror(errno));
    return false;
  }
  out.clear();
  char chunk[4096];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof chunk, file)) > 0) {
    out.append(chunk, n);
    if (out.size() > kMaxPemBytes) {
      std::fclose(file);
      why = fmt::format("{}: larger than 1 MiB, which no certificate or key file is", path);
      return false;
    }
  }
  std::fclose(file);
  return true;
}

std::string openssl_reason() {
  unsigned long code = ERR_peek_last_error();
  const char* reason = code ? ERR_reason_error_string(code) : nullptr;
  ERR_clear_error();
  return reason ? reason : "unknown error";
}

// Never prompt on a terminal for a passphrase: refuse encrypted keys instead.
int no_passphrase(char*, int, int, void*) { return -1; }

std::time_t asn1_to_time(const ASN1_TIME* time) {
  std::tm tm{};
  if (!time || ASN1_TIME_to_tm(time, &tm) != 1) return 0;
  return timegm(&tm);
}

// An iPAddress subjectAltName (4 or 16 bytes, RFC 5280 §4.2.1.6) as text.
std::string ip_text(const ASN1_OCTET_STRING* bytes) {
  const int length = ASN1_STRING_length(bytes);
  const int family = length == 4 ? AF_INET : length == 16 ? AF_INET6 : 0;
  char text[INET6_ADDRSTRLEN] = {};
  if (!family || !inet_ntop(family, ASN1_STRING_get0_data(bytes), text, sizeof text))
    return "?";
  return text;
}

std::string subject_summary(X509* cert) {
  std::string out;
  char cn[256] = {};
  if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn) > 0)
    out = fmt::format("CN={}", cn);
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names) && i < 8; ++i) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
      if (name->type == GEN_DNS) {
        const ASN1_STRING* s = name->d.dNSName;
        out += fmt::format("{}DNS:{}", out.empty() ? "" : ", ",
                           std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                            size_t(ASN1_STRING_length(s))));
      } else if (name->type == GEN_IPADD) {
        out += fmt::format("{}IP:{}", out.empty() ? "" : ", ", ip_text(name->d.iPAddress));
      }
    }
    GENERAL_NAMES_free(names);
  }
  return out;
}

}  // namespace

CertificatePair::CertificatePair(CertificatePair&& other) noexcept { *this = std::move(other); }

CertificatePair& CertificatePair::operator=(CertificatePair&& other) noexcept {
  std::swap(leaf, other.leaf);
  std::swap(chain, other.chain);
  std::swap(key, other.key);
  std::swap(not_after, other.not_after);
  std::swap(summary, other.summary);
  return *this;
}

CertificatePair::~CertificatePair() {
  X509_free(leaf);
  for (X509* c : chain) X509_free(c);
  EVP_PKEY_free(key);
}

std::string format_utc(std::time_t time) {
  std::tm tm{};
  gmtime_r(&time, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return text;
}

bool load_certificate_pair(const CertificateFiles& files, std::time_t now, CertificatePair& out,
                           std::string& why) {
  CertificatePair pair;
  std::string text;
  if (!read_small_file(files.cert, text, why)) return false;
  if (text.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    why = text.find("-----BEGIN") != std::string::npos
              ? fmt::format("{}: not a certificate: the PEM file has no '-----BEGIN CERTIFICATE-----' "
                            "block (is it the key file?)", files.cert)
              : fmt::format("{}: not PEM: expected a '-----BEGIN CERTIFICATE-----' block (a DER "
                            "file converts with 'openssl x509 -inform der -in FILE -out FILE.pem')",
                            files.cert);
    return false;
  }
  ERR_clear_error();
  BIO* bio = BIO_new_mem_buf(text.data(), int(text.size()));
  pair.leaf = PEM_read_bio_X509(bio, nullptr, no_passphrase, nullptr);
  if (!pair.leaf) {
    BIO_free(bio);
    why = fmt::format("{}: the PEM certificate cannot be parsed: {}", files.cert, openssl_reason());
    return false;
  }
  while (X509* extra = PEM_read_bio_X509(bio, nullptr, no_passphrase, nullptr)) pair.chain.push_back(extra);
  BIO_free(bio);
  ERR_clear_error();  // the loop above ends on "no start line"

  const std::time_t not_before = asn1_to_time(X509_get0_notBefore(pair.leaf));
  pair.not_after = asn1_to_time(X509_get0_notAfter(pair.leaf));
  pair.summary = subject_summary(pair.leaf);
  if (pair.not_after && pair.not_after <= now) {
    why = fmt::format("{}: the certificate ({}) expired on {}; renew it", files.cert, pair.summary,
                      format_utc(pair.not_after));
    return false;
  }
  if (not_before && not_before > now) {
    why = fmt::format("{}: the certificate ({}) is not valid before {}; check the clock or the "
                      "certificate", files.cert, pair.summary, format_utc(not_before));
    return false;
  }

  if (!read_small_file(files.key, text, why)) return false;
  if (text.find("PRIVATE KEY-----") == std::string::npos) {
    why = text.find("-----BEGIN") != std::string::npos
              ? fmt::format("{}: not a private key: the PEM file has no '-----BEGIN PRIVATE KEY-----' "
                            "block (is it the certificate file?)", files.key)
              : fmt::format("{}: not PEM: expected a '-----BEGIN PRIVATE KEY-----' block", files.key);
    return false;
  }
  if (text.find("ENCRYPTED") != std::string::npos) {
    why = fmt::format("{}: the private key is encrypted; wshub reads unencrypted keys only "
                      "(decrypt with 'openssl pkey -in KEY -out KEY.plain', mode 0600)", files.key);
    return false;
  }
  bio = BIO_new_mem_buf(text.data(), int(text.size()));
  pair.key = PEM_read_bio_PrivateKey(bio, nullptr, no_passphrase, nullptr);
  BIO_free(bio);
  OPENSSL_cleanse(text.data(), text.size());
  if (!pair.key) {
    why = fmt::format("{}: the PEM private key cannot be parsed: {}", files.key, openssl_reason());
    return false;
  }
  if (X509_check_private_key(pair.leaf, pair.key) != 1) {
    ERR_clear_error();
    why = fmt::format("{}: the private key does not match the certificate in {} ({}); the two "
                      "files must come from the same issuance", files.key, files.cert, pair.summary);
    return false;
  }
  pair.summary += ", expires " + format_utc(pair.not_after);
  out = std::move(pair);
  return true;
}

bool install_certificate_pair(SSL_CTX* context, const CertificatePair& pair, std::string& why) {
  ERR_clear_error();
  bool ok = SSL_CTX_use_certificate(context, pair.leaf) == 1 &&
            SSL_CTX_use_PrivateKey(context, pair.key) == 1;
  for (X509* c : pair.chain) ok = ok && SSL_CTX_add1_chain_cert(context, c) == 1;
  if (!ok) why = fmt::format("OpenSSL refused the certificate: {}", openssl_reason());
  return ok;
}

FileSignature file_signature(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return {};
  return {uint64_t(st.st_ino), uint64_t(st.st_size),
          int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec, true};
}

}  // namespace wshub::tls
