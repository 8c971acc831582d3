#include "hub/json_validate.h"

namespace wshub::hub {

namespace od = simdjson::ondemand;

namespace {

std::string_view trim_right(std::string_view token) {
  while (!token.empty() && (token.back() == ' ' || token.back() == '\n' || token.back() == '\r' || token.back() == '\t'))
    token.remove_suffix(1);
  return token;
}

simdjson::error_code walk(od::value value, size_t depth, size_t max_depth) {
  if (depth > max_depth) return simdjson::DEPTH_ERROR;
  od::json_type type;
  if (auto error = value.type().get(type)) return error;
  switch (type) {
    case od::json_type::object: {
      od::object object;
      if (auto error = value.get_object().get(object)) return error;
      for (auto field : object) {
        std::string_view key;
        if (auto error = field.unescaped_key().get(key)) return error;
        od::value inner;
        if (auto error = field.value().get(inner)) return error;
        if (auto error = walk(inner, depth + 1, max_depth)) return error;
      }
      return simdjson::SUCCESS;
    }
    case od::json_type::array: {
      od::array array;
      if (auto error = value.get_array().get(array)) return error;
      for (auto element : array) {
        od::value inner;
        if (auto error = element.get(inner)) return error;
        if (auto error = walk(inner, depth + 1, max_depth)) return error;
      }
      return simdjson::SUCCESS;
    }
    case od::json_type::string: {
      std::string_view text;
      return value.get_string().get(text);
    }
    case od::json_type::number:
      return is_json_number(trim_right(value.raw_json_token())) ? simdjson::SUCCESS : simdjson::NUMBER_ERROR;
    case od::json_type::boolean: {
      bool flag = false;
      return value.get_bool().get(flag);
    }
    case od::json_type::null: {
      bool null = false;
      if (auto error = value.is_null().get(null)) return error;
      return null ? simdjson::SUCCESS : simdjson::N_ATOM_ERROR;
    }
  }
  return simdjson::TAPE_ERROR;
}

}  // namespace

bool is_json_number(std::string_view t) {
  size_t i = 0;
  auto digit = [&](size_t at) { return at < t.size() && t[at] >= '0' && t[at] <= '9'; };
  if (i < t.size() && t[i] == '-') ++i;
  if (!digit(i)) return false;
  if (t[i] == '0') ++i;
  else
    while (digit(i)) ++i;
  if (i < t.size() && t[i] == '.') {
    ++i;
    if (!digit(i)) return false;
    while (digit(i)) ++i;
  }
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
    if (!digit(i)) return false;
    while (digit(i)) ++i;
  }
  return i == t.size();
}

JsonVerdict validate_json(od::parser& parser, const std::string& padded, size_t size, size_t max_depth,
                          JsonShape& shape, std::string_view& what) {
  shape = {};
  od::document document;
  simdjson::error_code error = parser.iterate(padded.data(), size, padded.size()).get(document);
  od::json_type type{};
  if (!error) error = document.type().get(type);
  if (!error && type != od::json_type::object && type != od::json_type::array) {
    // A lone scalar (rare, and refused either way): valid JSON, or not JSON at all?
    thread_local simdjson::dom::parser scalars;
    simdjson::dom::element element;
    const simdjson::error_code scalar_error = scalars.parse(padded.data(), size, false).get(element);
    const bool big_number = scalar_error == simdjson::NUMBER_ERROR &&
                            is_json_number(trim_right(std::string_view(padded.data(), size)).substr(
                                std::string_view(padded.data(), size).find_first_not_of(" \t\r\n")));
    if (!scalar_error || big_number) return JsonVerdict::not_container;
    what = simdjson::error_message(scalar_error);
    return JsonVerdict::not_json;
  }
  if (!error) {
    od::value root;
    error = document.get_value().get(root);
    if (!error && type == od::json_type::array) {
      od::array array;
      error = root.get_array().get(array);
      for (auto element : array) {
        if (error) break;
        od::value inner;
        error = element.get(inner);
        if (!error) error = walk(inner, 2, max_depth);
        ++shape.elements;
      }
      shape.is_array = true;
    } else if (!error) {
      error = walk(root, 1, max_depth);
    }
  }
  // Every token was walked: anything left is content after the value.
  if (!error && document.current_location().error() != simdjson::OUT_OF_BOUNDS) error = simdjson::TRAILING_CONTENT;
  if (!error) return JsonVerdict::ok;
  what = simdjson::error_message(error);
  return error == simdjson::DEPTH_ERROR ? JsonVerdict::too_deep : JsonVerdict::not_json;
}

}  // namespace wshub::hub
