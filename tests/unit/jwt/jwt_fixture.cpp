#include "jwt_fixture.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <sys/wait.h>

namespace wshub::hub::testing {

namespace {

std::optional<std::string> string_member(simdjson::dom::object object, std::string_view name) {
  std::string_view text;
  if (object[name].get_string().get(text) != simdjson::SUCCESS) return std::nullopt;
  return std::string(text);
}

std::optional<int64_t> number_member(simdjson::dom::object object, std::string_view name) {
  int64_t value;
  if (object[name].get_int64().get(value) != simdjson::SUCCESS) return std::nullopt;
  return value;
}

ExpectedClaims read_expected(simdjson::dom::object object) {
  ExpectedClaims claims;
  claims.sub = string_member(object, "sub");
  claims.device = string_member(object, "device");
  claims.info = string_member(object, "info");
  claims.exp = number_member(object, "exp");
  claims.iat = number_member(object, "iat");
  simdjson::dom::array channels;
  if (object["channels"].get_array().get(channels) == simdjson::SUCCESS) {
    claims.channels.emplace();
    for (auto entry : channels) claims.channels->emplace_back(std::string_view(entry.get_string()));
  }
  return claims;
}

TokenFixture load_fixture() {
  const std::string path = fixture_file("tokens.json");
  if (!std::filesystem::exists(path)) {
    int status = 0;
    run_command(token_script_command() + " mint " WSHUB_JWT_FIXTURE_DIR, status);
    if (status != 0) throw std::runtime_error("jwt_tokens.py mint failed");
  }
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.load(path);
  TokenFixture fixture;
  fixture.now = int64_t(root["now"]);
  for (simdjson::dom::object entry : simdjson::dom::array(root["cases"])) {
    TokenCase c;
    c.name = *string_member(entry, "name");
    c.token = *string_member(entry, "token");
    c.expect = *string_member(entry, "expect");
    c.keyset = *string_member(entry, "keyset");
    c.policy = *string_member(entry, "policy");
    simdjson::dom::object claims;
    if (entry["claims"].get_object().get(claims) == simdjson::SUCCESS)
      c.claims = read_expected(claims);
    fixture.cases.push_back(std::move(c));
  }
  return fixture;
}

JwtKeySet load_or_fail(const std::vector<JwtKeySource>& sources) {
  JwtKeySet keys;
  std::string why;
  std::vector<std::string> warnings;
  EXPECT_TRUE(keys.load(sources, false, why, warnings)) << why;
  EXPECT_TRUE(warnings.empty());
  return keys;
}

}  // namespace

const TokenFixture& token_fixture() {
  static const TokenFixture fixture = load_fixture();
  return fixture;
}

std::string fixture_file(std::string_view name) {
  return std::string(WSHUB_JWT_FIXTURE_DIR "/") + std::string(name);
}

JwtKeySource key_source(JwtAlg alg, std::string_view file, std::string_view kid) {
  JwtKeySource source;
  source.alg = alg;
  source.file = fixture_file(file);
  source.kid = kid;
  return source;
}

JwtKeySet make_keyset(std::string_view name) {
  token_fixture();  // the key files come with the tokens
  const JwtKeySource hs = key_source(JwtAlg::hs256, "hs256.secret");
  const JwtKeySource rs = key_source(JwtAlg::rs256, "rs256_public.pem");
  const JwtKeySource es = key_source(JwtAlg::es256, "es256_public.pem");
  if (name == "hs") return load_or_fail({hs});
  if (name == "rs") return load_or_fail({rs});
  if (name == "rs_cert") return load_or_fail({key_source(JwtAlg::rs256, "rs256_cert.pem")});
  if (name == "es") return load_or_fail({es});
  if (name == "all") return load_or_fail({hs, rs, es});
  if (name == "kids")
    return load_or_fail({key_source(JwtAlg::hs256, "hs256.secret", "hs-1"),
                         key_source(JwtAlg::rs256, "rs256_public.pem", "rs-1"),
                         key_source(JwtAlg::rs256, "rs256_other_public.pem", "rs-2"),
                         key_source(JwtAlg::es256, "es256_public.pem", "es-1")});
  if (name == "rotation")
    return load_or_fail({rs, key_source(JwtAlg::rs256, "rs256_other_public.pem")});
  ADD_FAILURE() << "no key set named " << name;
  return {};
}

JwtPolicy make_policy(std::string_view name) {
  JwtPolicy policy;
  if (name == "allow_no_exp") {
    policy.allow_no_exp = true;
  } else if (name == "audience") {
    policy.audiences = {"push.example.com", "push2.example.com"};
  } else if (name == "issuer") {
    policy.issuer = "https://auth.example.com";
  } else if (name == "small") {
    policy.max_token_bytes = 512;
    policy.max_claims_bytes = 384;
    policy.max_info_bytes = 128;
  } else if (name == "small_claims") {
    policy.max_claims_bytes = 256;
    policy.max_info_bytes = 128;
  } else if (name != "default") {
    ADD_FAILURE() << "no policy named " << name;
  }
  std::string why;
  EXPECT_TRUE(check_jwt_policy(policy, why)) << name << ": " << why;
  return policy;
}

std::string run_command(const std::string& command, int& status) {
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) {
    status = -1;
    return output;
  }
  char chunk[4096];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof chunk, pipe)) > 0) output.append(chunk, n);
  const int raw = pclose(pipe);
  status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return output;
}

std::string token_script_command() {
  return std::string(WSHUB_JWT_PYTHON " " WSHUB_JWT_SCRIPT);
}

}  // namespace wshub::hub::testing
