// Reading what the backend answers to a webhook (docs/webhooks.md §Answers), and the `subs`
// of a connect request. Sans-I/O: JSON text in, typed values or a sentence naming what is
// wrong out; a thread's parser is reused between calls.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hub/command.h"
#include "hub/identity.h"

namespace wshub::hub {

// {"error":{"code":N,"message":"..."}}: the backend refused.
struct BackendRefusal {
  bool present = false;
  uint32_t code = 0;
  std::string message;
};

// The connect webhook: {"result":{"user":"...","device":"...","channels":[...],"info":{...},
// "exp":UNIX_SECONDS}} or a refusal. False with `problem` set when the body is not such JSON.
bool read_connect_answer(std::string_view body, Identity& identity, BackendRefusal& refusal,
                         std::string& problem);

// The rpc webhook: {"data":ANY} (data may be absent: null) or a refusal.
bool read_rpc_answer(std::string_view body, std::string& data_json, BackendRefusal& refusal,
                     std::string& problem);

// The subscribe and publish webhooks: {} or {"result":{...}} allows; a publish answer may
// carry {"result":{"data":ANY}} to replace the data; or a refusal.
bool read_decision_answer(std::string_view body, bool& replaced, std::string& data_json,
                          BackendRefusal& refusal, std::string& problem);

// One entry of connect's `subs`: {"CHANNEL":{"since":{"ep":"...","off":N}},...}.
struct SubsEntry {
  std::string channel;
  bool has_since = false;
  std::string epoch;
  uint64_t offset = 0;
};
// False when `subs_json` is not such an object or has more than `max` entries.
bool read_connect_subs(std::string_view subs_json, size_t max, std::vector<SubsEntry>& out,
                       std::string& problem);

}  // namespace wshub::hub
