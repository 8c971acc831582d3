// A simdjson DOM parser that refuses JSON nested deeper than a limit (DEPTH_ERROR), so a peer
// cannot make parsing cost more than its bytes. simdjson's constructor takes the capacity,
// not the depth; the depth is set by allocating.
#pragma once

#include <simdjson.h>

namespace wshub::hub {

inline simdjson::dom::parser depth_limited_parser(size_t max_depth) {
  simdjson::dom::parser parser;
  // The capacity grows with the largest document parsed; the depth stays. Out of memory here,
  // the parser allocates again on first use (with simdjson's default depth).
  if (parser.allocate(4096, max_depth) != simdjson::SUCCESS) return parser;
  return parser;
}

}  // namespace wshub::hub
