// JWS signatures (RFC 7515 §5, RFC 7518 §3.2-3.4) made and checked with OpenSSL 3 EVP: HMAC
// for HS256, EVP_DigestVerify / EVP_DigestSign for RS256 and ES256. Knows nothing about JSON,
// claims or which key a token should use.
#pragma once

#include <string>
#include <string_view>

#include "base/bytes.h"
#include "hub/jwt_error.h"
#include "hub/jwt_keys.h"

namespace wshub::hub {

// Checks `signature` (as on the wire: raw R||S for ES256) over `signing_input`
// ("HEADER.CLAIMS", the base64url text) with `key`, whose alg the caller has already matched
// to the token's. Returns none, bad_signature_length (the size is not key.signature_size()),
// bad_signature, or internal when OpenSSL could not run the check.
// Thread-safe: each thread has its own HMAC context and digest contexts, made on first use.
JwtError verify_jwt_signature(const JwtKey& key, std::string_view signing_input, Bytes signature);

// Signs `signing_input` with `key` (an HS256 secret, or an RS256/ES256 private key) and sets
// `signature` to the wire form. False with `why` when OpenSSL fails.
bool sign_jwt(const JwtKey& key, std::string_view signing_input, std::string& signature,
              std::string& why);

}  // namespace wshub::hub
