#include "hub/jwt_verifier.h"

#include <simdjson.h>

#include <cassert>
#include <cmath>
#include <memory>
#include <utility>

#include "hub/jwt_base64url.h"
#include "hub/jwt_signature.h"

namespace wshub::hub {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// Decoded parts of the token being checked, each followed by the padding simdjson may read,
// and one DOM parser. Grown to the largest policy a thread has seen, never shrunk, so a
// thread's steady state allocates nothing here.
struct Scratch {
  std::unique_ptr<uint8_t[]> header;
  std::unique_ptr<uint8_t[]> claims;
  std::unique_ptr<uint8_t[]> signature;
  size_t header_capacity = 0;
  size_t claims_capacity = 0;
  size_t signature_capacity = 0;
  simdjson::dom::parser parser;
  size_t parser_capacity = 0;
  simdjson::ondemand::parser info_parser;  // finds info's text in claims already validated
};
thread_local Scratch scratch;

void reserve(std::unique_ptr<uint8_t[]>& buffer, size_t& capacity, size_t need) {
  if (capacity >= need && buffer) return;
  buffer = std::make_unique<uint8_t[]>(need + simdjson::SIMDJSON_PADDING);
  capacity = need;
}

bool prepare_scratch(const JwtPolicy& policy, size_t max_signature_bytes) {
  reserve(scratch.header, scratch.header_capacity, kMaxJwtHeaderBytes);
  reserve(scratch.claims, scratch.claims_capacity, policy.max_claims_bytes);
  // Room for a signature text up to 4 characters too long, so padding is reported as such.
  reserve(scratch.signature, scratch.signature_capacity, max_signature_bytes + 3);
  const size_t documents = std::max(kMaxJwtHeaderBytes, policy.max_claims_bytes);
  if (scratch.parser_capacity < documents) {
    if (scratch.parser.allocate(documents, kMaxJwtJsonDepth) != simdjson::SUCCESS ||
        scratch.info_parser.allocate(documents, kMaxJwtJsonDepth) != simdjson::SUCCESS)
      return false;
    scratch.parser_capacity = documents;
  }
  return true;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const char x = a[i] >= 'A' && a[i] <= 'Z' ? char(a[i] + 32) : a[i];
    if (x != b[i]) return false;
  }
  return true;
}

// Decodes one base64url part into `out`, which has room for its decoded size.
bool decode_part(std::string_view text, uint8_t* out, size_t& size) {
  size = base64url_decode(text, out);
  return size != SIZE_MAX;
}

JwtError parse_object(const uint8_t* json, size_t size, simdjson::dom::object& object) {
  element root;
  if (scratch.parser.parse(json, size, false).get(root) != simdjson::SUCCESS ||
      root.get_object().get(object) != simdjson::SUCCESS)
    return JwtError::bad_json;
  return JwtError::none;
}

struct Header {
  std::string_view alg;
  std::string_view kid;  // views into the parser: valid until the claims are parsed
  bool has_kid = false;
};

JwtError read_header(simdjson::dom::object object, Header& header) {
  bool has_alg = false;
  for (auto [name, value] : object) {
    if (name == "alg") {
      if (has_alg) return JwtError::duplicate_member;
      if (value.get_string().get(header.alg) != simdjson::SUCCESS) return JwtError::bad_header;
      has_alg = true;
    } else if (name == "kid") {
      if (header.has_kid) return JwtError::duplicate_member;
      if (value.get_string().get(header.kid) != simdjson::SUCCESS) return JwtError::bad_header;
      header.has_kid = true;
    } else if (name == "crit") {
      // RFC 7515 §4.1.11: extensions listed in crit must be understood; the hub knows none.
      return JwtError::bad_header;
    }
  }
  return has_alg ? JwtError::none : JwtError::bad_header;
}

// RFC 7519 §2 NumericDate: seconds, possibly fractional; clamped to int64.
bool read_seconds(element value, int64_t& out) {
  switch (value.type()) {
    case element_type::INT64:
      out = value.get_int64().value_unsafe();
      return true;
    case element_type::UINT64:
      out = INT64_MAX;  // only values above INT64_MAX are UINT64
      return true;
    case element_type::DOUBLE: {
      const double d = std::floor(value.get_double().value_unsafe());
      out = d >= 9.2e18 ? INT64_MAX : d <= -9.2e18 ? INT64_MIN : int64_t(d);
      return true;
    }
    default:
      return false;
  }
}

