// libFuzzer target for the hub's CommandParser: client frames of JSON requests, one object or a
// batch. Every frame is parsed twice with one parser (another frame in between), and the sink
// checks each callback on its own and against a reference reading of the frame with simdjson's
// DOM (a different API of the library): a frame the reference cannot read runs nothing; the k-th
// callback belongs to the k-th element; a fatal error is the last callback and makes parse()
// return false, and only then; ids are in 1..2^53-1 or 0 where none is needed; fields respect
// the limits and equal the last occurrence of their key; `data`, `client` and `subs` are the
// client's bytes (found in the frame, no whitespace around them) and re-parse to the same JSON.
// Input layout: byte 0 — bit 0 small limits (a few bytes per field, a batch of at most 1 + bits
// 1-3 requests); the rest is the frame, copied into a heap block of exactly its size.
#include <simdjson.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hub/command_parser.h"

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

constexpr uint64_t kMaxId = (uint64_t(1) << 53) - 1;
constexpr size_t kMaxDepth = 64;

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

// One callback, with copies of everything (views last only until the parser's next call).
struct Event {
  bool error = false;
  CommandError code = CommandError::none;
  uint64_t id = 0;
  CommandType type = CommandType::ping;
  std::string channel, data, token, method, mid, client, subs, epoch;
  bool has_data = false, has_inbox = false, since = false;
  uint64_t offset = 0, upto = 0;
  uint32_t limit = 0;
  bool operator==(const Event&) const = default;
};

class CheckingSink final : public CommandSink {
 public:
  CheckingSink(std::string_view frame, const CommandLimits& limits) : frame_(frame), limits_(limits) {}

  void on_command(const Command& c) override {
    FUZZ_CHECK(!ended);
    FUZZ_CHECK(size_t(c.type) < size_t(CommandType::count_));
    FUZZ_CHECK(c.id <= kMaxId);
    if (c.id == 0)
      FUZZ_CHECK(c.type == CommandType::ack || c.type == CommandType::pong || c.type == CommandType::ping);
    FUZZ_CHECK(c.channel.size() <= limits_.max_channel_bytes);
    FUZZ_CHECK(c.token.size() <= limits_.max_token_bytes);
    FUZZ_CHECK(c.method.size() <= limits_.max_method_bytes);
    FUZZ_CHECK(c.mid.size() <= limits_.max_mid_bytes);
    for (std::string_view text : {c.channel, c.token, c.method, c.mid, c.since.epoch})
      FUZZ_CHECK(simdjson::validate_utf8(text.data(), text.size()));
    switch (c.type) {
      case CommandType::subscribe:
      case CommandType::unsubscribe:
      case CommandType::presence:
      case CommandType::history: FUZZ_CHECK(!c.channel.empty()); break;
      case CommandType::publish: FUZZ_CHECK(!c.channel.empty() && c.has_data); break;
      case CommandType::rpc: FUZZ_CHECK(!c.method.empty()); break;
      case CommandType::refresh: FUZZ_CHECK(!c.token.empty()); break;
      default: break;
    }
    FUZZ_CHECK(c.has_data == !c.data.empty());
    if (c.has_data) check_raw(c.data);
    if (!c.client_json.empty()) check_raw(c.client_json, '{');
    if (!c.subs_json.empty()) check_raw(c.subs_json, '{');
    Event e;
    e.type = c.type;
    e.id = c.id;
    e.channel = c.channel;
    e.data = c.data;
    e.token = c.token;
    e.method = c.method;
    e.mid = c.mid;
    e.client = c.client_json;
    e.subs = c.subs_json;
    e.epoch = c.since.epoch;
    e.has_data = c.has_data;
    e.has_inbox = c.has_inbox;
    e.since = c.since.present;
    e.offset = c.since.offset;
    e.upto = c.upto;
    e.limit = c.limit;
    events.push_back(std::move(e));
  }

