#include "hub/channel_name.h"

namespace wshub::hub {

namespace {

bool allowed_character(char ch) {
  if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')) return true;
  switch (ch) {
    case '-': case '_': case '.': case ':': case '@': case '=': case '/': case '#': case ',': case '$':
      return true;
    default: return false;
  }
}

}  // namespace

std::string_view channel_name_error_sentence(ChannelNameError error) {
  switch (error) {
    case ChannelNameError::none: return "";
    case ChannelNameError::empty: return "the channel name is empty";
    case ChannelNameError::too_long: return "the channel name is longer than 255 bytes";
    case ChannelNameError::bad_character:
      return "the channel name has a character outside A-Z a-z 0-9 - _ . : @ = / # , $";
    case ChannelNameError::empty_part:
      return "the channel name has an empty namespace, name or user (as in 'ns:', '#' or 'a,,b')";
    case ChannelNameError::reserved_prefix:
      return "names starting with $ are personal channels ($user:ID or $device:ID) or the server's own ($admin:NAME)";
  }
  return "bad channel name";
}

bool ChannelName::allows_user(std::string_view user) const {
  std::string_view rest = users;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    if (rest.substr(0, comma) == user) return true;
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return false;
}

ChannelNameError parse_channel_name(std::string_view text, ChannelName& out) {
  out = ChannelName{};
  out.full = text;
  if (text.empty()) return ChannelNameError::empty;
  if (text.size() > kMaxChannelBytes) return ChannelNameError::too_long;
  for (char ch : text)
    if (!allowed_character(ch)) return ChannelNameError::bad_character;
  std::string_view rest = text;
  const size_t colon = rest.find(':');
  if (colon != std::string_view::npos) {
    out.ns = rest.substr(0, colon);
    rest.remove_prefix(colon + 1);
    if (out.ns.empty() || rest.empty()) return ChannelNameError::empty_part;
  }
  if (text[0] == '$') {
    // Personal channels carry the id whole: no user list, any of the allowed characters.
    if (out.ns == "$user") out.kind = ChannelKind::personal_user;
    else if (out.ns == "$device") out.kind = ChannelKind::personal_device;
    else if (out.ns == "$admin") out.kind = ChannelKind::internal;
    else return ChannelNameError::reserved_prefix;
    out.base = rest;
    return ChannelNameError::none;
  }
  if (out.ns.find('$') != std::string_view::npos || out.ns.find('#') != std::string_view::npos)
    return ChannelNameError::bad_character;
  const size_t hash = rest.find('#');
  out.base = rest.substr(0, hash);
  if (out.base.empty()) return ChannelNameError::empty_part;
  if (hash != std::string_view::npos) {
    out.users = rest.substr(hash + 1);
    out.kind = ChannelKind::user_limited;
    if (out.users.empty() || out.users.front() == ',' || out.users.back() == ',' ||
        out.users.find(",,") != std::string_view::npos || out.users.find('#') != std::string_view::npos)
      return ChannelNameError::empty_part;
  }
  return ChannelNameError::none;
}

}  // namespace wshub::hub