bool read_name(element value, size_t max_bytes, std::string_view& out, JwtError& error) {
  if (value.get_string().get(out) != simdjson::SUCCESS || out.empty()) {
    error = JwtError::bad_claim_type;
    return false;
  }
  if (out.size() > max_bytes) {
    error = JwtError::claim_too_long;
    return false;
  }
  return true;
}

// The claims the checks after the walk need, as views into the parsed document.
struct ClaimViews {
  enum : uint16_t {
    kSub = 1 << 0, kExp = 1 << 1, kNbf = 1 << 2, kIat = 1 << 3, kAud = 1 << 4,
    kIss = 1 << 5, kDevice = 1 << 6, kChannels = 1 << 7, kInfo = 1 << 8,
  };
  uint16_t seen = 0;
  int64_t nbf = 0;
  std::string_view iss;
  std::string_view aud;         // aud as a string
  simdjson::dom::array aud_list;  // aud as an array of strings
  bool aud_is_list = false;
};

uint16_t claim_bit(std::string_view name) {
  if (name == "sub") return ClaimViews::kSub;
  if (name == "exp") return ClaimViews::kExp;
  if (name == "nbf") return ClaimViews::kNbf;
  if (name == "iat") return ClaimViews::kIat;
  if (name == "aud") return ClaimViews::kAud;
  if (name == "iss") return ClaimViews::kIss;
  if (name == "device") return ClaimViews::kDevice;
  if (name == "channels") return ClaimViews::kChannels;
  if (name == "info") return ClaimViews::kInfo;
  return 0;
}

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The info member's text as the issuer wrote it. The DOM parse has validated the claims and
// found exactly one info object; this on-demand pass over the same bytes only locates its
// text. Keys are compared unescaped, as the DOM parser compared them.
bool find_info_text(std::string_view claims_json, std::string_view& text) {
  simdjson::ondemand::document document;
  simdjson::ondemand::object object;
  if (scratch.info_parser
          .iterate(claims_json.data(), claims_json.size(),
                   claims_json.size() + simdjson::SIMDJSON_PADDING)
          .get(document) != simdjson::SUCCESS ||
      document.get_object().get(object) != simdjson::SUCCESS)
    return false;
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) return false;
    if (key != "info") continue;
    simdjson::ondemand::object info;
    if (field.value().get_object().get(info) != simdjson::SUCCESS ||
        info.raw_json().get(text) != simdjson::SUCCESS)
      return false;
    while (!text.empty() && is_json_space(text.back())) text.remove_suffix(1);
    return true;
  }
  return false;
}

JwtError read_channels(element value, const JwtPolicy& policy, JwtClaims& claims) {
  simdjson::dom::array list;
  if (value.get_array().get(list) != simdjson::SUCCESS) return JwtError::bad_claim_type;
  if (list.size() > policy.max_channels) return JwtError::too_many_channels;
  claims.has_channels = true;
  for (element entry : list) {
    std::string_view name;
    JwtError error = JwtError::none;
    if (!read_name(entry, policy.max_name_bytes, name, error)) return error;
    claims.channels.emplace_back(name);
  }
  return JwtError::none;
}