  void on_command_error(CommandError error, uint64_t id, std::string_view detail) override {
    FUZZ_CHECK(!ended);
    FUZZ_CHECK(error != CommandError::none && size_t(error) < size_t(CommandError::count_));
    FUZZ_CHECK(id <= kMaxId);
    FUZZ_CHECK(!command_name(CommandType::ping).empty() && !command_error_name(error).empty());
    // An answerable refusal carries an id and is not fatal; anything else ends the frame.
    if (id == 0 || command_error_is_fatal(error)) {
      FUZZ_CHECK(id == 0);
      ended = true;
    }
    const ErrorCode code = command_error_code(error);
    FUZZ_CHECK(code == ErrorCode::bad_request || code == ErrorCode::method_not_found);
    std::string copy(detail);  // the view must be readable
    (void)copy;
    Event e;
    e.error = true;
    e.code = error;
    e.id = id;
    events.push_back(std::move(e));
  }

  std::vector<Event> events;
  bool ended = false;

 private:
  // Raw JSON handed on: the client's exact bytes, trimmed, and valid JSON on its own.
  void check_raw(std::string_view raw, char first = 0) {
    FUZZ_CHECK(!raw.empty());
    FUZZ_CHECK(!is_space(raw.front()) && !is_space(raw.back()));
    if (first) FUZZ_CHECK(raw.front() == first);
    FUZZ_CHECK(frame_.find(raw) != std::string_view::npos);
    dom::parser parser;
    dom::element element;
    const simdjson::error_code error = parser.parse(std::string(raw)).get(element);
    FUZZ_CHECK(!error || error == simdjson::NUMBER_ERROR || error == simdjson::NUMBER_OUT_OF_RANGE);
  }

  std::string_view frame_;
  const CommandLimits& limits_;
};

// Nesting as simdjson counts it against max_depth: every value is a level, a scalar too.
size_t depth_of(dom::element element) {
  size_t deepest = 0;
  if (element.is_array()) {
    for (dom::element child : dom::array(element)) deepest = std::max(deepest, depth_of(child));
  } else if (element.is_object()) {
    for (dom::key_value_pair field : dom::object(element)) deepest = std::max(deepest, depth_of(field.value));
  }
  return deepest + 1;
}

std::string minified(std::string_view json) {
  dom::parser parser;
  dom::element element;
  FUZZ_CHECK(!parser.parse(std::string(json)).get(element));
  return simdjson::minify(element);
}

// What the reference reads in one element that the parser took: the last occurrence of each key.
void check_against_reference(dom::element element, const Event& e) {
  dom::object object;
  FUZZ_CHECK(!element.get(object));
  std::string_view type;
  bool typed = false;
  uint64_t id = 0;
  dom::element last_data, last_client, last_subs;
  bool data = false, client = false, subs = false;
  std::string_view channel, token, method, mid;
  for (dom::key_value_pair field : object) {
    const std::string_view key = field.key;
    std::string_view text;
    const bool is_text = !field.value.get(text);
    if (key == "t") {
      typed = is_text;
      if (is_text) type = text;
    } else if (key == "id") {
      FUZZ_CHECK(!field.value.get(id));
    } else if (key == "ch") {
      FUZZ_CHECK(is_text);
      channel = text;
    } else if (key == "token") {
      FUZZ_CHECK(is_text);
      token = text;
    } else if (key == "m") {
      FUZZ_CHECK(is_text);
      method = text;
    } else if (key == "mid") {
      FUZZ_CHECK(is_text);
      mid = text;
    } else if (key == "data") {
      data = true;
      last_data = field.value;
    } else if (key == "client") {
      client = true;
      last_client = field.value;
    } else if (key == "subs") {
      subs = true;
      last_subs = field.value;
    }
  }
  FUZZ_CHECK(typed && type == command_name(e.type));
  FUZZ_CHECK(id == e.id);
  FUZZ_CHECK(channel == e.channel && token == e.token && method == e.method && mid == e.mid);
  FUZZ_CHECK(data == e.has_data);
  if (data) FUZZ_CHECK(minified(e.data) == simdjson::minify(last_data));
  if (client) FUZZ_CHECK(minified(e.client) == simdjson::minify(last_client));
  if (subs) FUZZ_CHECK(minified(e.subs) == simdjson::minify(last_subs));
}

