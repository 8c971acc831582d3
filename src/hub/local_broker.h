// The broker of one process: channel state in shards (a mutex each), offsets assigned under
// the channel's shard lock, and each publication posted to the mailboxes of the workers that
// have subscribers while that lock is held, so every worker receives a channel's publications
// in offset order even when several workers publish to it at once.
#pragma once

#include <memory>

#include "hub/broker.h"

namespace wshub::hub {

struct LocalBrokerOptions {
  // Channel states kept while nobody is subscribed (their offsets go on from where they were);
  // past this, an idle channel's state is dropped and it starts a new epoch when used again.
  size_t max_idle_channels = 100000;
};

std::unique_ptr<Broker> make_local_broker(Store& store, LocalBrokerOptions options = {});

// The whole `pub` push of a publication, as subscribers receive it:
// {"t":"pub","ch":CHANNEL,"off":OFFSET,"data":DATA,"ts":TS}
void append_pub_push(std::string& out, const Publication& publication, uint64_t offset);

}  // namespace wshub::hub
