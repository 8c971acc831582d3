#include "hub/command_parser.h"

#include "hub/json_validate.h"
#include "hub/json_writer.h"

#include <simdjson.h>

#include <vector>

namespace wshub::hub {

namespace od = simdjson::ondemand;

namespace {

constexpr uint64_t kMaxId = (uint64_t(1) << 53) - 1;  // exact in every client's JSON numbers
constexpr size_t kMaxDepth = 64;

struct TypeName {
  std::string_view name;
  CommandType type;
};
constexpr TypeName kTypes[] = {
    {"connect", CommandType::connect},   {"subscribe", CommandType::subscribe},
    {"unsubscribe", CommandType::unsubscribe}, {"publish", CommandType::publish},
    {"rpc", CommandType::rpc},           {"ack", CommandType::ack},
    {"history", CommandType::history},   {"presence", CommandType::presence},
    {"refresh", CommandType::refresh},   {"ping", CommandType::ping},
    {"pong", CommandType::pong},
};
static_assert(std::size(kTypes) == size_t(CommandType::count_));

bool needs_answer(CommandType type) {
  return type != CommandType::ack && type != CommandType::pong && type != CommandType::ping;
}

// Why one element could not become a Command.
struct Refusal {
  CommandError error = CommandError::none;
  std::string_view detail;
};

// simdjson's raw views run on to the next token: the whitespace after the value is cut off.
void trim_trailing_space(std::string_view& out) {
  while (!out.empty() && (out.back() == ' ' || out.back() == '\n' || out.back() == '\r' || out.back() == '\t'))
    out.remove_suffix(1);
}

// The raw JSON text of any value (the frame was validated as a whole before), exactly as the
// client wrote it.
simdjson::error_code raw_value(od::value value, std::string_view& out) {
  od::json_type type;
  if (auto error = value.type().get(type)) return error;
  switch (type) {
    case od::json_type::object: {
      od::object object;
      if (auto error = value.get_object().get(object)) return error;
      if (auto error = object.raw_json().get(out)) return error;
      break;
    }
    case od::json_type::array: {
      od::array array;
      if (auto error = value.get_array().get(array)) return error;
      if (auto error = array.raw_json().get(out)) return error;
      break;
    }
    default: out = value.raw_json_token(); break;
  }
  trim_trailing_space(out);
  return simdjson::SUCCESS;
}

}  // namespace

struct CommandParser::Impl {
  od::parser parser;
  std::vector<Command> commands;
  std::vector<Refusal> refusals;  // by element, parallel to `commands`
  std::string padded;

  Refusal read_position(od::value value, StreamPosition& out) {
    od::object object;
    if (value.get_object().get(object)) return {CommandError::bad_field, "since must be an object"};
    out.present = true;
    for (auto field : object) {
      std::string_view key;
      if (field.unescaped_key().get(key)) return {CommandError::bad_field, "since"};
      if (key == "ep") {
        if (field.value().get_string().get(out.epoch)) return {CommandError::bad_field, "since.ep must be a string"};
      } else if (key == "off" || key == "acked") {
        if (field.value().get_uint64().get(out.offset))
          return {CommandError::bad_field, "since.off must be a whole number"};
      }
    }
    return {};
  }

  Refusal read_field(std::string_view key, od::value value, Command& c, const CommandLimits& limits) {
    auto text = [&](std::string_view& out, uint32_t max, std::string_view what) -> Refusal {
      if (value.get_string().get(out)) return {CommandError::bad_field, what};
      if (out.size() > max) return {CommandError::bad_field, what};
      return {};
    };
    if (key == "ch") return text(c.channel, limits.max_channel_bytes, "ch must be a channel name");
    if (key == "data") {
      c.has_data = true;
      if (raw_value(value, c.data)) return {CommandError::bad_field, "data"};
      return {};
    }
    if (key == "token") return text(c.token, limits.max_token_bytes, "token must be a string within the size limit");
    if (key == "m") return text(c.method, limits.max_method_bytes, "m must be a method name");
    if (key == "mid") return text(c.mid, limits.max_mid_bytes, "mid must be a short string");
    if (key == "since") return read_position(value, c.since);
    if (key == "upto") {
      if (value.get_uint64().get(c.upto)) return {CommandError::bad_field, "upto must be a whole number"};
      return {};
    }
    if (key == "limit") {
      uint64_t limit = 0;
      if (value.get_uint64().get(limit) || limit > UINT32_MAX)
        return {CommandError::bad_field, "limit must be a whole number"};
      c.limit = uint32_t(limit);
      return {};
    }
    if (key == "client" || key == "subs") {
      od::object object;
      if (value.get_object().get(object)) return {CommandError::bad_field, "client and subs must be objects"};
      std::string_view& out = key == "client" ? c.client_json : c.subs_json;
      if (object.raw_json().get(out)) return {CommandError::bad_field, key};
      trim_trailing_space(out);
      return {};
    }
    if (key == "inbox") {
      c.has_inbox = true;
      return read_position(value, c.since);
    }
    return {};  // unknown fields are ignored: newer clients may send more
  }

