// The keys connect tokens are checked and minted with: HS256 secrets and RS256/ES256 keys from
// PEM, each bound to the one algorithm it may be used for. Start-up code (files, OpenSSL key
// parsing); knows nothing about claims, sessions or the config file's syntax.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

typedef struct evp_pkey_st EVP_PKEY;

namespace wshub::hub {

enum class JwtAlg : uint8_t { hs256, rs256, es256 };

std::string_view jwt_alg_name(JwtAlg alg);  // "HS256", "RS256", "ES256"
// Exact, case-sensitive names as RFC 7518 §3.1 spells them. False for anything else.
bool parse_jwt_alg(std::string_view name, JwtAlg& out);

// RFC 7518 §3.2: an HS256 key must be at least as long as the hash output.
inline constexpr size_t kMinHs256SecretBytes = 32;
// RFC 7518 §3.3: RSA keys of 2048 bits or more.
inline constexpr int kMinRsaKeyBits = 2048;
// More keys than this is a configuration mistake; it also bounds the keys one token without a
// kid is tried against.
inline constexpr size_t kMaxJwtKeys = 16;

// One key as the config names it. HS256 takes `secret` or a `file` holding the secret (its
// bytes, with one trailing newline removed); RS256 and ES256 take a PEM `file` (a certificate
// or a public key for verifying, a private key for minting) or the PEM text in `pem`.
struct JwtKeySource {
  JwtAlg alg = JwtAlg::hs256;
  std::string kid;     // empty: the key has no kid
  std::string secret;  // HS256 only
  std::string file;
  std::string pem;
};

// A key ready to use. Immutable once loaded, so any thread may use it at once.
// Owns its OpenSSL key and wipes its secret when destroyed; movable, not copyable.
class JwtKey {
 public:
  JwtKey() = default;
  JwtKey(JwtKey&& other) noexcept;
  JwtKey& operator=(JwtKey&& other) noexcept;
  JwtKey(const JwtKey&) = delete;
  JwtKey& operator=(const JwtKey&) = delete;
  ~JwtKey();

  JwtAlg alg() const { return alg_; }
  std::string_view kid() const { return kid_; }
  bool has_kid() const { return !kid_.empty(); }
  // The secret of an HS256 key; empty for the others.
  std::string_view secret() const { return secret_; }
  // The public key (verifying) or private key (minting) of an RS256 or ES256 key.
  EVP_PKEY* pkey() const { return pkey_; }
  // The exact length a signature made with this key has: 32 (HS256), the modulus size
  // (RS256), 64 (ES256, R||S as RFC 7518 §3.4 puts it on the wire).
  size_t signature_size() const { return signature_size_; }
  // "RS256 key 'kid' from FILE" for logs and errors.
  std::string_view description() const { return description_; }
  // Unique in the process and never reused, so per-thread caches can recognise the key.
  uint64_t id() const { return id_; }

 private:
  friend bool load_jwt_key(const JwtKeySource&, bool, bool, JwtKey&, std::string&, std::string&);
  JwtAlg alg_ = JwtAlg::hs256;
  std::string kid_;
  std::string secret_;
  EVP_PKEY* pkey_ = nullptr;
  size_t signature_size_ = 0;
  std::string description_;
  uint64_t id_ = 0;
};

// Loads one key. `private_key` selects what an RS256/ES256 PEM must hold: a private key (for
// minting) or a certificate / SubjectPublicKeyInfo (for verifying; a private key is refused
// there so that it never has to be on the hub). A secret shorter than kMinHs256SecretBytes is
// refused unless `allow_short_secret`, and then `warning` says so. False with `why`
// ("RS256 key 'k1' (FILE): problem") on failure.
bool load_jwt_key(const JwtKeySource& source, bool private_key, bool allow_short_secret,
                  JwtKey& out, std::string& why, std::string& warning);

// The verifying keys. Kids are unique; at most kMaxJwtKeys keys.
class JwtKeySet {
 public:
  // Adds every key of `sources`. False with `why` on the first key that fails, a duplicate kid
  // or too many keys; `warnings` gets one line per short secret that was allowed.
  bool load(const std::vector<JwtKeySource>& sources, bool allow_short_secret, std::string& why,
            std::vector<std::string>& warnings);
  bool add(JwtKey key, std::string& why);

  const JwtKey* find_kid(std::string_view kid) const;
  const std::vector<JwtKey>& keys() const { return keys_; }
  bool empty() const { return keys_.empty(); }
  // The largest signature any key makes, which bounds the decoding buffer.
  size_t max_signature_size() const;

 private:
  std::vector<JwtKey> keys_;
};

}  // namespace wshub::hub
