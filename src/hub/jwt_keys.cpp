#include "hub/jwt_keys.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

namespace wshub::hub {

namespace {

// Key and secret files are small; a larger file is the wrong file.
constexpr size_t kMaxKeyFileBytes = 1 << 20;
// Verifying with a larger RSA key costs more than any issuer needs.
constexpr int kMaxRsaKeyBits = 8192;

bool read_key_file(const std::string& path, std::string& out, std::string& why) {
  FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) {
    why = fmt::format("cannot open {}: {}", path, std::strerror(errno));
    return false;
  }
  out.clear();
  char chunk[4096];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof chunk, file)) > 0) {
    out.append(chunk, n);
    if (out.size() > kMaxKeyFileBytes) {
      std::fclose(file);
      OPENSSL_cleanse(out.data(), out.size());
      why = fmt::format("{} is larger than 1 MiB, which no key file is", path);
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

// Never prompt on a terminal for a passphrase: encrypted keys are refused instead.
int no_passphrase(char*, int, int, void*) { return -1; }

bool contains(std::string_view text, std::string_view what) {
  return text.find(what) != std::string_view::npos;
}

EVP_PKEY* read_public_key(std::string_view pem, std::string& why) {
  const bool certificate = contains(pem, "-----BEGIN CERTIFICATE-----");
  const bool public_key = contains(pem, "-----BEGIN PUBLIC KEY-----");
  if (!certificate && !public_key) {
    if (contains(pem, "-----BEGIN RSA PUBLIC KEY-----"))
      why = "holds a PKCS#1 'RSA PUBLIC KEY'; convert it to a SubjectPublicKeyInfo with "
            "'openssl rsa -RSAPublicKey_in -in FILE -pubout'";
    else if (contains(pem, "PRIVATE KEY-----"))
      why = "holds a private key, which the hub does not need to verify tokens; give it the "
            "public key ('openssl pkey -in FILE -pubout') or the certificate";
    else
      why = "is not PEM: expected a '-----BEGIN PUBLIC KEY-----' or "
            "'-----BEGIN CERTIFICATE-----' block";
    return nullptr;
  }
  ERR_clear_error();
  BIO* bio = BIO_new_mem_buf(pem.data(), int(pem.size()));
  EVP_PKEY* key = nullptr;
  if (certificate) {
    X509* cert = PEM_read_bio_X509(bio, nullptr, no_passphrase, nullptr);
    if (cert) key = X509_get_pubkey(cert);
    X509_free(cert);
    if (!key) why = fmt::format("holds no certificate OpenSSL can read: {}", openssl_reason());
  } else {
    key = PEM_read_bio_PUBKEY(bio, nullptr, no_passphrase, nullptr);
    if (!key) why = fmt::format("holds no public key OpenSSL can read: {}", openssl_reason());
  }
  BIO_free(bio);
  return key;
}

EVP_PKEY* read_private_key(std::string_view pem, std::string& why) {
  if (!contains(pem, "PRIVATE KEY-----")) {
    why = "holds no PEM private key: expected a '-----BEGIN PRIVATE KEY-----' block";
    return nullptr;
  }
  if (contains(pem, "ENCRYPTED")) {
    why = "holds an encrypted private key; decrypt it with 'openssl pkey -in FILE -out PLAIN' "
          "(mode 0600)";
    return nullptr;
  }
  ERR_clear_error();
  BIO* bio = BIO_new_mem_buf(pem.data(), int(pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, no_passphrase, nullptr);
  BIO_free(bio);
  if (!key) why = fmt::format("holds no private key OpenSSL can read: {}", openssl_reason());
  return key;
}

// The key's type must be the one alg names; on success, the signature size it makes.
bool check_key_type(EVP_PKEY* key, JwtAlg alg, size_t& signature_size, std::string& why) {
  if (alg == JwtAlg::rs256) {
    if (!EVP_PKEY_is_a(key, "RSA")) {
      why = fmt::format("is a {} key, not an RSA key", EVP_PKEY_get0_type_name(key));
      return false;
    }
    const int bits = EVP_PKEY_get_bits(key);
    if (bits < kMinRsaKeyBits || bits > kMaxRsaKeyBits) {
      why = fmt::format("is a {}-bit RSA key; RS256 needs {} to {} bits", bits, kMinRsaKeyBits,
                        kMaxRsaKeyBits);
      return false;
    }
    signature_size = size_t(EVP_PKEY_get_size(key));
    return true;
  }
  if (!EVP_PKEY_is_a(key, "EC")) {
    why = fmt::format("is a {} key, not an EC key", EVP_PKEY_get0_type_name(key));
    return false;
  }
  char group[64] = {};
  size_t group_size = 0;
  if (!EVP_PKEY_get_group_name(key, group, sizeof group, &group_size) ||
      std::string_view(group) != "prime256v1") {
    ERR_clear_error();
    why = fmt::format("is an EC key on curve '{}'; ES256 needs P-256 (prime256v1)", group);
    return false;
  }
  signature_size = 64;
  return true;
}

std::string describe(const JwtKeySource& source) {
  std::string text(jwt_alg_name(source.alg));
  text += " key";
  if (!source.kid.empty()) text += fmt::format(" '{}'", source.kid);
  if (!source.file.empty()) text += fmt::format(" ({})", source.file);
  return text;
}

}  // namespace

std::string_view jwt_alg_name(JwtAlg alg) {
  switch (alg) {
    case JwtAlg::hs256: return "HS256";
    case JwtAlg::rs256: return "RS256";
    case JwtAlg::es256: return "ES256";
  }
  return "?";
}

bool parse_jwt_alg(std::string_view name, JwtAlg& out) {
  for (JwtAlg alg : {JwtAlg::hs256, JwtAlg::rs256, JwtAlg::es256}) {
    if (name == jwt_alg_name(alg)) {
      out = alg;
      return true;
    }
  }
  return false;
}

JwtKey::JwtKey(JwtKey&& other) noexcept { *this = std::move(other); }

JwtKey& JwtKey::operator=(JwtKey&& other) noexcept {
  std::swap(alg_, other.alg_);
  std::swap(kid_, other.kid_);
  std::swap(secret_, other.secret_);
  std::swap(pkey_, other.pkey_);
  std::swap(signature_size_, other.signature_size_);
  std::swap(description_, other.description_);
  std::swap(id_, other.id_);
  return *this;
}

JwtKey::~JwtKey() {
  if (!secret_.empty()) OPENSSL_cleanse(secret_.data(), secret_.size());
  EVP_PKEY_free(pkey_);
}

bool load_jwt_key(const JwtKeySource& source, bool private_key, bool allow_short_secret,
                  JwtKey& out, std::string& why, std::string& warning) {
  static std::atomic<uint64_t> last_id{0};
  JwtKey key;
  key.id_ = ++last_id;
  key.alg_ = source.alg;
  key.kid_ = source.kid;
  key.description_ = describe(source);
  const auto fail = [&](std::string_view problem) {
    why = fmt::format("{}: {}", key.description_, problem);
    return false;
  };
  std::string text;
  if (!source.file.empty()) {
    if (!source.secret.empty() || !source.pem.empty())
      return fail("give the key in one place: file, secret or pem");
    std::string problem;
    if (!read_key_file(source.file, text, problem)) return fail(problem);
  } else {
    text = source.alg == JwtAlg::hs256 ? source.secret : source.pem;
  }

  if (source.alg == JwtAlg::hs256) {
    if (!source.file.empty() && text.ends_with('\n')) text.pop_back();
    if (!source.file.empty() && text.ends_with('\r')) text.pop_back();
    if (text.empty()) return fail("the secret is empty");
    if (text.size() < kMinHs256SecretBytes) {
      if (!allow_short_secret) {
        OPENSSL_cleanse(text.data(), text.size());
        return fail(fmt::format("the secret has {} bytes; HS256 needs at least {} (RFC 7518 "
                                "section 3.2); make one with 'openssl rand -base64 32', or set "
                                "allow_short_secret for development only",
                                text.size(), kMinHs256SecretBytes));
      }
      warning = fmt::format("{}: the secret has only {} bytes (fewer than {}); anyone who "
                            "guesses it can sign tokens: for development only",
                            key.description_, text.size(), kMinHs256SecretBytes);
    }
    key.secret_ = std::move(text);
    key.signature_size_ = 32;
    out = std::move(key);
    return true;
  }

  if (text.empty()) return fail("no PEM given: set file or pem");
  std::string problem;
  key.pkey_ = private_key ? read_private_key(text, problem) : read_public_key(text, problem);
  if (private_key) OPENSSL_cleanse(text.data(), text.size());
  if (!key.pkey_) return fail(problem);
  if (!check_key_type(key.pkey_, source.alg, key.signature_size_, problem)) return fail(problem);
  out = std::move(key);
  return true;
}

bool JwtKeySet::load(const std::vector<JwtKeySource>& sources, bool allow_short_secret,
                     std::string& why, std::vector<std::string>& warnings) {
  for (const JwtKeySource& source : sources) {
    JwtKey key;
    std::string warning;
    if (!load_jwt_key(source, false, allow_short_secret, key, why, warning)) return false;
    if (!warning.empty()) warnings.push_back(std::move(warning));
    if (!add(std::move(key), why)) return false;
  }
  return true;
}

bool JwtKeySet::add(JwtKey key, std::string& why) {
  if (keys_.size() >= kMaxJwtKeys) {
    why = fmt::format("{}: more than {} keys; remove the ones no issuer uses any more",
                      key.description(), kMaxJwtKeys);
    return false;
  }
  if (key.has_kid() && find_kid(key.kid())) {
    why = fmt::format("{}: another key has the kid '{}'; kids must be unique", key.description(),
                      key.kid());
    return false;
  }
  keys_.push_back(std::move(key));
  return true;
}

const JwtKey* JwtKeySet::find_kid(std::string_view kid) const {
  for (const JwtKey& key : keys_)
    if (key.has_kid() && key.kid() == kid) return &key;
  return nullptr;
}

size_t JwtKeySet::max_signature_size() const {
  size_t size = 0;
  for (const JwtKey& key : keys_) size = std::max(size, key.signature_size());
  return size;
}

}  // namespace wshub::hub
