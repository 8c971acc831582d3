// A simdjson DOM parser that refuses JSON nested deeper than a limit (DEPTH_ERROR), so a peer
// cannot make parsing cost more than its bytes. simdjson's constructor takes the capacity,
// not the depth; the depth is set by allocating.
#pragma once

#include <simdjson.h>

namespace wshub::hub {

inline simdjson::dom::parser depth_limited_parser(size_t max_depth) {
  simdjson::dom::parser parser;
  // The capacity grows with the largest document parsed; the depth stays.
  (void)parser.allocate(4096, max_depth);
  return parser;
}

}  // namespace wshub::hub