// The id the reference reads in an object: the last one, when every occurrence is a whole number
// in range (0 when there is none); `bad` when one is not.
uint64_t reference_id(dom::object object, bool& bad) {
  uint64_t id = 0;
  bad = false;
  for (dom::key_value_pair field : object) {
    if (field.key != "id") continue;
    if (field.value.get(id) || id == 0 || id > kMaxId) bad = true;
  }
  return bad ? 0 : id;
}

std::vector<Event> run(CommandParser& parser, std::string_view frame, const CommandLimits& limits, bool& intact) {
  // A heap block of exactly the frame's size: a read past it is caught.
  std::unique_ptr<char[]> block(new char[frame.size() ? frame.size() : 1]);
  std::memcpy(block.get(), frame.data(), frame.size());
  const std::string_view exact(block.get(), frame.size());
  CheckingSink sink(exact, limits);
  intact = parser.parse(exact, sink);
  FUZZ_CHECK(intact == !sink.ended);
  return std::move(sink.events);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t control = data[0];
  CommandLimits limits;
  if (control & 1) {
    limits.max_batch = 1 + ((control >> 1) & 7);
    limits.max_channel_bytes = 6;
    limits.max_token_bytes = 5;
    limits.max_method_bytes = 4;
    limits.max_mid_bytes = 3;
  }
  const std::string_view frame(reinterpret_cast<const char*>(data) + 1, size - 1);

  CommandParser parser(limits);
  bool intact = false;
  const std::vector<Event> first = run(parser, frame, limits, intact);

  dom::parser reference;
  dom::element root;
  const simdjson::error_code reference_error = reference.parse(std::string(frame)).get(root);
  if (reference_error == simdjson::NUMBER_ERROR || reference_error == simdjson::NUMBER_OUT_OF_RANGE) {
    // The reference converts numbers and refuses what does not fit 64 bits (NUMBER_ERROR, which
    // it also says of a malformed number); the parser checks their grammar only and hands them
    // on as text. Nothing to compare with; the number grammar has its own unit test.
  } else if (reference_error) {
    // Not JSON to the reference: nothing runs.
    FUZZ_CHECK(!intact && first.size() == 1 && first[0].error);
    FUZZ_CHECK(first[0].code == CommandError::not_json || first[0].code == CommandError::too_deep);
  } else if (depth_of(root) > kMaxDepth) {
    FUZZ_CHECK(!intact && first.size() == 1 && first[0].code == CommandError::too_deep);
  } else {
    std::vector<dom::element> elements;
    if (root.is_array())
      for (dom::element element : dom::array(root)) elements.push_back(element);
    else
      elements.push_back(root);
    if (root.is_array() && elements.empty()) {
      FUZZ_CHECK(!intact && first.size() == 1 && first[0].code == CommandError::empty_batch);
    } else if (root.is_array() && elements.size() > limits.max_batch) {
      FUZZ_CHECK(!intact && first.size() == 1 && first[0].code == CommandError::batch_too_large);
    } else {
      // One callback per element, in order, until a fatal one.
      FUZZ_CHECK(!first.empty() && first.size() <= elements.size());
      FUZZ_CHECK(intact == (first.size() == elements.size() && !(first.back().error && first.back().id == 0)));
      for (size_t k = 0; k < first.size(); ++k) {
        const Event& e = first[k];
        if (!elements[k].is_object()) {
          FUZZ_CHECK(e.error && e.code == CommandError::not_object && e.id == 0);
        } else if (!e.error) {
          check_against_reference(elements[k], e);
        } else {
          // A refusal is answerable exactly when the request has a usable id, wherever it is.
          bool bad = false;
          const uint64_t id = reference_id(dom::object(elements[k]), bad);
          if (bad) FUZZ_CHECK(e.code == CommandError::bad_id && e.id == 0);
          else if (e.code == CommandError::missing_id) FUZZ_CHECK(id == 0);
          else FUZZ_CHECK(e.id == id);
        }
      }
    }
  }

  // Reused after another frame, the parser reads the same frame the same way.
  const std::vector<Event> other = run(parser, R"([{"t":"publish","id":9,"ch":"x","data":[1,{"a":"b"}]}])", limits, intact);
  FUZZ_CHECK(!other.empty());
  bool again_intact = false;
  const std::vector<Event> again = run(parser, frame, limits, again_intact);
  FUZZ_CHECK(again == first);
  return 0;
}
