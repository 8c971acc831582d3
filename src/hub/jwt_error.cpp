#include "hub/jwt_error.h"

#include <iterator>

namespace wshub::hub {

namespace {

struct ErrorInfo {
  ErrorCode hub_code;
  HubClose close_code;
  std::string_view name;
  std::string_view sentence;
};

constexpr ErrorCode kUnauthorized = ErrorCode::unauthorized;
constexpr HubClose kInvalid = HubClose::invalid_token;

constexpr ErrorInfo kErrors[] = {
    {ErrorCode::internal, HubClose::disconnected, "none", ""},
    {kUnauthorized, kInvalid, "too_large",
     "the token is longer than hub.jwt.max_token_bytes"},
    {kUnauthorized, kInvalid, "malformed",
     "the token is not three non-empty parts joined by dots (header.claims.signature); "
     "encrypted JWTs (five parts) are not accepted"},
    {kUnauthorized, kInvalid, "header_too_large",
     "the token's header decodes to more than 1 KiB, which no JWS header needs"},
    {kUnauthorized, kInvalid, "claims_too_large",
     "the token's claims decode to more bytes than the token size allows (hub.jwt.max_token_bytes)"},
    {kUnauthorized, kInvalid, "bad_base64",
     "a part of the token is not base64url without padding (RFC 7515 section 2): it has '=', "
     "'+', '/', another character outside A-Z a-z 0-9 - _, or non-zero trailing bits"},
    {kUnauthorized, kInvalid, "bad_json",
     "the token's header or claims are not one valid JSON object (or nest deeper than 32 levels)"},
    {kUnauthorized, kInvalid, "duplicate_member",
     "the token's header or claims name a member twice (alg, kid, sub, exp, aud, ...); "
     "RFC 7515 asks for such tokens to be refused"},
    {kUnauthorized, kInvalid, "bad_header",
     "the token's header has no alg string, a kid that is not a string, or a crit member, "
     "which the hub does not support"},
    {kUnauthorized, kInvalid, "alg_none",
     "the token is unsigned (alg none); unsigned tokens are always refused"},
    {kUnauthorized, kInvalid, "alg_not_allowed",
     "the token's alg is not the alg of any key in hub.jwt (only HS256, RS256 and ES256 are "
     "supported, each only where a key for it is configured)"},
    {kUnauthorized, kInvalid, "unknown_kid",
     "the token's kid names no key in hub.jwt; add the issuer's key with that kid"},
    {kUnauthorized, kInvalid, "alg_key_mismatch",
     "the token's alg differs from the alg of the key its kid names; each key verifies one "
     "alg only, which rules out algorithm confusion"},
    {kUnauthorized, kInvalid, "bad_signature_length",
     "the token's signature has the wrong length for its alg (HS256: 32 bytes, RS256: the key's "
     "modulus size, ES256: 64 bytes R||S, not DER)"},
    {kUnauthorized, kInvalid, "bad_signature",
     "the token's signature does not verify with the configured key; the issuer signs with "
     "another secret or key"},
    {ErrorCode::token_expired, HubClose::token_expired, "expired",
     "the token has expired (exp, plus hub.jwt.leeway_s); the client should fetch a new one"},
    {kUnauthorized, kInvalid, "not_yet_valid",
     "the token is not valid yet (nbf is later than now plus hub.jwt.leeway_s); check the "
     "issuer's clock"},
    {kUnauthorized, kInvalid, "wrong_audience",
     "the token's aud is missing or names none of hub.jwt.audience"},
    {kUnauthorized, kInvalid, "wrong_issuer",
     "the token's iss is missing or differs from hub.jwt.issuer"},
    {kUnauthorized, kInvalid, "missing_sub",
     "the token has no sub claim, or an empty one; sub is the user id"},
    {kUnauthorized, kInvalid, "missing_exp",
     "the token has no exp claim; set hub.jwt.allow_no_exp = true to accept tokens that never "
     "expire"},
    {kUnauthorized, kInvalid, "bad_claim_type",
     "a claim has the wrong type (sub, iss, device: non-empty strings; exp, nbf, iat: numbers; "
     "aud: a string or an array of strings; channels: an array of non-empty strings; "
     "info: an object)"},
    {kUnauthorized, kInvalid, "claim_too_long",
     "the token's sub, device or a channel name is longer than 256 bytes"},
    {kUnauthorized, kInvalid, "too_many_channels",
     "the token's channels claim lists more than 256 channels"},
    {kUnauthorized, kInvalid, "info_too_large",
     "the token's info claim is longer than hub.max_info_bytes"},
    {ErrorCode::internal, HubClose::disconnected, "internal",
     "OpenSSL could not check the token's signature (out of memory?)"},
};
static_assert(std::size(kErrors) == size_t(JwtError::count_));

}  // namespace

ErrorCode hub_error_code_of(JwtError error) { return kErrors[size_t(error)].hub_code; }
HubClose close_code_of(JwtError error) { return kErrors[size_t(error)].close_code; }
std::string_view jwt_error_name(JwtError error) { return kErrors[size_t(error)].name; }
std::string_view jwt_error_sentence(JwtError error) { return kErrors[size_t(error)].sentence; }

}  // namespace wshub::hub
