#include "server/connection.h"

namespace wshub::server {

// An idle connection costs this struct and nothing else (docs/capacity.md): three cache lines.
// Growing it is a decision to take knowingly, with the capacity figures measured again.
static_assert(sizeof(proto::MessageReader) <= 56, "MessageReader grew: see docs/capacity.md");
static_assert(sizeof(Connection) <= 192, "Connection grew past three cache lines: see docs/capacity.md");

Connection* ConnectionPool::acquire() {
  if (!free_) {
    slabs_.push_back(std::make_unique<Slot[]>(kSlab));
    Slot* slab = slabs_.back().get();
    for (size_t i = kSlab; i-- > 0;) {
      auto* closed = new (&slab[i]) net::Stream();
      closed->timer_next = free_;
      free_ = closed;
    }
  }
  net::Stream* slot = free_;
  free_ = slot->timer_next;
  ++in_use_;
  const uint32_t generation = slot->generation;
  slot->~Stream();
  auto* connection = new (slot) Connection();
  connection->generation = generation;
  return connection;
}

void ConnectionPool::release(Connection* connection) {
  // A closed Stream with the old generation stays in the slot, so a stale ConnectionRef still
  // reads fd -1 and a generation that no longer matches.
  const uint32_t generation = connection->generation;
  connection->~Connection();
  auto* closed = new (connection) net::Stream();
  closed->generation = generation;
  closed->timer_next = free_;
  free_ = closed;
  --in_use_;
}

}  // namespace wshub::server

namespace wshub::server {

std::string describe_peer(const Connection& c) {
  if (!(c.flags & kForwardedClient)) return c.peer.to_string();
  return c.client.to_string() + " via " + c.peer.to_string();
}

}  // namespace wshub::server
