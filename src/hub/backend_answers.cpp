#include "hub/backend_answers.h"

#include <simdjson.h>

#include <cstdint>

namespace wshub::hub {

namespace {

namespace dom = simdjson::dom;

constexpr size_t kMaxDepth = 64;

// dom::parser's constructor takes a maximum capacity in bytes, not a depth: the depth is set by
// allocate() and kept when the parser grows for a larger answer.
dom::parser& thread_parser() {
  thread_local dom::parser parser = [] {
    dom::parser made;
    if (made.allocate(4096, kMaxDepth)) {
      // Out of memory: the parser allocates again on first use (with simdjson's default depth).
    }
    return made;
  }();
  return parser;
}

// The element's JSON text (minified); data passed through from the backend.
std::string json_text(dom::element element) { return simdjson::minify(element); }

bool read_refusal(dom::object root, BackendRefusal& refusal, std::string& problem) {
  dom::element error;
  if (root["error"].get(error)) return true;
  refusal.present = true;
  dom::object fields;
  if (error.get(fields)) {
    problem = "error must be an object {code, message}";
    return false;
  }
  uint64_t code = 0;
  if (fields["code"].get(code) || code == 0 || code > 65535) {
    problem = "error.code must be a whole number from 1 to 65535";
    return false;
  }
  refusal.code = uint32_t(code);
  std::string_view message;
  if (!fields["message"].get(message)) refusal.message.assign(message);
  return true;
}

bool parse_object(std::string_view body, dom::object& root, std::string& problem) {
  dom::element element;
  if (auto error = thread_parser().parse(body.data(), body.size()).get(element)) {
    problem = std::string("the answer is not JSON (") + simdjson::error_message(error) + ")";
    return false;
  }
  if (element.get(root)) {
    problem = "the answer is not a JSON object";
    return false;
  }
  return true;
}

}  // namespace

bool read_connect_answer(std::string_view body, Identity& identity, BackendRefusal& refusal,
                         std::string& problem) {
  dom::object root;
  if (!parse_object(body, root, problem) || !read_refusal(root, refusal, problem)) return false;
  if (refusal.present) return true;
  dom::object result;
  if (root["result"].get(result)) {
    problem = "the answer has neither result nor error";
    return false;
  }
  std::string_view text;
  if (result["user"].get(text)) {
    problem = "result.user must be a string (\"\" for an anonymous connection)";
    return false;
  }
  identity.user.assign(text);
  if (!result["device"].get(text)) identity.device.assign(text);
  dom::array channels;
  if (!result["channels"].get(channels))
    for (dom::element channel : channels)
      if (!channel.get(text)) identity.channels.emplace_back(text);
  dom::element info;
  if (!result["info"].get(info)) {
    if (!info.is_object()) {
      problem = "result.info must be an object";
      return false;
    }
    identity.info_json = json_text(info);
  }
  // An expiry the hub cannot use is refused rather than read as "never" (and exp * 1000 must not
  // overflow). null or 0: no expiry.
  dom::element exp_element;
  if (!result["exp"].get(exp_element) && !exp_element.is_null()) {
    int64_t exp = 0;
    if (exp_element.get(exp) || exp < 0 || exp > INT64_MAX / 1000) {
      problem = "result.exp must be whole seconds since the epoch";
      return false;
    }
    identity.expires_ms = exp * 1000;
  }
  return true;
}

bool read_rpc_answer(std::string_view body, std::string& data_json, BackendRefusal& refusal,
                     std::string& problem) {
  dom::object root;
  if (!parse_object(body, root, problem) || !read_refusal(root, refusal, problem)) return false;
  if (refusal.present) return true;
  dom::element data;
  data_json = root["data"].get(data) ? "null" : json_text(data);
  return true;
}

bool read_decision_answer(std::string_view body, bool& replaced, std::string& data_json,
                          BackendRefusal& refusal, std::string& problem) {
  replaced = false;
  if (body.empty()) return true;  // an empty 200 allows
  dom::object root;
  if (!parse_object(body, root, problem) || !read_refusal(root, refusal, problem)) return false;
  if (refusal.present) return true;
  dom::object result;
  dom::element data;
  if (!root["result"].get(result) && !result["data"].get(data)) {
    replaced = true;
    data_json = json_text(data);
  }
  return true;
}

bool read_connect_subs(std::string_view subs_json, size_t max, std::vector<SubsEntry>& out,
                       std::string& problem) {
  out.clear();
  if (subs_json.empty()) return true;
  dom::object subs;
  if (!parse_object(subs_json, subs, problem)) return false;
  if (subs.size() > max) {
    problem = "subs lists more channels than limits allow";
    return false;
  }
  for (auto [key, value] : subs) {
    SubsEntry& entry = out.emplace_back();
    entry.channel.assign(key);
    dom::object options;
    if (value.get(options)) continue;  // {} or null: subscribe from now
    dom::object since;
    if (options["since"].get(since)) continue;
    std::string_view epoch;
    uint64_t offset = 0;
    if (since["ep"].get(epoch) || since["off"].get(offset)) {
      problem = "subs." + entry.channel + ".since must be {ep: string, off: number}";
      return false;
    }
    entry.has_since = true;
    entry.epoch.assign(epoch);
    entry.offset = offset;
  }
  return true;
}

}  // namespace wshub::hub
