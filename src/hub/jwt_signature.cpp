#include "hub/jwt_signature.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <fmt/format.h>

namespace wshub::hub {

namespace {

constexpr size_t kSha256Bytes = 32;
constexpr size_t kEs256HalfBytes = 32;
// DER of two INTEGERs of up to 33 bytes each in a SEQUENCE: 2 + 2 * (2 + 33).
constexpr size_t kMaxEs256DerBytes = 72;

// The HMAC implementation is fetched from the provider once per process; each thread keeps
// one context, set to SHA-256 once, and re-keys it per token (which costs two hash blocks).
EVP_MAC* hmac_method() {
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  return mac;
}

// EVP_DigestVerifyInit costs about 3 µs in OpenSSL 3.0 (provider fetches, key export), 15%
// of an RS256 check. So each thread keeps, for the last few keys it verified with, a digest
// context initialised for that key, and copies it into its work context per token.
constexpr size_t kKeyContextsPerThread = 8;

struct KeyContext {
  uint64_t key_id = 0;
  EVP_MD_CTX* ctx = nullptr;  // holds its own reference to the key
};

struct ThreadContexts {
  EVP_MAC_CTX* hmac = nullptr;
  EVP_MD_CTX* work = nullptr;
  KeyContext keys[kKeyContextsPerThread];
  size_t next_replaced = 0;
  ~ThreadContexts() {
    EVP_MAC_CTX_free(hmac);
    EVP_MD_CTX_free(work);
    for (KeyContext& key : keys) EVP_MD_CTX_free(key.ctx);
  }
};
thread_local ThreadContexts contexts;

EVP_MAC_CTX* thread_hmac() {
  if (contexts.hmac) return contexts.hmac;
  EVP_MAC* mac = hmac_method();
  if (!mac) return nullptr;
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  if (!ctx) return nullptr;
  char digest_name[] = "SHA256";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
      OSSL_PARAM_construct_end()};
  if (EVP_MAC_CTX_set_params(ctx, params) != 1) {
    EVP_MAC_CTX_free(ctx);
    return nullptr;
  }
  contexts.hmac = ctx;
  return ctx;
}

// A work context ready for EVP_DigestVerify with `key`, or null when OpenSSL fails.
EVP_MD_CTX* thread_verify_context(const JwtKey& key) {
  if (!contexts.work && !(contexts.work = EVP_MD_CTX_new())) return nullptr;
  KeyContext* slot = nullptr;
  for (KeyContext& candidate : contexts.keys)
    if (candidate.key_id == key.id()) slot = &candidate;
  if (!slot) {
    slot = &contexts.keys[contexts.next_replaced++ % kKeyContextsPerThread];
    EVP_MD_CTX_free(slot->ctx);
    slot->key_id = 0;
    slot->ctx = EVP_MD_CTX_new();
    if (!slot->ctx || EVP_DigestVerifyInit_ex(slot->ctx, nullptr, "SHA256", nullptr, nullptr,
                                              key.pkey(), nullptr) != 1)
      return nullptr;
    slot->key_id = key.id();
  }
  return EVP_MD_CTX_copy_ex(contexts.work, slot->ctx) == 1 ? contexts.work : nullptr;
}

JwtError verify_hs256(const JwtKey& key, std::string_view input, Bytes signature) {
  EVP_MAC_CTX* ctx = thread_hmac();
  uint8_t mac[kSha256Bytes];
  size_t mac_size = 0;
  const auto* secret = reinterpret_cast<const unsigned char*>(key.secret().data());
  if (!ctx || EVP_MAC_init(ctx, secret, key.secret().size(), nullptr) != 1 ||
      EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1 ||
      EVP_MAC_final(ctx, mac, &mac_size, sizeof mac) != 1 || mac_size != kSha256Bytes) {
    ERR_clear_error();
    return JwtError::internal;
  }
  // Constant time, so the time taken reveals nothing about how many bytes matched.
  const bool equal = CRYPTO_memcmp(mac, signature.data(), kSha256Bytes) == 0;
  OPENSSL_cleanse(mac, sizeof mac);
  return equal ? JwtError::none : JwtError::bad_signature;
}

// RFC 7518 §3.4: ES256 puts R and S on the wire as two 32-byte big-endian integers; OpenSSL
// verifies the DER ECDSA-Sig-Value. False only when OpenSSL cannot allocate.
bool es256_raw_to_der(Bytes raw, uint8_t* der, size_t& der_size) {
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(raw.data(), int(kEs256HalfBytes), nullptr);
  BIGNUM* s = BN_bin2bn(raw.data() + kEs256HalfBytes, int(kEs256HalfBytes), nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig, r, s) != 1) {
    ECDSA_SIG_free(sig);
    BN_free(r);
    BN_free(s);
    return false;
  }
  const int size = i2d_ECDSA_SIG(sig, nullptr);
  bool ok = size > 0 && size_t(size) <= kMaxEs256DerBytes;
  if (ok) {
    uint8_t* out = der;
    der_size = size_t(i2d_ECDSA_SIG(sig, &out));
    ok = der_size == size_t(size);
  }
  ECDSA_SIG_free(sig);
  return ok;
}

