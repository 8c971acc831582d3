#include "hub/jwt_mint.h"

#include <fmt/format.h>
#include <simdjson.h>

#include "hub/jwt_base64url.h"
#include "hub/jwt_signature.h"
#include "proto/utf8.h"

namespace wshub::hub {

namespace {

// Appends `text` as a JSON string (RFC 8259 §7): quotes, backslashes and control characters
// escaped, everything else (valid UTF-8) as is.
bool append_json_string(std::string& out, std::string_view text) {
  if (!proto::is_valid_utf8(as_bytes(text))) return false;
  out += '"';
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (uint8_t(c) < 0x20) {
      out += fmt::format("\\u{:04x}", unsigned(uint8_t(c)));
    } else {
      out += c;
    }
  }
  out += '"';
  return true;
}

bool append_member(std::string& out, std::string_view name, std::string_view text,
                   std::string& why) {
  out += fmt::format(",\"{}\":", name);
  if (append_json_string(out, text)) return true;
  why = fmt::format("the {} claim is not valid UTF-8", name);
  return false;
}

bool write_claims(const JwtMintClaims& claims, std::string& json, std::string& why) {
  if (claims.sub.empty()) {
    why = "the sub claim (the user id) is empty";
    return false;
  }
  if (claims.ttl_s < 0) {
    why = "the ttl is negative";
    return false;
  }
  json = "{\"sub\":";
  if (!append_json_string(json, claims.sub)) {
    why = "the sub claim is not valid UTF-8";
    return false;
  }
  json += fmt::format(",\"iat\":{}", claims.now_s);
  if (claims.ttl_s > 0) json += fmt::format(",\"exp\":{}", claims.now_s + claims.ttl_s);
  if (!claims.device.empty() && !append_member(json, "device", claims.device, why)) return false;
  if (!claims.audience.empty() && !append_member(json, "aud", claims.audience, why)) return false;
  if (!claims.issuer.empty() && !append_member(json, "iss", claims.issuer, why)) return false;
  if (claims.has_channels) {
    json += ",\"channels\":[";
    for (size_t i = 0; i < claims.channels.size(); ++i) {
      if (i) json += ',';
      if (claims.channels[i].empty() || !append_json_string(json, claims.channels[i])) {
        why = fmt::format("channel {} is empty or not valid UTF-8", i + 1);
        return false;
      }
    }
    json += ']';
  }
  if (!claims.info.empty()) {
    simdjson::dom::parser parser;
    simdjson::dom::element info;
    if (parser.parse(claims.info).get(info) != simdjson::SUCCESS || !info.is_object()) {
      why = "the info claim is not a JSON object";
      return false;
    }
    json += ",\"info\":";
    json += simdjson::minify(info);
  }
  json += '}';
  return true;
}

}  // namespace

bool mint_jwt(const JwtKey& key, const JwtMintClaims& claims, std::string& token,
              std::string& why) {
  std::string header = fmt::format("{{\"alg\":\"{}\",\"typ\":\"JWT\"", jwt_alg_name(key.alg()));
  if (key.has_kid() && !append_member(header, "kid", key.kid(), why)) return false;
  header += '}';
  std::string json;
  if (!write_claims(claims, json, why)) return false;

  token.clear();
  base64url_append(token, header);
  token += '.';
  base64url_append(token, json);
  std::string signature;
  if (!sign_jwt(key, token, signature, why)) return false;
  token += '.';
  base64url_append(token, signature);
  return true;
}

}  // namespace wshub::hub