// One pass over the claims: types, sizes and duplicates of every claim the hub reads, in the
// order the issuer wrote them. Unknown claims (jti, scope, ...) are ignored.
JwtError read_claims(simdjson::dom::object object, std::string_view json,
                     const JwtPolicy& policy, JwtClaims& claims, ClaimViews& views) {
  for (auto [name, value] : object) {
    const uint16_t bit = claim_bit(name);
    if (!bit) continue;
    if (views.seen & bit) return JwtError::duplicate_member;
    views.seen |= bit;
    JwtError error = JwtError::none;
    std::string_view text;
    switch (bit) {
      case ClaimViews::kSub:
        if (value.get_string().get(text) != simdjson::SUCCESS) return JwtError::bad_claim_type;
        if (text.size() > policy.max_name_bytes) return JwtError::claim_too_long;
        claims.sub.assign(text);
        break;
      case ClaimViews::kExp:
        if (!read_seconds(value, claims.exp)) return JwtError::bad_claim_type;
        claims.has_exp = true;
        break;
      case ClaimViews::kNbf:
        if (!read_seconds(value, views.nbf)) return JwtError::bad_claim_type;
        break;
      case ClaimViews::kIat:
        if (!read_seconds(value, claims.iat)) return JwtError::bad_claim_type;
        break;
      case ClaimViews::kAud:
        if (value.get_array().get(views.aud_list) == simdjson::SUCCESS) {
          views.aud_is_list = true;
          for (element entry : views.aud_list)
            if (!entry.is_string()) return JwtError::bad_claim_type;
        } else if (value.get_string().get(views.aud) != simdjson::SUCCESS) {
          return JwtError::bad_claim_type;
        }
        break;
      case ClaimViews::kIss:
        if (value.get_string().get(views.iss) != simdjson::SUCCESS || views.iss.empty())
          return JwtError::bad_claim_type;
        break;
      case ClaimViews::kDevice:
        if (!read_name(value, policy.max_name_bytes, text, error)) return error;
        claims.device.assign(text);
        break;
      case ClaimViews::kChannels:
        if ((error = read_channels(value, policy, claims)) != JwtError::none) return error;
        break;
      case ClaimViews::kInfo:
        if (!value.is_object()) return JwtError::bad_claim_type;
        if (!find_info_text(json, text)) return JwtError::bad_json;
        if (text.size() > policy.max_info_bytes) return JwtError::info_too_large;
        claims.info.assign(text);
        break;
    }
  }
  return JwtError::none;
}

bool audience_matches(const ClaimViews& views, const std::vector<std::string>& audiences) {
  const auto accepted = [&](std::string_view name) {
    for (const std::string& audience : audiences)
      if (name == audience) return true;
    return false;
  };
  if (!views.aud_is_list) return accepted(views.aud);
  for (element entry : views.aud_list) {
    std::string_view name;
    if (entry.get_string().get(name) == simdjson::SUCCESS && accepted(name)) return true;
  }
  return false;
}

JwtError check_claims(const ClaimViews& views, const JwtPolicy& policy, int64_t now_s,
                      const JwtClaims& claims) {
  if (!(views.seen & ClaimViews::kSub) || claims.sub.empty()) return JwtError::missing_sub;
  if (!claims.has_exp && !policy.allow_no_exp) return JwtError::missing_exp;
  // RFC 7519 §4.1.4: the current time must be before exp.
  if (claims.has_exp && claims.exp <= now_s - int64_t(policy.leeway_s)) return JwtError::expired;
  if ((views.seen & ClaimViews::kNbf) && views.nbf > now_s + int64_t(policy.leeway_s))
    return JwtError::not_yet_valid;
  if (!policy.issuer.empty() && views.iss != policy.issuer) return JwtError::wrong_issuer;
  if (!policy.audiences.empty() &&
      (!(views.seen & ClaimViews::kAud) || !audience_matches(views, policy.audiences)))
    return JwtError::wrong_audience;
  return JwtError::none;
}

void clear_claims(JwtClaims& claims) {
  claims.sub.clear();
  claims.device.clear();
  claims.channels.clear();
  claims.has_channels = false;
  claims.info.clear();
  claims.has_exp = false;
  claims.exp = 0;
  claims.iat = 0;
  claims.key = nullptr;
}

}  // namespace

bool check_jwt_policy(const JwtPolicy& policy, std::string& why) {
  if (policy.max_token_bytes < 256 || policy.max_token_bytes > (1u << 20))
    why = "hub.jwt.max_token_bytes: must be between 256 bytes and 1 MiB";
  else if (policy.max_claims_bytes < 64 || policy.max_claims_bytes > policy.max_token_bytes)
    why = "hub.jwt.max_claims_bytes: must be between 64 bytes and max_token_bytes";
  else if (policy.max_name_bytes < 1 || policy.max_name_bytes > policy.max_claims_bytes)
    why = "hub.jwt.max_name_bytes: must be between 1 and max_claims_bytes";
  else if (policy.max_info_bytes > policy.max_claims_bytes)
    why = "hub.jwt.max_info_bytes: must not exceed max_claims_bytes";
  else if (policy.leeway_s > 600)
    why = "hub.jwt.leeway_s: must be between 0 and 600 seconds";
  else
    return true;
  return false;
}

JwtVerifier::JwtVerifier(JwtKeySet keys, JwtPolicy policy)
    : keys_(std::move(keys)), policy_(std::move(policy)) {
  assert([this] {
    std::string why;
    return check_jwt_policy(policy_, why);
  }());
  max_signature_text_ = base64url_encoded_size(keys_.max_signature_size());
}