  // One element of the frame into `c`, or the reason it cannot be taken.
  Refusal read_element(od::value element, Command& c, const CommandLimits& limits) {
    od::object object;
    if (element.get_object().get(object)) return {CommandError::not_object, "a request must be a JSON object"};
    bool typed = false;
    bool type_bad = false;  // `t` is there but not a string
    bool id_bad = false;
    Refusal first;
    std::string_view type_name;
    for (auto field : object) {
      std::string_view key;
      if (field.unescaped_key().get(key)) return {CommandError::bad_field, "key"};
      od::value value;
      if (field.value().get(value)) return {CommandError::bad_field, key};
      if (key == "t") {
        // Read on to the end whatever `t` holds: an `id` after it still makes the request
        // answerable.
        type_bad = bool(value.get_string().get(type_name));
        typed = !type_bad;
        continue;
      }
      if (key == "id") {
        uint64_t id = 0;
        if (value.get_uint64().get(id) || id == 0 || id > kMaxId) id_bad = true;
        else c.id = id;
        continue;
      }
      Refusal refusal = read_field(key, value, c, limits);
      if (refusal.error != CommandError::none && first.error == CommandError::none) first = refusal;
    }
    if (id_bad) {
      c.id = 0;
      return {CommandError::bad_id, "id must be a whole number from 1 to 2^53-1"};
    }
    if (type_bad) return {CommandError::missing_type, "t must be a string"};
    if (!typed) return {CommandError::missing_type, "no t: every request names its type"};
    bool known = false;
    for (const TypeName& t : kTypes)
      if (t.name == type_name) {
        c.type = t.type;
        known = true;
      }
    if (!known) return {CommandError::unknown_type, type_name};
    if (first.error != CommandError::none) return first;
    return check_required(c);
  }

