// Connect-token verification: what one `connect` costs the hub in JwtVerifier::verify for
// HS256, RS256 (2048-bit) and ES256 (P-256) tokens with typical claims, plus the early
// refusals (a forged HS256 signature, garbage) that an attacker can make the hub run.
// Keys are generated at start; tokens are minted with mint_jwt.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

#include "hub/jwt_mint.h"
#include "hub/jwt_verifier.h"

using namespace wshub::hub;

namespace {

std::string pem_of(EVP_PKEY* key, bool private_key) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (private_key)
    PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  else
    PEM_write_bio_PUBKEY(bio, key);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, size_t(size));
  BIO_free(bio);
  return pem;
}

JwtKey load_or_die(JwtAlg alg, const std::string& text, bool private_key) {
  JwtKeySource source;
  source.alg = alg;
  (alg == JwtAlg::hs256 ? source.secret : source.pem) = text;
  JwtKey key;
  std::string why, warning;
  if (!load_jwt_key(source, private_key, false, key, why, warning)) {
    std::fprintf(stderr, "jwt_bench: %s\n", why.c_str());
    std::abort();
  }
  return key;
}

struct Setup {
  JwtVerifier verifier;
  std::string token;
};

// A verifier holding one key of `alg` and a token it accepts, with the claims a device app
// sends: user, device, two channels and a small info object.
Setup make_setup(JwtAlg alg) {
  std::string private_text = "bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz";
  std::string public_text = private_text;
  if (alg != JwtAlg::hs256) {
    EVP_PKEY* key = alg == JwtAlg::rs256 ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t(2048))
                                         : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    private_text = pem_of(key, true);
    public_text = pem_of(key, false);
    EVP_PKEY_free(key);
  }
  JwtMintClaims claims;
  claims.sub = "user-1234567";
  claims.device = "android-8f3a9c";
  claims.channels = {"news", "chat:room-42"};
  claims.has_channels = true;
  claims.info = R"({"name":"Ann","plan":"pro"})";
  claims.now_s = std::time(nullptr);
  claims.ttl_s = 3600;
  std::string token, why;
  if (!mint_jwt(load_or_die(alg, private_text, true), claims, token, why)) std::abort();
  JwtKeySet keys;
  if (!keys.add(load_or_die(alg, public_text, false), why)) std::abort();
  return {JwtVerifier(std::move(keys), JwtPolicy{}), token};
}

void run_verify(benchmark::State& state, const Setup& setup, JwtError want) {
  JwtClaims claims;
  const int64_t now = std::time(nullptr);
  for (auto _ : state) {
    const JwtError error = setup.verifier.verify(setup.token, now, claims);
    if (error != want) {
      state.SkipWithError(std::string(jwt_error_name(error)).c_str());
      break;
    }
    benchmark::DoNotOptimize(claims.sub.data());
  }
  state.SetItemsProcessed(int64_t(state.iterations()));
  state.counters["token_bytes"] = double(setup.token.size());
}

void BM_JwtVerifyHs256(benchmark::State& state) {
  static const Setup setup = make_setup(JwtAlg::hs256);
  run_verify(state, setup, JwtError::none);
}
BENCHMARK(BM_JwtVerifyHs256);

void BM_JwtVerifyRs256(benchmark::State& state) {
  static const Setup setup = make_setup(JwtAlg::rs256);
  run_verify(state, setup, JwtError::none);
}
BENCHMARK(BM_JwtVerifyRs256);

void BM_JwtVerifyEs256(benchmark::State& state) {
  static const Setup setup = make_setup(JwtAlg::es256);
  run_verify(state, setup, JwtError::none);
}
BENCHMARK(BM_JwtVerifyEs256);

// A forged HS256 token: parsing and the HMAC run, the claims are never parsed.
void BM_JwtRefuseHs256BadSignature(benchmark::State& state) {
  static const Setup setup = [] {
    Setup s = make_setup(JwtAlg::hs256);
    s.token.back() = s.token.back() == 'A' ? 'Q' : 'A';
    return s;
  }();
  run_verify(state, setup, JwtError::bad_signature);
}
BENCHMARK(BM_JwtRefuseHs256BadSignature);

// Garbage refused at the shape check, before any decoding.
void BM_JwtRefuseGarbage(benchmark::State& state) {
  static const Setup setup = [] {
    Setup s = make_setup(JwtAlg::hs256);
    s.token = "GET / HTTP/1.1 not a token at all";
    return s;
  }();
  run_verify(state, setup, JwtError::malformed);
}
BENCHMARK(BM_JwtRefuseGarbage);

}  // namespace
