// Appends JSON to a string: the hub's answers, pushes, webhook bodies and API responses.
// Strings are escaped per RFC 8259 §7; raw JSON (a client's `data`, already validated) is
// copied as it is. No allocation beyond the string's own growth.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace wshub::hub {

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& begin_object() { return open('{'); }
  JsonWriter& end_object() { return close('}'); }
  JsonWriter& begin_array() { return open('['); }
  JsonWriter& end_array() { return close(']'); }
  // The key of the next member.
  JsonWriter& key(std::string_view name);
  JsonWriter& string(std::string_view value);
  JsonWriter& number(uint64_t value);
  JsonWriter& number(int64_t value);
  JsonWriter& boolean(bool value);
  JsonWriter& null();
  // Valid JSON text, copied as is.
  JsonWriter& raw(std::string_view json);

  // Shorthands for one member.
  JsonWriter& member(std::string_view name, std::string_view value) { return key(name).string(value); }
  JsonWriter& member(std::string_view name, const char* value) { return key(name).string(value); }
  JsonWriter& member(std::string_view name, uint64_t value) { return key(name).number(value); }
  JsonWriter& member(std::string_view name, uint32_t value) { return key(name).number(uint64_t(value)); }
  JsonWriter& member(std::string_view name, int64_t value) { return key(name).number(value); }
  JsonWriter& member(std::string_view name, bool value) { return key(name).boolean(value); }
  JsonWriter& raw_member(std::string_view name, std::string_view json) { return key(name).raw(json); }

  std::string& text() { return out_; }

 private:
  JsonWriter& open(char bracket);
  JsonWriter& close(char bracket);
  void separate();

  std::string& out_;
  bool need_comma_ = false;
};

// `text` as a JSON string literal, quotes included, appended to `out`.
void append_json_string(std::string& out, std::string_view text);

}  // namespace wshub::hub
