// libFuzzer target for the connect-token verifier (JwtVerifier) and its base64url decoder.
// Input layout: byte 0 — bit 0 "signed" mode, bit 1 small limits, bit 2 audience and issuer
// checked, bit 3 tokens without exp allowed, bits 4-5 the key set (HS256; HS256 with kid "hs";
// HS256 + ES256). Raw mode: the rest is the token. Signed mode: byte 1 the header's length
// (mod what is left), then the header JSON and the claims JSON, which the target encodes and
// signs with the HS256 secret itself (a reference encoder and OpenSSL's HMAC, not the code
// under test), so the claims checks are reached by every input.
// What must hold: a result in range and the same on a second call; an accepted token names the
// key that verified it, carries claims inside every limit and an alg the key set has, and is
// refused under any other secret; base64url_decode agrees with a reference decoder.
#include <openssl/evp.h>
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "hub/jwt_base64url.h"
#include "hub/jwt_verifier.h"

using namespace wshub::hub;

namespace {

#define FUZZ_CHECK(cond)                                                            \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

constexpr std::string_view kSecret = "fuzz-secret-0123456789-abcdefghijklmnop";
constexpr std::string_view kOtherSecret = "fuzz-secret-0123456789-abcdefghijklmnoq";
constexpr int64_t kNow = 1700000000;
// A P-256 public key, so ES256 tokens reach EVP_DigestVerify (their signatures never verify).
constexpr std::string_view kEs256Public =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE/Ma7pJesCznNWHZP05sksiBlNQHi\n"
    "4NJcfzs7eeinYzZAXsghByZ379cHwb53w+Zo8EwG0ShzQkvBNOnBWaNj4w==\n"
    "-----END PUBLIC KEY-----\n";

JwtKey make_key(JwtAlg alg, std::string_view kid, std::string_view text) {
  JwtKeySource source;
  source.alg = alg;
  source.kid = kid;
  (alg == JwtAlg::hs256 ? source.secret : source.pem) = text;
  JwtKey key;
  std::string why, warning;
  if (!load_jwt_key(source, false, false, key, why, warning)) {
    std::fprintf(stderr, "fuzz_jwt: %s\n", why.c_str());
    std::abort();
  }
  return key;
}

JwtKeySet make_keyset(int which, std::string_view secret) {
  JwtKeySet keys;
  std::string why;
  keys.add(make_key(JwtAlg::hs256, which == 1 ? "hs" : "", secret), why);
  if (which >= 2) keys.add(make_key(JwtAlg::es256, "", kEs256Public), why);
  return keys;
}

JwtPolicy make_policy(uint8_t flags) {
  JwtPolicy policy;
  if (flags & 2) {
    policy.max_token_bytes = 512;
    policy.max_claims_bytes = 300;
    policy.max_name_bytes = 8;
    policy.max_channels = 3;
    policy.max_info_bytes = 40;
  }
  if (flags & 4) {
    policy.audiences = {"push", "hub"};
    policy.issuer = "auth";
  }
  policy.allow_no_exp = flags & 8;
  return policy;
}

// 24 verifiers (flags bits 1-3 x key set), and the same with the other secret.
constexpr int kVerifierCount = 24;
struct Verifiers {
  std::unique_ptr<JwtVerifier> right[kVerifierCount];
  std::unique_ptr<JwtVerifier> wrong[kVerifierCount];
  Verifiers() {
    for (int i = 0; i < kVerifierCount; ++i) {
      const uint8_t flags = uint8_t((i & 7) << 1);
      const int keyset = i >> 3;
      right[i] = std::make_unique<JwtVerifier>(make_keyset(keyset, kSecret), make_policy(flags));
      wrong[i] = std::make_unique<JwtVerifier>(make_keyset(keyset, kOtherSecret), make_policy(flags));
    }
  }
};

std::string reference_base64url(std::string_view bytes) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (unsigned char c : bytes) {
    bits = bits << 8 | c;
    count += 8;
    while (count >= 6) {
      count -= 6;
      out += kAlphabet[(bits >> count) & 63];
    }
  }
  if (count > 0) out += kAlphabet[(bits << (6 - count)) & 63];
  return out;
}

// Strict RFC 4648 §5 decoding, bit by bit: false for any character outside the alphabet, a
// dangling 6 bits, or non-zero leftover bits.
bool reference_decode(std::string_view text, std::string& out) {
  out.clear();
  uint32_t bits = 0;
  int count = 0;
  for (char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '-') v = 62;
    else if (c == '_') v = 63;
    else return false;
    bits = (bits << 6 | uint32_t(v)) & 0xFFFF;
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += char((bits >> count) & 0xFF);
    }
  }
  return count < 6 && (bits & ((1u << count) - 1)) == 0;
}