  static Refusal check_required(const Command& c) {
    switch (c.type) {
      case CommandType::subscribe:
      case CommandType::unsubscribe:
      case CommandType::presence:
      case CommandType::history:
        if (c.channel.empty()) return {CommandError::missing_field, "ch is required"};
        break;
      case CommandType::publish:
        if (c.channel.empty()) return {CommandError::missing_field, "ch is required"};
        if (!c.has_data) return {CommandError::missing_field, "data is required"};
        break;
      case CommandType::rpc:
        if (c.method.empty()) return {CommandError::missing_field, "m is required"};
        break;
      case CommandType::refresh:
        if (c.token.empty()) return {CommandError::missing_field, "token is required"};
        break;
      default: break;
    }
    return {};
  }
};

CommandParser::CommandParser(CommandLimits limits) : limits_(limits), impl_(std::make_unique<Impl>()) {}
CommandParser::~CommandParser() = default;

bool CommandParser::parse(std::string_view frame, CommandSink& sink) {
  Impl& impl = *impl_;
  // Validation of the whole frame first: nothing of a frame that is not JSON runs.
  impl.padded.assign(frame);
  impl.padded.append(simdjson::SIMDJSON_PADDING, ' ');
  JsonShape shape;
  std::string_view what;
  switch (validate_json(impl.parser, impl.padded, frame.size(), kMaxDepth, shape, what)) {
    case JsonVerdict::ok: break;
    case JsonVerdict::not_container:
      sink.on_command_error(CommandError::not_object, 0, "a frame holds a JSON object or an array of them");
      return false;
    case JsonVerdict::too_deep:
      sink.on_command_error(CommandError::too_deep, 0, what);
      return false;
    case JsonVerdict::not_json:
      sink.on_command_error(CommandError::not_json, 0, what);
      return false;
  }
  const bool batch = shape.is_array;
  if (batch) {
    if (shape.elements == 0) {
      sink.on_command_error(CommandError::empty_batch, 0, "an empty batch");
      return false;
    }
    if (shape.elements > limits_.max_batch) {
      sink.on_command_error(CommandError::batch_too_large, 0, "more requests in one frame than limits allow");
      return false;
    }
  }
  od::document document;
  if (impl.parser.iterate(impl.padded.data(), frame.size(), impl.padded.size()).get(document)) {
    sink.on_command_error(CommandError::not_json, 0, "not JSON");
    return false;
  }
  impl.commands.clear();
  impl.refusals.clear();
  auto take = [&](od::value element) {
    impl.commands.emplace_back();
    impl.refusals.push_back(impl.read_element(element, impl.commands.back(), limits_));
  };
  if (batch) {
    od::array array;
    if (document.get_array().get(array)) return false;
    for (auto element : array) {
      od::value value;
      if (element.get(value)) break;
      take(value);
    }
  } else {
    od::value value;
    if (document.get_value().get(value)) {
      sink.on_command_error(CommandError::not_object, 0, "a request must be a JSON object");
      return false;
    }
    take(value);
  }
  for (size_t i = 0; i < impl.commands.size(); ++i) {
    const Command& command = impl.commands[i];
    const Refusal& refusal = impl.refusals[i];
    if (refusal.error == CommandError::none) {
      if (command.id == 0 && needs_answer(command.type)) {
        sink.on_command_error(CommandError::missing_id, 0, command_name(command.type));
        return false;
      }
      sink.on_command(command);
      continue;
    }
    const bool answerable = command.id != 0 && !command_error_is_fatal(refusal.error);
    if (!answerable) {
      sink.on_command_error(refusal.error, 0, refusal.detail);
      return false;
    }
    sink.on_command_error(refusal.error, command.id, refusal.detail);
  }
  return true;
}

bool command_error_is_fatal(CommandError error) {
  switch (error) {
    case CommandError::not_json:
    case CommandError::missing_id:
    case CommandError::batch_too_large:
    case CommandError::empty_batch:
    case CommandError::too_deep:
    case CommandError::bad_id: return true;
    default: return false;
  }
}

ErrorCode command_error_code(CommandError error) {
  return error == CommandError::unknown_type ? ErrorCode::method_not_found : ErrorCode::bad_request;
}

void append_command_json(std::string& out, const Command& c) {
  JsonWriter json(out);
  json.begin_object().member("t", command_name(c.type));
  if (c.id) json.member("id", c.id);
  if (!c.channel.empty()) json.member("ch", c.channel);
  if (c.has_data) json.raw_member("data", c.data);
  if (!c.token.empty()) json.member("token", c.token);
  if (!c.method.empty()) json.member("m", c.method);
  if (!c.mid.empty()) json.member("mid", c.mid);
  if (c.type == CommandType::ack) json.member("upto", c.upto);
  if (c.limit) json.member("limit", uint64_t(c.limit));
  if (!c.client_json.empty()) json.raw_member("client", c.client_json);
  if (!c.subs_json.empty()) json.raw_member("subs", c.subs_json);
  if (c.since.present) {
    json.key(c.has_inbox ? "inbox" : "since").begin_object();
    if (!c.since.epoch.empty()) json.member("ep", c.since.epoch);
    json.member(c.has_inbox ? "acked" : "off", c.since.offset).end_object();
  }
  json.end_object();
}

std::string_view command_name(CommandType type) { return kTypes[size_t(type)].name; }

std::string_view command_error_name(CommandError error) {
  switch (error) {
    case CommandError::none: return "none";
    case CommandError::not_json: return "not_json";
    case CommandError::not_object: return "not_object";
    case CommandError::missing_type: return "missing_type";
    case CommandError::unknown_type: return "unknown_type";
    case CommandError::bad_id: return "bad_id";
    case CommandError::missing_id: return "missing_id";
    case CommandError::bad_field: return "bad_field";
    case CommandError::missing_field: return "missing_field";
    case CommandError::batch_too_large: return "batch_too_large";
    case CommandError::empty_batch: return "empty_batch";
    case CommandError::too_deep: return "too_deep";
    case CommandError::count_: break;
  }
  return "?";
}

}  // namespace wshub::hub