JwtError JwtVerifier::verify(std::string_view token, int64_t now_s, JwtClaims& claims) const {
  clear_claims(claims);
  if (token.size() > policy_.max_token_bytes) return JwtError::too_large;
  constexpr size_t kNone = std::string_view::npos;
  const size_t first_dot = token.find('.');
  const size_t second_dot = first_dot == kNone ? kNone : token.find('.', first_dot + 1);
  if (second_dot == kNone || token.find('.', second_dot + 1) != kNone) return JwtError::malformed;
  const std::string_view header_text = token.substr(0, first_dot);
  const std::string_view claims_text = token.substr(first_dot + 1, second_dot - first_dot - 1);
  const std::string_view signature_text = token.substr(second_dot + 1);
  if (header_text.empty() || claims_text.empty()) return JwtError::malformed;

  const size_t header_size = base64url_decoded_size(header_text.size());
  const size_t claims_size = base64url_decoded_size(claims_text.size());
  if (header_size == SIZE_MAX || claims_size == SIZE_MAX) return JwtError::bad_base64;
  if (header_size > kMaxJwtHeaderBytes) return JwtError::header_too_large;
  if (claims_size > policy_.max_claims_bytes) return JwtError::claims_too_large;
  if (!prepare_scratch(policy_, keys_.max_signature_size())) return JwtError::internal;

  size_t size = 0;
  if (!decode_part(header_text, scratch.header.get(), size)) return JwtError::bad_base64;
  simdjson::dom::object object;
  if (JwtError error = parse_object(scratch.header.get(), size, object); error != JwtError::none)
    return error;
  Header header;
  if (JwtError error = read_header(object, header); error != JwtError::none) return error;

  // "none" in any case: RFC 7518 §3.6 spells it in lower case, and a variant is no better.
  if (equals_ignoring_case(header.alg, "none")) return JwtError::alg_none;
  JwtAlg alg;
  if (!parse_jwt_alg(header.alg, alg)) return JwtError::alg_not_allowed;
  const JwtKey* named = nullptr;
  if (header.has_kid) {
    named = keys_.find_kid(header.kid);
    if (!named) return JwtError::unknown_kid;
    if (named->alg() != alg) return JwtError::alg_key_mismatch;
  } else {
    bool any = false;
    for (const JwtKey& key : keys_.keys()) any = any || key.alg() == alg;
    if (!any) return JwtError::alg_not_allowed;
  }

  if (signature_text.empty() || signature_text.size() > max_signature_text_ + 4)
    return JwtError::bad_signature_length;
  size_t signature_size = 0;
  if (!decode_part(signature_text, scratch.signature.get(), signature_size))
    return JwtError::bad_base64;
  size_t claims_json_size = 0;
  if (!decode_part(claims_text, scratch.claims.get(), claims_json_size))
    return JwtError::bad_base64;

  // RFC 7515 §5.2 step 8: the signing input is the encoded header and claims as sent.
  const std::string_view signing_input = token.substr(0, second_dot);
  const Bytes signature{scratch.signature.get(), signature_size};
  JwtError verdict = JwtError::bad_signature_length;
  const JwtKey* verified_by = nullptr;
  if (named) {
    verdict = verify_jwt_signature(*named, signing_input, signature);
    verified_by = named;
  } else {
    // Without a kid, every key of the token's alg is a candidate (key rotation); the first
    // that verifies wins. A key whose signature size differs is skipped, not a failure.
    for (const JwtKey& key : keys_.keys()) {
      if (key.alg() != alg) continue;
      const JwtError result = verify_jwt_signature(key, signing_input, signature);
      if (result == JwtError::bad_signature_length) continue;
      verdict = result;
      if (result == JwtError::none) {
        verified_by = &key;
        break;
      }
      if (result == JwtError::internal) break;
    }
  }
  if (verdict != JwtError::none) return verdict;
  claims.key = verified_by;

  if (JwtError error = parse_object(scratch.claims.get(), claims_json_size, object);
      error != JwtError::none)
    return error;
  ClaimViews views;
  const std::string_view claims_json(reinterpret_cast<const char*>(scratch.claims.get()),
                                     claims_json_size);
  if (JwtError error = read_claims(object, claims_json, policy_, claims, views);
      error != JwtError::none)
    return error;
  return check_claims(views, policy_, now_s, claims);
}

}  // namespace wshub::hub
