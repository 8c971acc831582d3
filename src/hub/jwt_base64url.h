// base64url without padding (RFC 4648 §5, as RFC 7515 §2 uses it for JWS parts).
// Pure functions on bytes; knows nothing about JSON, keys or tokens.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace wshub::hub {

// Bytes `text_size` characters of base64url decode to, or SIZE_MAX when no unpadded base64url
// text has that length (a remainder of 1 mod 4).
constexpr size_t base64url_decoded_size(size_t text_size) {
  if (text_size % 4 == 1) return SIZE_MAX;
  return text_size / 4 * 3 + (text_size % 4 == 0 ? 0 : text_size % 4 - 1);
}

constexpr size_t base64url_encoded_size(size_t byte_count) {
  return byte_count / 3 * 4 + (byte_count % 3 == 0 ? 0 : byte_count % 3 + 1);
}

// Decodes `text` into `out`, which has room for base64url_decoded_size(text.size()) bytes.
// Strict: refuses '=', '+', '/', whitespace and every other character outside the url alphabet,
// a length of 1 mod 4, and non-zero unused bits in the last character, so each byte string has
// exactly one accepted encoding (a token cannot be altered without changing its bytes).
// Returns the decoded size, or SIZE_MAX for text it refuses.
size_t base64url_decode(std::string_view text, uint8_t* out);

// Appends the unpadded base64url encoding of `bytes` to `out`.
void base64url_append(std::string& out, std::string_view bytes);

}  // namespace wshub::hub