void check_base64url(std::string_view text) {
  std::string expected;
  const bool valid = reference_decode(text, expected);
  const size_t room = base64url_decoded_size(text.size());
  if (room == SIZE_MAX) {
    FUZZ_CHECK(!valid);
    return;
  }
  auto out = std::make_unique<uint8_t[]>(room + 1);
  const size_t size = base64url_decode(text, out.get());
  FUZZ_CHECK((size != SIZE_MAX) == valid);
  if (valid) {
    FUZZ_CHECK(size == room && size == expected.size());
    FUZZ_CHECK(std::memcmp(out.get(), expected.data(), size) == 0);
    FUZZ_CHECK(reference_base64url(expected) == text);
  }
}

std::string sign(std::string_view header, std::string_view claims, std::string_view secret) {
  std::string token = reference_base64url(header) + "." + reference_base64url(claims);
  unsigned char mac[32];
  size_t size = 0;
  EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, secret.data(), secret.size(),
            reinterpret_cast<const unsigned char*>(token.data()), token.size(), mac, sizeof mac,
            &size);
  return token + "." + reference_base64url({reinterpret_cast<const char*>(mac), size});
}

void check_accepted(const JwtVerifier& verifier, std::string_view token, const JwtClaims& claims) {
  const JwtPolicy& policy = verifier.policy();
  FUZZ_CHECK(token.size() <= policy.max_token_bytes);
  FUZZ_CHECK(claims.key != nullptr);
  FUZZ_CHECK(!claims.sub.empty() && claims.sub.size() <= policy.max_name_bytes);
  FUZZ_CHECK(claims.device.size() <= policy.max_name_bytes);
  FUZZ_CHECK(claims.channels.size() <= policy.max_channels);
  FUZZ_CHECK(claims.has_channels || claims.channels.empty());
  for (const std::string& channel : claims.channels)
    FUZZ_CHECK(!channel.empty() && channel.size() <= policy.max_name_bytes);
  FUZZ_CHECK(claims.has_exp || policy.allow_no_exp);
  if (claims.has_exp) FUZZ_CHECK(claims.exp > kNow - policy.leeway_s);
  if (!claims.info.empty()) {
    FUZZ_CHECK(claims.info.size() <= policy.max_info_bytes);
    simdjson::dom::parser parser;
    simdjson::dom::element info;
    FUZZ_CHECK(parser.parse(claims.info).get(info) == simdjson::SUCCESS && info.is_object());
  }
  // The header an accepted token carries names an alg of the key that verified it.
  const std::string_view header_text = token.substr(0, token.find('.'));
  std::string header;
  FUZZ_CHECK(reference_decode(header_text, header));
  simdjson::dom::parser parser;
  std::string_view alg;
  FUZZ_CHECK(parser.parse(header).get_object()["alg"].get_string().get(alg) == simdjson::SUCCESS);
  FUZZ_CHECK(alg == jwt_alg_name(claims.key->alg()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Verifiers verifiers;
  if (size < 1) return 0;
  const uint8_t flags = data[0];
  const int index = ((flags >> 1) & 7) | (((flags >> 4) & 3) % 3) << 3;
  const JwtVerifier& verifier = *verifiers.right[index];
  const JwtVerifier& other = *verifiers.wrong[index];

  std::string token;
  if (flags & 1) {
    if (size < 2) return 0;
    const std::string_view rest(reinterpret_cast<const char*>(data + 2), size - 2);
    const size_t header_size = rest.empty() ? 0 : data[1] % (rest.size() + 1);
    token = sign(rest.substr(0, header_size), rest.substr(header_size), kSecret);
  } else {
    token.assign(reinterpret_cast<const char*>(data + 1), size - 1);
    check_base64url(token);
  }

  JwtClaims claims;
  const JwtError first = verifier.verify(token, kNow, claims);
  FUZZ_CHECK(size_t(first) < size_t(JwtError::count_));
  FUZZ_CHECK(first != JwtError::internal);
  if (token.size() > verifier.policy().max_token_bytes) FUZZ_CHECK(first == JwtError::too_large);
  if (first == JwtError::none) {
    check_accepted(verifier, token, claims);
    JwtClaims again;
    FUZZ_CHECK(other.verify(token, kNow, again) != JwtError::none);
  }
  JwtClaims second;
  FUZZ_CHECK(verifier.verify(token, kNow, second) == first);
  if (first == JwtError::none) {
    FUZZ_CHECK(second.sub == claims.sub && second.device == claims.device);
    FUZZ_CHECK(second.channels == claims.channels && second.info == claims.info);
  }
  return 0;
}
