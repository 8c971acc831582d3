// base64url: RFC 4648 §10 vectors in the url alphabet, round trips, and every refusal.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "hub/jwt_base64url.h"

namespace wshub::hub {
namespace {

std::string encode(std::string_view bytes) {
  std::string out;
  base64url_append(out, bytes);
  return out;
}

// The decoded text, or "<refused>".
std::string decode(std::string_view text) {
  const size_t room = base64url_decoded_size(text.size());
  if (room == SIZE_MAX) return "<refused>";
  std::vector<uint8_t> out(room + 1);
  const size_t size = base64url_decode(text, out.data());
  if (size == SIZE_MAX) return "<refused>";
  EXPECT_EQ(size, room);
  return {reinterpret_cast<const char*>(out.data()), size};
}

TEST(Base64url, Rfc4648VectorsWithoutPadding) {
  const std::pair<std::string_view, std::string_view> vectors[] = {
      {"", ""}, {"f", "Zg"}, {"fo", "Zm8"}, {"foo", "Zm9v"}, {"foob", "Zm9vYg"},
      {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, coded] : vectors) {
    EXPECT_EQ(encode(plain), coded);
    EXPECT_EQ(decode(coded), plain);
  }
  // The two characters where the url alphabet differs from the standard one.
  EXPECT_EQ(encode("\xfb\xff"), "-_8");
  EXPECT_EQ(decode("-_8"), "\xfb\xff");
}

TEST(Base64url, EveryLengthRoundTrips) {
  std::mt19937 rng(7);
  for (size_t n = 0; n < 200; ++n) {
    std::string bytes(n, '\0');
    for (char& c : bytes) c = char(rng());
    const std::string coded = encode(bytes);
    ASSERT_EQ(coded.size(), base64url_encoded_size(n));
    ASSERT_EQ(decode(coded), bytes) << n;
  }
}

TEST(Base64url, RefusesWhatIsNotStrictUnpaddedBase64url) {
  EXPECT_EQ(decode("Zg=="), "<refused>");   // padding
  EXPECT_EQ(decode("Zm8="), "<refused>");
  EXPECT_EQ(decode("+/8"), "<refused>");    // the standard alphabet
  EXPECT_EQ(decode("Zm 9v"), "<refused>");  // whitespace
  EXPECT_EQ(decode("Zm9v\n"), "<refused>");
  EXPECT_EQ(decode("Zm9vY"), "<refused>");  // a length of 1 mod 4
  EXPECT_EQ(decode("Z"), "<refused>");
  EXPECT_EQ(decode("Zh"), "<refused>");     // "Zg" with non-zero unused bits
  EXPECT_EQ(decode("Zm9"), "<refused>");    // "Zm8" with non-zero unused bits
  EXPECT_EQ(decode(std::string_view("Zm\0v", 4)), "<refused>");
  EXPECT_EQ(decode("Zm9v\xc3\xa9"), "<refused>");
}

}  // namespace
}  // namespace wshub::hub
