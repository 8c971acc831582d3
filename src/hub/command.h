// One client request of the hub protocol (docs/hub-protocol.md §Requests), as the parser hands
// it over: typed fields, and views of the frame's bytes for JSON passed through (`data`,
// `info`). Views are valid until the parser's next call.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "hub/codes.h"

namespace wshub::hub {

enum class CommandType : uint8_t {
  connect,
  subscribe,
  unsubscribe,
  publish,
  rpc,
  ack,
  history,
  presence,
  refresh,
  ping,
  pong,
  count_
};

std::string_view command_name(CommandType type);

// A position in a channel's stream: publications after `offset` in epoch `epoch`.
struct StreamPosition {
  bool present = false;
  std::string_view epoch;
  uint64_t offset = 0;
};

struct Command {
  CommandType type = CommandType::ping;
  uint64_t id = 0;                // 0: none (pushes' answers, ack, pong, heartbeat ping)
  std::string_view channel;       // ch
  std::string_view data;          // raw JSON, validated
  bool has_data = false;
  std::string_view token;         // connect, refresh
  std::string_view method;        // rpc: m
  std::string_view mid;           // publish, rpc: the client's message id for deduplication
  StreamPosition since;           // subscribe, history; connect inbox: {ep, acked}
  uint64_t upto = 0;              // ack
  uint32_t limit = 0;             // history; 0: the server's default
  std::string_view client_json;   // connect: {sdk, version}, raw
  std::string_view subs_json;     // connect: {channel: {since: {ep, off}}}, raw, validated
  bool has_inbox = false;         // connect: `inbox` present
};

// Why a request could not be taken. `fatal` ones close the connection with 3501.
enum class CommandError : uint8_t {
  none,
  not_json,            // the frame is not JSON (fatal)
  not_object,          // an element is not an object
  missing_type,        // no string `t`
  unknown_type,        // 104
  bad_id,              // `id` is not a positive integer below 2^53
  missing_id,          // a request that needs an answer has no `id` (fatal)
  bad_field,           // a known field has the wrong type or an invalid value (107)
  missing_field,       // a required field is absent (107)
  batch_too_large,     // more requests in one frame than limits allow (fatal)
  empty_batch,         // [] (fatal)
  too_deep,            // the frame nests JSON deeper than 64 levels (fatal)
  count_
};

std::string_view command_error_name(CommandError error);

// `command` as the one-request frame a client would send for it (for requests kept to run
// later): every field it carries, `data`, `client` and `subs` as their JSON text.
void append_command_json(std::string& out, const Command& command);

struct CommandLimits {
  uint32_t max_batch = 100;        // requests in one frame
  uint32_t max_channel_bytes = 255;
  // Far above any token: a longer one is refused by the token check itself (101, 3500).
  uint32_t max_token_bytes = 65536;
  uint32_t max_method_bytes = 255;
  uint32_t max_mid_bytes = 128;
};

}  // namespace wshub::hub
