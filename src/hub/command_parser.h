// Sans-I/O parsing of the client's frames into hub requests: one text frame holds one JSON
// object or an array of them (a batch, handled in order). The whole frame is validated before
// any request of it is handed over, so a frame that is not JSON never half-runs. Knows nothing
// of sessions or sockets.
#pragma once

#include <memory>
#include <string_view>

#include "hub/command.h"

namespace wshub::hub {

class CommandSink {
 public:
  virtual void on_command(const Command& command) = 0;
  // A request that cannot be taken; `id` is 0 when it had no usable one. `detail` says what
  // is wrong in a few words (for the answer's `msg` and the log).
  virtual void on_command_error(CommandError error, uint64_t id, std::string_view detail) = 0;

 protected:
  ~CommandSink() = default;
};

// One per worker thread: it keeps its buffers between frames, so parsing allocates nothing
// once they have grown to the largest frame seen.
class CommandParser {
 public:
  explicit CommandParser(CommandLimits limits = {});
  ~CommandParser();
  CommandParser(const CommandParser&) = delete;
  CommandParser& operator=(const CommandParser&) = delete;

  // Hands every request of `frame` to `sink`, in order. Returns false when the connection must
  // close with 3501: the sink has then been told the fatal error, after no request of the frame
  // (when the frame as a whole is bad) or after the requests before the bad one.
  bool parse(std::string_view frame, CommandSink& sink);

  const CommandLimits& limits() const { return limits_; }

 private:
  struct Impl;
  CommandLimits limits_;
  std::unique_ptr<Impl> impl_;
};

// True when `error` closes the connection whatever the request's id.
bool command_error_is_fatal(CommandError error);
// The answer's error code for a request refused with `error`.
ErrorCode command_error_code(CommandError error);

}  // namespace wshub::hub
