#include "connection_opener.h"

namespace wshub::load {

bool ConnectionOpener::start_slot(LoadLoop& loop, uint32_t slot, std::string& why) {
  uint32_t source_ip = 0;
  if (!plan_.source_ips.empty()) {
    const uint64_t global_index = uint64_t(slot) * plan_.thread_count + plan_.thread_index;
    source_ip = plan_.source_ips[global_index % plan_.source_ips.size()];
  }
  return loop.connection(slot).start(*plan_.target, slot, source_ip, loop.context(), why);
}

void ConnectionOpener::pump(LoadLoop& loop, ErrorTally& errors) {
  std::string why;
  while (next_ < end_ && in_flight_ < plan_.parallel) {
    const uint32_t slot = next_++;
    if (start_slot(loop, slot, why)) {
      ++in_flight_;
    } else {
      ++failed_to_start_;
      errors.add(why);
    }
  }
}

}  // namespace wshub::load
