#include "api/json_body.h"

#include <simdjson.h>

#include "hub/json_depth.h"

namespace wshub::api {

namespace od = simdjson::ondemand;

struct JsonBody::Impl {
  simdjson::dom::parser validator = hub::depth_limited_parser(64);
  simdjson::dom::object root;
  od::parser raw_parser;
  std::string padded;  // the body, padded for the on-demand reader
  size_t size = 0;
};

JsonBody::JsonBody() : impl_(std::make_unique<Impl>()) {}
JsonBody::~JsonBody() = default;

bool JsonBody::parse(std::string_view body, std::string& problem) {
  simdjson::dom::element element;
  if (auto error = impl_->validator.parse(body.data(), body.size()).get(element)) {
    problem = std::string("the body is not JSON: ") + simdjson::error_message(error);
    return false;
  }
  if (element.get(impl_->root)) {
    problem = "the body must be a JSON object";
    return false;
  }
  impl_->padded.assign(body);
  impl_->padded.append(simdjson::SIMDJSON_PADDING, ' ');
  impl_->size = body.size();
  return true;
}

JsonBody::Field JsonBody::string(std::string_view key, std::string& out) const {
  simdjson::dom::element value;
  if (impl_->root[key].get(value)) return Field::missing;
  std::string_view text;
  if (value.get(text)) return Field::wrong_type;
  out.assign(text);
  return Field::ok;
}

JsonBody::Field JsonBody::integer(std::string_view key, int64_t& out) const {
  simdjson::dom::element value;
  if (impl_->root[key].get(value)) return Field::missing;
  return value.get(out) ? Field::wrong_type : Field::ok;
}

JsonBody::Field JsonBody::string_list(std::string_view key, std::vector<std::string>& out) const {
  simdjson::dom::element value;
  if (impl_->root[key].get(value)) return Field::missing;
  simdjson::dom::array array;
  if (value.get(array)) return Field::wrong_type;
  out.clear();
  for (simdjson::dom::element item : array) {
    std::string_view text;
    if (item.get(text)) return Field::wrong_type;
    out.emplace_back(text);
  }
  return Field::ok;
}

JsonBody::Field JsonBody::raw(std::string_view key, std::string& out) const {
  simdjson::dom::element probe;
  if (impl_->root[key].get(probe)) return Field::missing;
  od::document document;
  if (impl_->raw_parser.iterate(impl_->padded.data(), impl_->size, impl_->padded.size()).get(document))
    return Field::wrong_type;
  od::object object;
  if (document.get_object().get(object)) return Field::wrong_type;
  // The first occurrence of a repeated key, as the validator's lookup sees it.
  std::string_view found;
  for (auto field : object) {
    std::string_view name;
    if (field.unescaped_key().get(name) || name != key) continue;
    od::value value = field.value();
    od::json_type type;
    if (value.type().get(type)) return Field::wrong_type;
    if (type == od::json_type::object) {
      od::object inner;
      if (value.get_object().get(inner) || inner.raw_json().get(found)) return Field::wrong_type;
    } else if (type == od::json_type::array) {
      od::array inner;
      if (value.get_array().get(inner) || inner.raw_json().get(found)) return Field::wrong_type;
    } else {
      found = value.raw_json_token();
      while (!found.empty() && (found.back() == ' ' || found.back() == '\n' || found.back() == '\r' || found.back() == '\t'))
        found.remove_suffix(1);
    }
    break;
  }
  out.assign(found);
  return Field::ok;
}

}  // namespace wshub::api
