#include "hub/jwt_base64url.h"

#include <array>

namespace wshub::hub {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr uint8_t kInvalid = 0xFF;

constexpr std::array<uint8_t, 256> make_values() {
  std::array<uint8_t, 256> values{};
  for (auto& v : values) v = kInvalid;
  for (uint8_t i = 0; i < 64; ++i) values[uint8_t(kAlphabet[i])] = i;
  return values;
}
constexpr std::array<uint8_t, 256> kValues = make_values();

}  // namespace

size_t base64url_decode(std::string_view text, uint8_t* out) {
  const size_t size = base64url_decoded_size(text.size());
  if (size == SIZE_MAX) return SIZE_MAX;
  const auto* in = reinterpret_cast<const uint8_t*>(text.data());
  const size_t whole = text.size() / 4 * 4;
  uint8_t* o = out;
  // Characters outside the alphabet map to 0xFF, so one test of the OR-ed values finds any.
  for (size_t i = 0; i < whole; i += 4) {
    const uint32_t a = kValues[in[i]], b = kValues[in[i + 1]], c = kValues[in[i + 2]],
                   d = kValues[in[i + 3]];
    if ((a | b | c | d) & 0xC0) return SIZE_MAX;
    const uint32_t v = a << 18 | b << 12 | c << 6 | d;
    o[0] = uint8_t(v >> 16);
    o[1] = uint8_t(v >> 8);
    o[2] = uint8_t(v);
    o += 3;
  }
  const size_t rest = text.size() - whole;
  if (rest >= 2) {
    const uint32_t a = kValues[in[whole]], b = kValues[in[whole + 1]],
                   c = rest == 3 ? kValues[in[whole + 2]] : 0;
    if ((a | b | c) & 0xC0) return SIZE_MAX;
    const uint32_t v = a << 18 | b << 12 | c << 6;
    o[0] = uint8_t(v >> 16);
    if (rest == 2) {
      if (v & 0xFFFF) return SIZE_MAX;  // the last character's low 4 bits must be zero
    } else {
      o[1] = uint8_t(v >> 8);
      if (v & 0xFF) return SIZE_MAX;  // the last character's low 2 bits must be zero
    }
  }
  return size;
}

void base64url_append(std::string& out, std::string_view bytes) {
  const auto* in = reinterpret_cast<const uint8_t*>(bytes.data());
  const size_t n = bytes.size();
  const size_t start = out.size();
  out.resize(start + base64url_encoded_size(n));
  char* o = out.data() + start;
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const uint32_t v = uint32_t(in[i]) << 16 | uint32_t(in[i + 1]) << 8 | in[i + 2];
    *o++ = kAlphabet[v >> 18];
    *o++ = kAlphabet[(v >> 12) & 63];
    *o++ = kAlphabet[(v >> 6) & 63];
    *o++ = kAlphabet[v & 63];
  }
  if (n - i == 1) {
    const uint32_t v = uint32_t(in[i]) << 16;
    *o++ = kAlphabet[v >> 18];
    *o++ = kAlphabet[(v >> 12) & 63];
  } else if (n - i == 2) {
    const uint32_t v = uint32_t(in[i]) << 16 | uint32_t(in[i + 1]) << 8;
    *o++ = kAlphabet[v >> 18];
    *o++ = kAlphabet[(v >> 12) & 63];
    *o++ = kAlphabet[(v >> 6) & 63];
  }
}

}  // namespace wshub::hub
