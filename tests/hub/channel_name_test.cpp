// parse_channel_name: every kind of channel with its parts, every error, the 255-byte limit, and
// allows_user on user-limited channels.
#include <gtest/gtest.h>

#include <string>

#include "hub/channel_name.h"

namespace wshub::hub {
namespace {

ChannelName parsed(std::string_view text) {
  ChannelName name;
  EXPECT_EQ(parse_channel_name(text, name), ChannelNameError::none) << text;
  EXPECT_EQ(name.full, text);
  return name;
}

void expect_error(std::string_view text, ChannelNameError error) {
  ChannelName name;
  EXPECT_EQ(parse_channel_name(text, name), error) << text;
  EXPECT_FALSE(channel_name_error_sentence(error).empty());
}

TEST(ChannelName, Regular) {
  ChannelName name = parsed("news");
  EXPECT_EQ(name.kind, ChannelKind::regular);
  EXPECT_EQ(name.ns, "");
  EXPECT_EQ(name.base, "news");
  EXPECT_EQ(name.users, "");

  name = parsed("chat:room-1");
  EXPECT_EQ(name.kind, ChannelKind::regular);
  EXPECT_EQ(name.ns, "chat");
  EXPECT_EQ(name.base, "room-1");

  // Only the first ':' separates the namespace.
  name = parsed("a:b:c");
  EXPECT_EQ(name.ns, "a");
  EXPECT_EQ(name.base, "b:c");

  // Every allowed character.
  name = parsed("Az09-_.@=/,$");
  EXPECT_EQ(name.base, "Az09-_.@=/,$");
  EXPECT_EQ(name.kind, ChannelKind::regular);
}

TEST(ChannelName, UserLimited) {
  ChannelName name = parsed("dm:talk#alice,bob");
  EXPECT_EQ(name.kind, ChannelKind::user_limited);
  EXPECT_EQ(name.ns, "dm");
  EXPECT_EQ(name.base, "talk");
  EXPECT_EQ(name.users, "alice,bob");

  name = parsed("talk#alice");
  EXPECT_EQ(name.kind, ChannelKind::user_limited);
  EXPECT_EQ(name.ns, "");
  EXPECT_EQ(name.users, "alice");
}

TEST(ChannelName, AllowsUser) {
  ChannelName name = parsed("dm:talk#alice,bob,carol");
  EXPECT_TRUE(name.allows_user("alice"));
  EXPECT_TRUE(name.allows_user("bob"));
  EXPECT_TRUE(name.allows_user("carol"));
  EXPECT_FALSE(name.allows_user("ali"));
  EXPECT_FALSE(name.allows_user("alicex"));
  EXPECT_FALSE(name.allows_user("alice,bob"));
  EXPECT_FALSE(name.allows_user(""));
  EXPECT_FALSE(name.allows_user("dave"));
  // A channel without a user list allows nobody by list.
  EXPECT_FALSE(parsed("room").allows_user("alice"));
  EXPECT_FALSE(parsed("room").allows_user(""));
}

TEST(ChannelName, Personal) {
  ChannelName name = parsed("$user:alice");
  EXPECT_EQ(name.kind, ChannelKind::personal_user);
  EXPECT_EQ(name.ns, "$user");
  EXPECT_EQ(name.base, "alice");

  name = parsed("$device:phone-1");
  EXPECT_EQ(name.kind, ChannelKind::personal_device);
  EXPECT_EQ(name.ns, "$device");
  EXPECT_EQ(name.base, "phone-1");

  // The id is taken whole: '#', ':' and ',' are part of it, not a user list.
  name = parsed("$user:a#b,c:d");
  EXPECT_EQ(name.kind, ChannelKind::personal_user);
  EXPECT_EQ(name.base, "a#b,c:d");
  EXPECT_EQ(name.users, "");
}

TEST(ChannelName, Empty) { expect_error("", ChannelNameError::empty); }

TEST(ChannelName, Length) {
  parsed(std::string(255, 'a'));
  expect_error(std::string(256, 'a'), ChannelNameError::too_long);
  expect_error("ns:" + std::string(253, 'a'), ChannelNameError::too_long);
  parsed("ns:" + std::string(252, 'a'));
}

TEST(ChannelName, BadCharacters) {
  for (std::string_view text : {"a b", "a!", "a\"", "a*", "a+b", "a?", "a\\b", "a%20", "a\n", "a\t",
                                "caf\xc3\xa9", "a\x7f", "[a]", "{a}", "a'b", "a;b", "a|b", "~a", "a&b"})
    expect_error(text, ChannelNameError::bad_character);
  expect_error(std::string_view("a\0b", 3), ChannelNameError::bad_character);
  // '$' and '#' may not appear in a namespace.
  expect_error("n$s:a", ChannelNameError::bad_character);
  expect_error("n#s:a", ChannelNameError::bad_character);
}

TEST(ChannelName, EmptyParts) {
  for (std::string_view text : {"ns:", ":name", ":", "name#", "ns:#a", "#a", "a#u1,,u2", "a#,u1",
                                "a#u1,", "a#,", "$user:", "$device:", "ns:a#u1#u2"})
    expect_error(text, ChannelNameError::empty_part);
}

TEST(ChannelName, ReservedPrefix) {
  for (std::string_view text : {"$", "$user", "$users:a", "$foo:bar", "$device", "$a", "$User:x", "$Admin:x", "$admin"})
    expect_error(text, ChannelNameError::reserved_prefix);
}

TEST(ChannelName, AdminChannelsAreTheServersOwn) {
  ChannelName name;
  ASSERT_EQ(parse_channel_name(kAdminStatsChannel, name), ChannelNameError::none);
  EXPECT_EQ(name.kind, ChannelKind::internal);
  EXPECT_EQ(name.ns, "$admin");
  EXPECT_EQ(name.base, "stats");
  expect_error("$admin:", ChannelNameError::empty_part);
}

TEST(ChannelName, ParseResetsTheOutput) {
  ChannelName name;
  ASSERT_EQ(parse_channel_name("dm:x#a", name), ChannelNameError::none);
  ASSERT_EQ(parse_channel_name("plain", name), ChannelNameError::none);
  EXPECT_EQ(name.kind, ChannelKind::regular);
  EXPECT_EQ(name.users, "");
  EXPECT_EQ(name.ns, "");
  EXPECT_EQ(parse_channel_name("bad name", name), ChannelNameError::bad_character);
  EXPECT_EQ(name.full, "bad name");
  EXPECT_EQ(name.base, "");
}

TEST(ChannelName, Sentences) {
  EXPECT_EQ(channel_name_error_sentence(ChannelNameError::none), "");
  for (ChannelNameError error : {ChannelNameError::empty, ChannelNameError::too_long,
                                 ChannelNameError::bad_character, ChannelNameError::empty_part,
                                 ChannelNameError::reserved_prefix})
    EXPECT_FALSE(channel_name_error_sentence(error).empty());
}

}  // namespace
}  // namespace wshub::hub
