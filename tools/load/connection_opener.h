// Opens a thread's connections with a bounded number of handshakes in flight, so 20,000
// connections do not hit the server's listen backlog at once (dropped SYNs cost a 1 s
// retransmit each). Source addresses are assigned round-robin by the connection's global index.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "client_connection.h"
#include "load_loop.h"
#include "run_control.h"

namespace wshub::load {

struct OpenPlan {
  const ConnectTarget* target = nullptr;
  std::span<const uint32_t> source_ips;  // empty: let the kernel choose
  uint32_t thread_index = 0;
  uint32_t thread_count = 1;
  uint32_t parallel = 64;  // handshakes in flight on this thread
};

class ConnectionOpener {
 public:
  // Opens slots [first, first + count) of `loop`.
  void configure(const OpenPlan& plan, uint32_t first, uint32_t count) {
    plan_ = plan;
    next_ = first;
    end_ = first + count;
  }

  // Starts connects until `parallel` are in flight or every slot has been started.
  // Synchronous failures (socket, bind, connect) are counted in `errors` and `failed`.
  void pump(LoadLoop& loop, ErrorTally& errors);

  // The driver reports every handshake that ended, opened or not.
  void settled() { --in_flight_; }

  // Also usable for one slot later (connect mode restarts a slot after each cycle).
  bool start_slot(LoadLoop& loop, uint32_t slot, std::string& why);

  bool all_started() const { return next_ >= end_; }
  uint32_t in_flight() const { return in_flight_; }
  uint64_t failed_to_start() const { return failed_to_start_; }

 private:
  OpenPlan plan_;
  uint32_t next_ = 0;
  uint32_t end_ = 0;
  uint32_t in_flight_ = 0;
  uint64_t failed_to_start_ = 0;
};

}  // namespace wshub::load
