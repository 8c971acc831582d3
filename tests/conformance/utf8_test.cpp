// Autobahn group 6 (UTF-8 handling, RFC 6455 §8.1 and RFC 3629): valid text in any script and
// at every code point boundary is echoed byte for byte however it is fragmented; every invalid
// sequence fails the connection with 1007, whether sent whole or byte by byte, and fails it
// fast: as soon as the bad byte arrives, without waiting for the message's final fragment.
#include <string>
#include <vector>

#include "conformance.h"

namespace wshub::test {
namespace {

using namespace std::chrono_literals;
using proto::Opcode;

struct Utf8Case {
  const char* name;  // the Autobahn case, then what the bytes are
  std::string bytes;
};

std::ostream& operator<<(std::ostream& os, const Utf8Case& c) { return os << c.name; }

std::string case_name(const ::testing::TestParamInfo<Utf8Case>& info) { return info.param.name; }

const std::string kKosme = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5";  // κόσμε

std::vector<Utf8Case> valid_cases() {
  return {
      {"c6_2_1_latin", "Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!"},
      {"c6_5_1_greek_kosme", kKosme},
      {"c6_7_1_first_1byte_nul", std::string("\x00", 1)},
      {"c6_7_2_first_2byte", "\xc2\x80"},
      {"c6_7_3_first_3byte", "\xe0\xa0\x80"},
      {"c6_7_4_first_4byte", "\xf0\x90\x80\x80"},
      {"c6_9_1_last_1byte", "\x7f"},
      {"c6_9_2_last_2byte", "\xdf\xbf"},
      {"c6_9_3_last_3byte", "\xef\xbf\xbf"},
      {"c6_9_4_last_4byte_U10FFFF", "\xf4\x8f\xbf\xbf"},
      {"c6_11_1_UD7FF", "\xed\x9f\xbf"},
      {"c6_11_2_UE000", "\xee\x80\x80"},
      {"c6_11_3_UFFFD", "\xef\xbf\xbd"},
      {"c6_22_noncharacter_UFFFE", "\xef\xbf\xbe"},
      {"c6_22_noncharacter_UFDD0", "\xef\xb7\x90"},
      {"c6_22_noncharacter_U1FFFE", "\xf0\x9f\xbf\xbe"},
      {"c6_22_noncharacter_U10FFFE", "\xf4\x8f\xbf\xbe"},
      {"c6_23_byte_order_mark", "\xef\xbb\xbf"},
      {"chinese", "\xe4\xbd\xa0\xe5\xa5\xbd\xef\xbc\x8c\xe4\xb8\x96\xe7\x95\x8c"},
      {"japanese", "\xe3\x81\x93\xe3\x82\x93\xe3\x81\xab\xe3\x81\xa1\xe3\x81\xaf"},
      {"russian", "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82"},
      {"arabic", "\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7"},
      {"hindi", "\xe0\xa4\xa8\xe0\xa4\xae\xe0\xa4\xb8\xe0\xa5\x8d\xe0\xa4\xa4\xe0\xa5\x87"},
      {"emoji", "\xf0\x9f\x98\x80\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd"},
      {"mixed_scripts", "a\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e z\xe4\xbd\xa0\xce\xba"},
  };
}

std::vector<Utf8Case> invalid_cases() {
  return {
      {"c6_3_1_surrogate_in_text", kKosme + "\xed\xa0\x80" + "edited"},
      {"c6_6_1_truncated_2byte", "\xce"},
      {"c6_6_3_truncated_3byte", "\xce\xba\xe1"},
      {"c6_6_4_truncated_3byte_2", "\xce\xba\xe1\xbd"},
      {"c6_6_truncated_kosme_end", kKosme.substr(0, kKosme.size() - 1)},
      {"c6_8_1_5byte_first", "\xf8\x88\x80\x80\x80"},
      {"c6_8_2_6byte_first", "\xfc\x84\x80\x80\x80\x80"},
      {"c6_10_1_4byte_last_above_max", "\xf7\xbf\xbf\xbf"},
      {"c6_10_2_5byte_last", "\xfb\xbf\xbf\xbf\xbf"},
      {"c6_10_3_6byte_last", "\xfd\xbf\xbf\xbf\xbf\xbf"},
      {"c6_11_5_U110000", "\xf4\x90\x80\x80"},
      {"c6_12_1_lone_continuation_80", "\x80"},
      {"c6_12_2_lone_continuation_BF", "\xbf"},
      {"c6_12_3_two_continuations", "\x80\xbf"},
      {"c6_12_4_three_continuations", "\x80\xbf\x80"},
      {"c6_12_8_all_continuations",
       [] {
         std::string s;
         for (int b = 0x80; b <= 0xbf; ++b) s.push_back(char(b));
         return s;
       }()},
      {"c6_13_1_lonely_2byte_starts",
       [] {
         std::string s;
         for (int b = 0xc0; b <= 0xdf; ++b) s += std::string(1, char(b)) + " ";
         return s;
       }()},
      {"c6_13_2_lonely_3byte_starts",
       [] {
         std::string s;
         for (int b = 0xe0; b <= 0xef; ++b) s += std::string(1, char(b)) + " ";
         return s;
       }()},
      {"c6_13_3_lonely_4byte_starts", "\xf0 \xf1 \xf2 \xf3 \xf4 \xf5 \xf6 \xf7 "},
      {"c6_13_4_lonely_5byte_starts", "\xf8 \xf9 \xfa \xfb "},
      {"c6_13_5_lonely_6byte_starts", "\xfc \xfd "},
      {"c6_14_1_C0_missing_last", "\xc0"},
      {"c6_14_2_E0_80_missing_last", "\xe0\x80"},
      {"c6_14_3_F0_80_80_missing_last", "\xf0\x80\x80"},
      {"c6_14_6_DF_missing_last", "\xdf"},
      {"c6_14_7_EF_BF_missing_last", "\xef\xbf"},
      {"c6_14_8_F7_BF_BF_missing_last", "\xf7\xbf\xbf"},
      {"truncated_valid_2byte_start", "\xc2"},
      {"truncated_valid_3byte_start", "\xe0\xa0"},
      {"truncated_valid_4byte_start", "\xf0\x90\x80"},
      {"truncated_after_ascii", "abc\xf4\x8f\xbf"},
      {"c6_15_1_concatenated_incomplete",
       "\xc0\xe0\x80\xf0\x80\x80\xf8\x80\x80\x80\xfc\x80\x80\x80\x80\xdf\xef\xbf\xf7\xbf\xbf"
       "\xfb\xbf\xbf\xbf\xfd\xbf\xbf\xbf\xbf"},
      {"c6_16_1_FE", "\xfe"},
      {"c6_16_2_FF", "\xff"},
      {"c6_16_3_FE_FE_FF_FF", "\xfe\xfe\xff\xff"},
      {"c6_17_1_overlong_slash_2byte", "\xc0\xaf"},
      {"c6_17_2_overlong_slash_3byte", "\xe0\x80\xaf"},
      {"c6_17_3_overlong_slash_4byte", "\xf0\x80\x80\xaf"},
      {"c6_17_4_overlong_slash_5byte", "\xf8\x80\x80\x80\xaf"},
      {"c6_17_5_overlong_slash_6byte", "\xfc\x80\x80\x80\x80\xaf"},
      {"c6_18_1_max_overlong_2byte", "\xc1\xbf"},
      {"c6_18_2_max_overlong_3byte", "\xe0\x9f\xbf"},
      {"c6_18_3_max_overlong_4byte", "\xf0\x8f\xbf\xbf"},
      {"c6_18_4_max_overlong_5byte", "\xf8\x87\xbf\xbf\xbf"},
      {"c6_18_5_max_overlong_6byte", "\xfc\x83\xbf\xbf\xbf\xbf"},
      {"c6_19_1_overlong_nul_2byte", "\xc0\x80"},
      {"c6_19_2_overlong_nul_3byte", "\xe0\x80\x80"},
      {"c6_19_3_overlong_nul_4byte", "\xf0\x80\x80\x80"},
      {"c6_19_4_overlong_nul_5byte", "\xf8\x80\x80\x80\x80"},
      {"c6_19_5_overlong_nul_6byte", "\xfc\x80\x80\x80\x80\x80"},
      {"c6_20_1_surrogate_UD800", "\xed\xa0\x80"},
      {"c6_20_2_surrogate_UDB7F", "\xed\xad\xbf"},
      {"c6_20_3_surrogate_UDB80", "\xed\xae\x80"},
      {"c6_20_4_surrogate_UDBFF", "\xed\xaf\xbf"},
      {"c6_20_5_surrogate_UDC00", "\xed\xb0\x80"},
      {"c6_20_6_surrogate_UDF80", "\xed\xbe\x80"},
      {"c6_20_7_surrogate_UDFFF", "\xed\xbf\xbf"},
      {"c6_21_1_pair_UD800_UDC00", "\xed\xa0\x80\xed\xb0\x80"},
      {"c6_21_2_pair_UD800_UDFFF", "\xed\xa0\x80\xed\xbf\xbf"},
      {"c6_21_3_pair_UDB7F_UDC00", "\xed\xad\xbf\xed\xb0\x80"},
      {"c6_21_4_pair_UDB7F_UDFFF", "\xed\xad\xbf\xed\xbf\xbf"},
      {"c6_21_5_pair_UDB80_UDC00", "\xed\xae\x80\xed\xb0\x80"},
      {"c6_21_6_pair_UDB80_UDFFF", "\xed\xae\x80\xed\xbf\xbf"},
      {"c6_21_7_pair_UDBFF_UDC00", "\xed\xaf\xbf\xed\xb0\x80"},
      {"c6_21_8_pair_UDBFF_UDFFF", "\xed\xaf\xbf\xed\xbf\xbf"},
  };
}

// Each byte of `payload` in its own frame: text first, then continuations, FIN on the last.
WireBytes one_frame_per_byte(std::string_view payload) {
  return encode_fragmented(Opcode::text, payload, 1);
}

class Utf8Valid : public ConformanceTest, public ::testing::WithParamInterface<Utf8Case> {};

// Cases 6.2.1, 6.5, 6.7, 6.9, 6.11, 6.22, 6.23 in one frame.
TEST_P(Utf8Valid, EchoedInOneFrame) {
  auto client = connect();
  ASSERT_TRUE(client->send_text(GetParam().bytes));
  EXPECT_TRUE(receives_text(*client, GetParam().bytes));
  EXPECT_TRUE(closes_cleanly(*client));
}

// Case 6.2.3 and 6.6: one frame per byte, so every code point is split across frames.
TEST_P(Utf8Valid, EchoedFromOneFramePerByte) {
  auto client = connect();
  ASSERT_TRUE(client->send_raw(one_frame_per_byte(GetParam().bytes)));
  EXPECT_TRUE(receives_text(*client, GetParam().bytes));
  EXPECT_TRUE(closes_cleanly(*client));
}

// Case 6.2.2: two fragments split at every possible point.
TEST_P(Utf8Valid, EchoedFromTwoFragmentsSplitAnywhere) {
  auto client = connect();
  const std::string& text = GetParam().bytes;
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    SCOPED_TRACE("split at " + std::to_string(cut));
    ASSERT_TRUE(client->send_text(std::string_view(text).substr(0, cut), false));
    ASSERT_TRUE(client->send_continuation(std::string_view(text).substr(cut)));
    ASSERT_TRUE(receives_text(*client, text));
  }
  EXPECT_TRUE(closes_cleanly(*client));
}

// Case 6.2.4 style: one frame whose bytes arrive one read at a time.
TEST_P(Utf8Valid, EchoedFromOneFrameSentByteByByte) {
  auto client = connect();
  ASSERT_TRUE(client->send_chunked(encode_frame({.payload = GetParam().bytes}), 1));
  EXPECT_TRUE(receives_text(*client, GetParam().bytes));
  EXPECT_TRUE(closes_cleanly(*client));
}

INSTANTIATE_TEST_SUITE_P(Autobahn6, Utf8Valid, ::testing::ValuesIn(valid_cases()), case_name);

class Utf8Invalid : public ConformanceTest, public ::testing::WithParamInterface<Utf8Case> {};

// Cases 6.3.1, 6.6, 6.8, 6.10, 6.11.5, 6.12-6.21: the sequence as a whole text message.
TEST_P(Utf8Invalid, OneFrameFailsWith1007) {
  auto client = connect();
  ASSERT_TRUE(client->send_text(GetParam().bytes));
  EXPECT_TRUE(closes_with(*client, 1007));
}

// Case 6.3.2: one frame per byte, all in one write.
TEST_P(Utf8Invalid, OneFramePerByteFailsWith1007) {
  auto client = connect();
  // The server may close before the last frames: only its answer matters.
  client->send_raw(one_frame_per_byte(GetParam().bytes));
  EXPECT_TRUE(closes_with(*client, 1007));
}

// Cases 6.4.1-6.4.2: fail fast across fragments. A valid first fragment, then one holding the
// sequence and a following ASCII byte (which makes a truncated sequence invalid right there),
// and the final fragment is never sent: the close must come without it.
TEST_P(Utf8Invalid, FailsFastBeforeTheFinalFragment) {
  auto client = connect();
  ASSERT_TRUE(client->send_text(kKosme, /*fin=*/false));
  ASSERT_TRUE(client->send_continuation(GetParam().bytes + "z", /*fin=*/false));
  EXPECT_TRUE(closes_with(*client, 1007));
}

// Cases 6.4.3-6.4.4: fail fast inside one frame. The frame announces more bytes than are sent;
// the close must come as soon as the sequence arrived, not when the frame would be complete.
TEST_P(Utf8Invalid, FailsFastBeforeTheFrameIsComplete) {
  auto client = connect();
  const std::string sent = kKosme + GetParam().bytes + "z";
  FrameSpec spec{.payload = sent, .declared_length = sent.size() + 1000};
  const WireBytes bytes = encode_frame(spec);
  ASSERT_TRUE(client->send_chunked(bytes, kKosme.size() + 6, 10ms));
  EXPECT_TRUE(closes_with(*client, 1007));
}

INSTANTIATE_TEST_SUITE_P(Autobahn6, Utf8Invalid, ::testing::ValuesIn(invalid_cases()), case_name);

class Utf8 : public ConformanceTest {};

// Case 6.1.1-6.1.3: empty text, and text made of empty fragments around a middle one.
TEST_F(Utf8, EmptyTextAndEmptyFragments) {
  auto client = connect();
  ASSERT_TRUE(client->send_text(""));
  EXPECT_TRUE(receives_text(*client, ""));
  WireBytes bytes = encode_frame({.payload = "", .fin = false});
  append(bytes, encode_frame({.opcode = 0, .payload = "middle frame payload", .fin = false}));
  append(bytes, encode_frame({.opcode = 0, .payload = ""}));
  ASSERT_TRUE(client->send_raw(bytes));
  EXPECT_TRUE(receives_text(*client, "middle frame payload"));
  EXPECT_TRUE(closes_cleanly(*client));
}

// A large multilingual message in fragments whose edges fall inside code points.
TEST_F(Utf8, LargeTextInOddFragmentsEchoedExactly) {
  auto client = connect();
  const std::string text = utf8_text(300000);
  ASSERT_TRUE(client->send_raw(encode_fragmented(Opcode::text, text, 4097)));
  EXPECT_TRUE(receives_text(*client, text));
  EXPECT_TRUE(closes_cleanly(*client));
}

// Case 6.4.1 exactly: "κόσμε", then U+110000 in its own fragment, then "edited" after a pause.
// The server's close must be there before the last fragment goes out.
TEST_F(Utf8, FailFastAutobahn641) {
  auto client = connect();
  ASSERT_TRUE(client->send_text(kKosme, false));
  ASSERT_TRUE(client->send_continuation("\xf4\x90\x80\x80", false));
  const Incoming close = client->next();
  EXPECT_EQ(close.kind, Incoming::Kind::close) << close;
  EXPECT_EQ(close.close_code, 1007) << close;
  client->send_continuation("edited");
  EXPECT_TRUE(server_closes_tcp(*client));
}

// Binary messages are not UTF-8 and are never checked.
TEST_F(Utf8, InvalidUtf8InBinaryIsEchoed) {
  auto client = connect();
  const std::string bytes = "\xff\xfe\xed\xa0\x80\xc0\x80";
  ASSERT_TRUE(client->send_binary(bytes));
  EXPECT_TRUE(receives_binary(*client, bytes));
  EXPECT_TRUE(closes_cleanly(*client));
}

}  // namespace
}  // namespace wshub::test
