#include "api/json_body.h"

#include <simdjson.h>

#include "hub/json_validate.h"

namespace wshub::api {

namespace od = simdjson::ondemand;

namespace {

constexpr size_t kMaxDepth = 64;

std::string_view trim_right(std::string_view text) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\n' || text.back() == '\r' || text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

}  // namespace

// The body is validated whole once (numbers by their grammar, so big ones pass untouched);
// each field is then found with a fresh on-demand pass over it: bodies are small and a request
// reads a handful of fields.
struct JsonBody::Impl {
  od::parser parser;
  std::string padded;
  size_t size = 0;

  // The first occurrence of `key` in the top-level object, or an error.
  simdjson::error_code find(std::string_view key, od::document& document, od::value& out) {
    if (auto error = parser.iterate(padded.data(), size, padded.size()).get(document)) return error;
    od::object object;
    if (auto error = document.get_object().get(object)) return error;
    for (auto field : object) {
      std::string_view name;
      if (auto error = field.unescaped_key().get(name)) return error;
      if (name != key) continue;
      return field.value().get(out);
    }
    return simdjson::NO_SUCH_FIELD;
  }
};

JsonBody::JsonBody() : impl_(std::make_unique<Impl>()) {}
JsonBody::~JsonBody() = default;

bool JsonBody::parse(std::string_view body, std::string& problem) {
  impl_->padded.assign(body);
  impl_->padded.append(simdjson::SIMDJSON_PADDING, ' ');
  impl_->size = body.size();
  hub::JsonShape shape;
  std::string_view what;
  switch (hub::validate_json(impl_->parser, impl_->padded, body.size(), kMaxDepth, shape, what)) {
    case hub::JsonVerdict::ok:
      if (!shape.is_array) return true;
      [[fallthrough]];
    case hub::JsonVerdict::not_container: problem = "the body must be a JSON object"; return false;
    case hub::JsonVerdict::too_deep:
    case hub::JsonVerdict::not_json:
      problem = std::string("the body is not JSON: ") + std::string(what);
      return false;
  }
  return false;
}

JsonBody::Field JsonBody::string(std::string_view key, std::string& out) const {
  od::document document;
  od::value value;
  if (impl_->find(key, document, value)) return Field::missing;
  std::string_view text;
  if (value.get_string().get(text)) return Field::wrong_type;
  out.assign(text);
  return Field::ok;
}

JsonBody::Field JsonBody::integer(std::string_view key, int64_t& out) const {
  od::document document;
  od::value value;
  if (impl_->find(key, document, value)) return Field::missing;
  return value.get_int64().get(out) ? Field::wrong_type : Field::ok;
}

JsonBody::Field JsonBody::string_list(std::string_view key, std::vector<std::string>& out) const {
  od::document document;
  od::value value;
  if (impl_->find(key, document, value)) return Field::missing;
  od::array array;
  if (value.get_array().get(array)) return Field::wrong_type;
  out.clear();
  for (auto item : array) {
    std::string_view text;
    if (item.get_string().get(text)) return Field::wrong_type;
    out.emplace_back(text);
  }
  return Field::ok;
}

JsonBody::Field JsonBody::raw(std::string_view key, std::string& out) const {
  od::document document;
  od::value value;
  if (impl_->find(key, document, value)) return Field::missing;
  od::json_type type;
  if (value.type().get(type)) return Field::wrong_type;
  std::string_view found;
  if (type == od::json_type::object) {
    od::object inner;
    if (value.get_object().get(inner) || inner.raw_json().get(found)) return Field::wrong_type;
  } else if (type == od::json_type::array) {
    od::array inner;
    if (value.get_array().get(inner) || inner.raw_json().get(found)) return Field::wrong_type;
  } else {
    found = value.raw_json_token();
  }
  out.assign(trim_right(found));
  return Field::ok;
}

}  // namespace wshub::api
