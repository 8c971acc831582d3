// Channel names (docs/hub-protocol.md §Channels): `name` in the default namespace,
// `ns:name` in namespace `ns`, `ns:name#u1,u2` limited to users u1 and u2, and the personal
// channels `$user:U` (every connection of user U) and `$device:D` (the connections of device D),
// and the server's own `$admin:NAME` (what the admin page watches).
// Sans-I/O: a name in, its parts or a named error out.
#pragma once

#include <cstdint>
#include <string_view>

namespace wshub::hub {

enum class ChannelKind : uint8_t { regular, user_limited, personal_user, personal_device, internal };

enum class ChannelNameError : uint8_t {
  none,
  empty,
  too_long,
  bad_character,   // outside A-Z a-z 0-9 and - _ . : @ = / # , $ (see the doc)
  empty_part,      // "ns:" or ":name" or "name#" or "a#u1,,u2"
  reserved_prefix, // `$` starts only $user:, $device: and $admin:
};

std::string_view channel_name_error_sentence(ChannelNameError error);

struct ChannelName {
  std::string_view full;
  std::string_view ns;        // "" for the default namespace; "$user"/"$device"/"$admin"
  std::string_view base;      // the name without namespace and user list
  std::string_view users;     // "u1,u2" for a user-limited channel
  ChannelKind kind = ChannelKind::regular;

  // For a user-limited channel: whether `user` is in its list.
  bool allows_user(std::string_view user) const;
};

constexpr size_t kMaxChannelBytes = 255;

// The channel the server publishes its admin statistics to, once a second while watched. Only a
// token whose `channels` claim names it exactly (no wildcard) may subscribe; nobody publishes.
constexpr std::string_view kAdminStatsChannel = "$admin:stats";

ChannelNameError parse_channel_name(std::string_view text, ChannelName& out);

}  // namespace wshub::hub
