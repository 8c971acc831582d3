// The third-party tokens and keys the JWT tests check (written by jwt_tokens.py with
// python3-jwt), and the key sets and policies the cases name.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hub/jwt_keys.h"
#include "hub/jwt_verifier.h"

namespace wshub::hub::testing {

struct ExpectedClaims {
  std::optional<std::string> sub;
  std::optional<std::string> device;
  std::optional<std::vector<std::string>> channels;
  std::optional<std::string> info;
  std::optional<int64_t> exp;
  std::optional<int64_t> iat;
};

struct TokenCase {
  std::string name;
  std::string token;
  std::string expect;  // a jwt_error_name
  std::string keyset;
  std::string policy;
  std::optional<ExpectedClaims> claims;
};

struct TokenFixture {
  int64_t now = 0;  // the time the tokens were minted at; cases are checked at this time
  std::vector<TokenCase> cases;
};

// Loaded once per process; minted first when the file is missing (a run outside ctest).
const TokenFixture& token_fixture();
// A file the script wrote next to the tokens (keys, secrets).
std::string fixture_file(std::string_view name);

JwtKeySource key_source(JwtAlg alg, std::string_view file, std::string_view kid = "");
// The key sets cases name: hs, rs, rs_cert, es, all, kids, rotation. Fails the test on error.
JwtKeySet make_keyset(std::string_view name);
// The policies cases name: default, allow_no_exp, audience, issuer, small, small_claims.
JwtPolicy make_policy(std::string_view name);

// Runs a shell command; returns its standard output and sets `status` to its exit status.
std::string run_command(const std::string& command, int& status);
// The command that runs jwt_tokens.py with Debian's python3.
std::string token_script_command();

}  // namespace wshub::hub::testing
