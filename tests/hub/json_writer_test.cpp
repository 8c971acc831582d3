// JsonWriter and append_json_string: RFC 8259 §7 escaping of every control character, quotes and
// backslashes; UTF-8 copied as it is; commas between members and elements at every nesting; and
// whatever is written parses back (with simdjson) to exactly what went in.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>

#include "hub/json_writer.h"

namespace wshub::hub {
namespace {

std::string literal_of(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

// The string a JSON string literal stands for, as simdjson reads it.
std::string parse_back(const std::string& literal) {
  simdjson::dom::parser parser;
  std::string_view value;
  auto error = parser.parse(literal).get(value);
  EXPECT_FALSE(error) << simdjson::error_message(error) << " in " << literal;
  return std::string(value);
}

TEST(JsonString, ShortEscapes) {
  EXPECT_EQ(literal_of(""), R"("")");
  EXPECT_EQ(literal_of("plain text"), R"("plain text")");
  EXPECT_EQ(literal_of("\""), R"("\"")");
  EXPECT_EQ(literal_of("\\"), R"("\\")");
  EXPECT_EQ(literal_of("\n\r\t\b\f"), R"("\n\r\t\b\f")");
  EXPECT_EQ(literal_of("a\"b\\c"), R"("a\"b\\c")");
  // '/' and DEL need no escape.
  EXPECT_EQ(literal_of("/\x7f"), "\"/\x7f\"");
}

TEST(JsonString, EveryControlCharacter) {
  for (int ch = 0; ch < 0x20; ++ch) {
    const std::string text(1, char(ch));
    const std::string out = literal_of(text);
    std::string expected;
    switch (ch) {
      case '\b': expected = R"("\b")"; break;
      case '\f': expected = R"("\f")"; break;
      case '\n': expected = R"("\n")"; break;
      case '\r': expected = R"("\r")"; break;
      case '\t': expected = R"("\t")"; break;
      default: {
        char hex[16];
        std::snprintf(hex, sizeof hex, "\"\\u%04x\"", ch);
        expected = hex;
      }
    }
    EXPECT_EQ(out, expected) << "character " << ch;
    EXPECT_EQ(parse_back(out), text) << "character " << ch;
  }
  // In the middle of text, next to each other.
  const std::string mixed("a\x00\x01z\x1f\"\\", 7);
  EXPECT_EQ(literal_of(mixed), R"("a\u0000\u0001z\u001f\"\\")");
  EXPECT_EQ(parse_back(literal_of(mixed)), mixed);
}

TEST(JsonString, Utf8IsCopiedAsItIs) {
  const std::string text = "caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80 \xe2\x80\xa8";
  EXPECT_EQ(literal_of(text), "\"" + text + "\"");
  EXPECT_EQ(parse_back(literal_of(text)), text);
}

// Random strings of ASCII (control characters included) and multi-byte UTF-8 parse back equal.
TEST(JsonString, RandomTextRoundTrips) {
  std::mt19937 random(12345);
  const char* pieces[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x8e\x89", "\xed\x9f\xbf", "\xef\xbf\xbf"};
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    const int length = int(random() % 40);
    for (int i = 0; i < length; ++i) {
      if (random() % 4 == 0) text += pieces[random() % std::size(pieces)];
      else text.push_back(char(random() % 0x80));
    }
    ASSERT_EQ(parse_back(literal_of(text)), text);
  }
}

TEST(JsonString, AppendsToWhatIsThere) {
  std::string out = "prefix:";
  append_json_string(out, "x");
  EXPECT_EQ(out, R"(prefix:"x")");
}

TEST(JsonWriter, ObjectsArraysAndCommas) {
  std::string out;
  JsonWriter json(out);
  json.begin_object()
      .member("s", "text")
      .member("u", uint64_t(7))
      .member("i", int64_t(-7))
      .member("b", true)
      .member("f", false)
      .key("n").null()
      .key("a").begin_array().number(uint64_t(1)).string("two").begin_object().end_object()
      .begin_array().end_array().boolean(false).null().end_array()
      .key("o").begin_object().member("x", uint32_t(4)).key("y").begin_object().end_object().end_object()
      .raw_member("r", R"({"raw": [1, 2]})")
      .end_object();
  EXPECT_EQ(out, R"({"s":"text","u":7,"i":-7,"b":true,"f":false,"n":null,"a":[1,"two",{},[],false,null],)"
                 R"("o":{"x":4,"y":{}},"r":{"raw": [1, 2]}})");
  EXPECT_EQ(&json.text(), &out);
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_FALSE(parser.parse(out).get(root));
}

TEST(JsonWriter, ArraysOfValuesAndRaw) {
  std::string out;
  JsonWriter(out).begin_array().raw("1").raw(R"("x")").string("y").raw("[]").end_array();
  EXPECT_EQ(out, R"([1,"x","y",[]])");
}

TEST(JsonWriter, KeysAreEscaped) {
  std::string out;
  JsonWriter(out).begin_object().member("a\"b\n", "v\\").end_object();
  EXPECT_EQ(out, R"({"a\"b\n":"v\\"})");
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  ASSERT_FALSE(parser.parse(out).get(object));
  std::string_view value;
  ASSERT_FALSE(object["a\"b\n"].get(value));
  EXPECT_EQ(value, "v\\");
}

TEST(JsonWriter, NumberLimits) {
  std::string out;
  JsonWriter(out)
      .begin_array()
      .number(std::numeric_limits<uint64_t>::max())
      .number(std::numeric_limits<int64_t>::min())
      .number(std::numeric_limits<int64_t>::max())
      .number(uint64_t(0))
      .number(int64_t(0))
      .end_array();
  EXPECT_EQ(out, "[18446744073709551615,-9223372036854775808,9223372036854775807,0,0]");
  simdjson::dom::parser parser;
  simdjson::dom::array array;
  ASSERT_FALSE(parser.parse(out).get(array));
  uint64_t u = 0;
  int64_t i = 0;
  ASSERT_FALSE(array.at(0).get(u));
  EXPECT_EQ(u, std::numeric_limits<uint64_t>::max());
  ASSERT_FALSE(array.at(1).get(i));
  EXPECT_EQ(i, std::numeric_limits<int64_t>::min());
}

// A writer may continue an object that someone else began (the hub appends answer fields).
TEST(JsonWriter, MembersWithoutTheBraces) {
  std::string out;
  JsonWriter(out).member("a", uint64_t(1)).member("b", "c").key("d").begin_array().end_array();
  EXPECT_EQ(out, R"("a":1,"b":"c","d":[])");
}

// Everything written, parsed back, equals what went in: strings by value, numbers by value.
TEST(JsonWriter, RoundTripThroughSimdjson) {
  std::mt19937 random(99);
  for (int round = 0; round < 500; ++round) {
    std::string key = "k", value;  // never "n"
    for (int i = int(random() % 12); i > 0; --i) key.push_back(char(random() % 0x80));
    for (int i = int(random() % 30); i > 0; --i) value.push_back(char(random() % 0x80));
    const uint64_t number = uint64_t(random()) << 32 | random();
    const int64_t negative = -int64_t(random());
    std::string out;
    JsonWriter(out).begin_object().member(key, value).key("n").begin_array().number(number).number(negative)
        .end_array().end_object();
    simdjson::dom::parser parser;
    simdjson::dom::object object;
    ASSERT_FALSE(parser.parse(out).get(object)) << out;
    auto it = object.begin();
    ASSERT_EQ(std::string((*it).key), key);
    std::string_view text;
    ASSERT_FALSE((*it).value.get(text));
    EXPECT_EQ(text, value);
    uint64_t u = 0;
    int64_t i = 0;
    ASSERT_FALSE(object["n"].at(0).get(u));
    ASSERT_FALSE(object["n"].at(1).get(i));
    EXPECT_EQ(u, number);
    EXPECT_EQ(i, negative);
  }
}

}  // namespace
}  // namespace wshub::hub
