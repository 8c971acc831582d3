// The broker of one process: channel state in shards (a mutex each), offsets assigned under
// the channel's shard lock, and each publication posted to the mailboxes of the workers that
// have subscribers while that lock is held, so every worker receives a channel's publications
// in offset order even when several workers publish to it at once. A channel that keeps history
// gets its offset the same way, but is delivered from the store's writer thread once committed.
#pragma once

#include <functional>
#include <memory>

#include "hub/broker.h"

namespace wshub::hub {

struct LocalBrokerOptions {
  // Channel states kept while nobody is subscribed (their offsets go on from where they were);
  // past this, an idle channel's state is dropped and it starts a new epoch when used again.
  size_t max_idle_channels = 100000;
  // How much history a channel keeps (max_count 0: none). A channel with history is
  // commit-then-deliver: its publications are stored first, then answered and delivered, in
  // offset order. Unset: no channel keeps history.
  std::function<HistoryRetention(std::string_view channel)> retention;
};

std::unique_ptr<Broker> make_local_broker(Store& store, LocalBrokerOptions options = {});

// The whole `pub` push of a publication, as subscribers receive it:
// {"t":"pub","ch":CHANNEL,"off":OFFSET,"data":DATA,"ts":TS}
void append_pub_push(std::string& out, const Publication& publication, uint64_t offset);

}  // namespace wshub::hub
