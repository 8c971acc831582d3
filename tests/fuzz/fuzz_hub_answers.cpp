// libFuzzer target for the hub's other readers of outside text: channel names, the backend's
// webhook answers and connect's `subs`, and (for text that is valid UTF-8) the JSON string writer.
// Input layout: byte 0 % 6 chooses the reader — 0 parse_channel_name, 1 read_connect_answer,
// 2 read_rpc_answer, 3 read_decision_answer, 4 read_connect_subs (byte 1 is the entry limit),
// 5 append_json_string; the rest, in a heap block of exactly its size, is the text.
// What must hold: a channel name that parses is made of its parts again, has only the allowed
// characters and is at most 255 bytes, and each error names the rule broken; a reader that
// refuses says why and one that accepts gives typed values in range and JSON that parses; an
// escaped string parses back to itself.
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hub/backend_answers.h"
#include "hub/channel_name.h"
#include "hub/json_writer.h"

namespace {

using namespace wshub::hub;
namespace dom = simdjson::dom;

#define FUZZ_CHECK(cond)                                                            \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

bool allowed(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::strchr("-_.:@=/#,$", c) != nullptr;
}

bool parses(std::string_view json) {
  dom::parser parser;
  dom::element element;
  return !parser.parse(std::string(json)).get(element);
}

void check_channel_name(std::string_view text) {
  ChannelName name;
  const ChannelNameError error = parse_channel_name(text, name);
  FUZZ_CHECK(name.full == text);
  bool all_allowed = true;
  for (char c : text) all_allowed = all_allowed && c != '\0' && allowed(c);
  switch (error) {
    case ChannelNameError::empty: FUZZ_CHECK(text.empty()); return;
    case ChannelNameError::too_long: FUZZ_CHECK(text.size() > kMaxChannelBytes); return;
    case ChannelNameError::bad_character: {
      // A character outside the set, or '$' or '#' in a namespace.
      const size_t colon = text.find(':');
      const std::string_view ns = text.substr(0, colon == std::string_view::npos ? 0 : colon);
      FUZZ_CHECK(!all_allowed || ns.find_first_of("$#") != std::string_view::npos);
      return;
    }
    case ChannelNameError::reserved_prefix: FUZZ_CHECK(text[0] == '$'); return;
    case ChannelNameError::empty_part: return;
    case ChannelNameError::none: break;
  }
  FUZZ_CHECK(!text.empty() && text.size() <= kMaxChannelBytes && all_allowed);
  FUZZ_CHECK(!name.base.empty());
  std::string rebuilt;
  if (!name.ns.empty()) rebuilt.append(name.ns).append(":");
  rebuilt.append(name.base);
  switch (name.kind) {
    case ChannelKind::personal_user: FUZZ_CHECK(name.ns == "$user" && name.users.empty()); break;
    case ChannelKind::personal_device: FUZZ_CHECK(name.ns == "$device" && name.users.empty()); break;
    case ChannelKind::internal: FUZZ_CHECK(name.ns == "$admin" && name.users.empty()); break;
    case ChannelKind::regular:
      FUZZ_CHECK(name.users.empty() && text[0] != '$');
      FUZZ_CHECK(name.base.find('#') == std::string_view::npos);
      break;
    case ChannelKind::user_limited: {
      FUZZ_CHECK(!name.users.empty() && text[0] != '$');
      rebuilt.append("#").append(name.users);
      // Every listed user is allowed; a list of two is not a user.
      std::string_view rest = name.users;
      for (;;) {
        const size_t comma = rest.find(',');
        const std::string_view user = rest.substr(0, comma);
        FUZZ_CHECK(!user.empty() && name.allows_user(user));
        if (comma == std::string_view::npos) break;
        FUZZ_CHECK(!name.allows_user(rest));
        rest.remove_prefix(comma + 1);
      }
      FUZZ_CHECK(!name.allows_user(""));
      break;
    }
  }
  FUZZ_CHECK(name.ns.find('#') == std::string_view::npos);
  FUZZ_CHECK(rebuilt == text);
}

void check_refusal(const BackendRefusal& refusal) {
  if (refusal.present) FUZZ_CHECK(refusal.code >= 1 && refusal.code <= 65535);
}

void check_connect(std::string_view body) {
  Identity identity;
  BackendRefusal refusal;
  std::string problem;
  if (!read_connect_answer(body, identity, refusal, problem)) {
    FUZZ_CHECK(!problem.empty());
    return;
  }
  check_refusal(refusal);
  if (refusal.present) return;
  FUZZ_CHECK(identity.expires_ms >= 0 && identity.expires_ms % 1000 == 0);
  if (!identity.info_json.empty()) FUZZ_CHECK(identity.info_json[0] == '{' && parses(identity.info_json));
  for (const std::string& channel : identity.channels) FUZZ_CHECK(simdjson::validate_utf8(channel.data(), channel.size()));
}

// The reference reading of an answer: a JSON object (within the readers' depth of 64) without
// an `error` key, and its `data` (or `result.data`) minified, "" when absent.
bool plain_object(std::string_view body, bool in_result, std::string& data) {
  dom::parser parser;
  dom::element root;
  if (parser.parse(std::string(body)).get(root) || !root.is_object()) return false;
  dom::object object(root);
  dom::element ignored, value;
  if (!object["error"].get(ignored)) return false;
  size_t depth = 0;
  for (char c : body) depth += c == '{' || c == '[';
  if (depth > 60) return false;  // a cheap bound: the readers refuse past 64 levels
  dom::object result;
  if (in_result) {
    if (!object["result"].get(result) && !result["data"].get(value)) data = simdjson::minify(value);
  } else if (!object["data"].get(value)) {
    data = simdjson::minify(value);
  }
  return true;
}

void check_rpc(std::string_view body) {
  std::string data;
  BackendRefusal refusal;
  std::string problem;
  std::string expected;
  const bool plain = plain_object(body, false, expected);
  if (!read_rpc_answer(body, data, refusal, problem)) {
    FUZZ_CHECK(!problem.empty() && !plain);
    return;
  }
  check_refusal(refusal);
  if (!refusal.present) FUZZ_CHECK(parses(data));
  if (plain) FUZZ_CHECK(!refusal.present && data == (expected.empty() ? "null" : expected));
}

void check_decision(std::string_view body) {
  bool replaced = true;
  std::string data;
  BackendRefusal refusal;
  std::string problem;
  std::string expected;
  const bool plain = plain_object(body, true, expected);
  if (!read_decision_answer(body, replaced, data, refusal, problem)) {
    FUZZ_CHECK(!problem.empty() && !plain);
    return;
  }
  if (plain) FUZZ_CHECK(!refusal.present && replaced == !expected.empty() && (!replaced || data == expected));
  check_refusal(refusal);
  if (replaced) FUZZ_CHECK(!refusal.present && parses(data));
}

void check_subs(std::string_view json, size_t max) {
  std::vector<SubsEntry> entries(3);  // the reader starts from an empty list
  std::string problem;
  if (!read_connect_subs(json, max, entries, problem)) {
    FUZZ_CHECK(!problem.empty());
    return;
  }
  FUZZ_CHECK(entries.size() <= max);
  if (json.empty()) FUZZ_CHECK(entries.empty());
  for (const SubsEntry& entry : entries) {
    if (!entry.has_since) FUZZ_CHECK(entry.epoch.empty() && entry.offset == 0);
  }
}

void check_json_string(std::string_view text) {
  if (!simdjson::validate_utf8(text.data(), text.size())) return;
  std::string one;
  append_json_string(one, text);
  dom::parser parser;
  std::string_view back;
  FUZZ_CHECK(!parser.parse(one).get(back));
  FUZZ_CHECK(back == text);
  for (char c : one) FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20);
  std::string object;
  JsonWriter(object).begin_object().member(text, text).end_object();
  dom::object parsed;
  FUZZ_CHECK(!parser.parse(object).get(parsed));
  for (dom::key_value_pair field : parsed) {
    FUZZ_CHECK(field.key == text);
    FUZZ_CHECK(!field.value.get(back) && back == text);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t which = data[0] % 6;
  if (which == 4 && size < 2) return 0;
  const size_t skip = which == 4 ? 2 : 1;
  const size_t max = which == 4 ? data[1] : 0;
  std::unique_ptr<char[]> block(new char[size - skip ? size - skip : 1]);
  std::memcpy(block.get(), data + skip, size - skip);
  const std::string_view text(block.get(), size - skip);
  switch (which) {
    case 0: check_channel_name(text); break;
    case 1: check_connect(text); break;
    case 2: check_rpc(text); break;
    case 3: check_decision(text); break;
    case 4: check_subs(text, max); break;
    case 5: check_json_string(text); break;
  }
  return 0;
}
