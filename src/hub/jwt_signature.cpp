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

// Setting a key up costs more than using it: EVP_DigestVerifyInit takes about 3 µs in
// OpenSSL 3.0 (provider fetches, key export), 15% of an RS256 check, and keying HMAC costs
// 160 ns and three allocations, 14% of an HS256 check. So each thread keeps, for the last few
// keys it used, a context already set up for the key: per token, an HMAC context is re-started
// with the same key and a digest context is copied into the thread's work context.
constexpr size_t kKeyContextsPerThread = 8;

struct KeyContext {
  uint64_t key_id = 0;          // JwtKey::id(); 0: empty
  EVP_MAC_CTX* hmac = nullptr;  // HS256: keyed, SHA-256
  EVP_MD_CTX* digest = nullptr; // RS256, ES256: initialised for verifying; holds its own
                                // reference to the key
  void clear() {
    EVP_MAC_CTX_free(hmac);  // wipes the keyed state
    EVP_MD_CTX_free(digest);
    *this = {};
  }
};

struct ThreadContexts {
  EVP_MD_CTX* work = nullptr;
  KeyContext keys[kKeyContextsPerThread];
  size_t next_replaced = 0;
  ~ThreadContexts() {
    EVP_MD_CTX_free(work);
    for (KeyContext& key : keys) key.clear();
  }
};
thread_local ThreadContexts contexts;

// The HMAC implementation, fetched from the provider once per process.
EVP_MAC* hmac_method() {
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  return mac;
}

EVP_MAC_CTX* new_keyed_hmac(const JwtKey& key) {
  EVP_MAC* mac = hmac_method();
  EVP_MAC_CTX* ctx = mac ? EVP_MAC_CTX_new(mac) : nullptr;
  char digest_name[] = "SHA256";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
      OSSL_PARAM_construct_end()};
  const auto* secret = reinterpret_cast<const unsigned char*>(key.secret().data());
  if (!ctx || EVP_MAC_init(ctx, secret, key.secret().size(), params) != 1) {
    EVP_MAC_CTX_free(ctx);
    return nullptr;
  }
  return ctx;
}

EVP_MD_CTX* new_verify_digest(const JwtKey& key) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (!ctx ||
      EVP_DigestVerifyInit_ex(ctx, nullptr, "SHA256", nullptr, nullptr, key.pkey(), nullptr) != 1) {
    EVP_MD_CTX_free(ctx);
    return nullptr;
  }
  return ctx;
}

// This thread's context for `key`, set up on first use; null when OpenSSL fails.
KeyContext* thread_key_context(const JwtKey& key) {
  for (KeyContext& slot : contexts.keys)
    if (slot.key_id == key.id()) return &slot;
  KeyContext& slot = contexts.keys[contexts.next_replaced++ % kKeyContextsPerThread];
  slot.clear();
  if (key.alg() == JwtAlg::hs256) {
    if (!(slot.hmac = new_keyed_hmac(key))) return nullptr;
  } else if (!(slot.digest = new_verify_digest(key))) {
    return nullptr;
  }
  slot.key_id = key.id();
  return &slot;
}

JwtError verify_hs256(const JwtKey& key, std::string_view input, Bytes signature) {
  const KeyContext* slot = thread_key_context(key);
  uint8_t mac[kSha256Bytes];
  size_t mac_size = 0;
  // A null key re-starts the MAC with the key it already has.
  if (!slot || EVP_MAC_init(slot->hmac, nullptr, 0, nullptr) != 1 ||
      EVP_MAC_update(slot->hmac, reinterpret_cast<const unsigned char*>(input.data()),
                     input.size()) != 1 ||
      EVP_MAC_final(slot->hmac, mac, &mac_size, sizeof mac) != 1 || mac_size != kSha256Bytes) {
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
  const KeyContext* slot = thread_key_context(key);
  if (!contexts.work) contexts.work = EVP_MD_CTX_new();
  EVP_MD_CTX* ctx = contexts.work;
  if (!slot || !ctx || EVP_MD_CTX_copy_ex(ctx, slot->digest) != 1) {
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