JwtError verify_digest_signature(const JwtKey& key, std::string_view input, Bytes signature) {
  uint8_t der[kMaxEs256DerBytes];
  if (key.alg() == JwtAlg::es256) {
    size_t der_size = 0;
    if (!es256_raw_to_der(signature, der, der_size)) {
      ERR_clear_error();
      return JwtError::internal;
    }
    signature = {der, der_size};
  }
  EVP_MD_CTX* ctx = thread_verify_context(key);
  if (!ctx) {
    ERR_clear_error();
    return JwtError::internal;
  }
  const int verdict = EVP_DigestVerify(ctx, signature.data(), signature.size(),
                                       reinterpret_cast<const unsigned char*>(input.data()),
                                       input.size());
  if (verdict == 1) return JwtError::none;
  ERR_clear_error();
  return JwtError::bad_signature;
}

std::string openssl_reason() {
  unsigned long code = ERR_peek_last_error();
  const char* reason = code ? ERR_reason_error_string(code) : nullptr;
  ERR_clear_error();
  return reason ? reason : "unknown error";
}

}  // namespace

JwtError verify_jwt_signature(const JwtKey& key, std::string_view signing_input, Bytes signature) {
  if (signature.size() != key.signature_size()) return JwtError::bad_signature_length;
  if (key.alg() == JwtAlg::hs256) return verify_hs256(key, signing_input, signature);
  return verify_digest_signature(key, signing_input, signature);
}

bool sign_jwt(const JwtKey& key, std::string_view signing_input, std::string& signature,
              std::string& why) {
  const auto* input = reinterpret_cast<const unsigned char*>(signing_input.data());
  if (key.alg() == JwtAlg::hs256) {
    signature.resize(kSha256Bytes);
    size_t size = 0;
    if (!EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.secret().data(),
                   key.secret().size(), input, signing_input.size(),
                   reinterpret_cast<unsigned char*>(signature.data()), kSha256Bytes, &size) ||
        size != kSha256Bytes) {
      why = fmt::format("HMAC-SHA256 failed: {}", openssl_reason());
      return false;
    }
    return true;
  }
  if (!key.pkey()) {
    why = fmt::format("{} has no private key", key.description());
    return false;
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t size = 0;
  bool ok = ctx &&
            EVP_DigestSignInit_ex(ctx, nullptr, "SHA256", nullptr, nullptr, key.pkey(), nullptr) == 1 &&
            EVP_DigestSign(ctx, nullptr, &size, input, signing_input.size()) == 1;
  std::string der(size, '\0');
  ok = ok && EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(der.data()), &size, input,
                            signing_input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) {
    why = fmt::format("{}: signing failed: {}", key.description(), openssl_reason());
    return false;
  }
  der.resize(size);
  if (key.alg() == JwtAlg::rs256) {
    signature = std::move(der);
    return true;
  }
  // ES256: OpenSSL signs in DER; the wire wants R||S, each left-padded to 32 bytes.
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, long(der.size()));
  signature.assign(2 * kEs256HalfBytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(signature.data());
  ok = sig && BN_bn2binpad(ECDSA_SIG_get0_r(sig), out, int(kEs256HalfBytes)) == int(kEs256HalfBytes) &&
       BN_bn2binpad(ECDSA_SIG_get0_s(sig), out + kEs256HalfBytes, int(kEs256HalfBytes)) ==
           int(kEs256HalfBytes);
  ECDSA_SIG_free(sig);
  if (!ok) why = fmt::format("{}: the ECDSA signature does not convert to R||S", key.description());
  return ok;
}

}  // namespace wshub::hub
