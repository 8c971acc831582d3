#include "server/connection.h"

namespace wshub::server {

Connection* ConnectionPool::acquire() {
  if (free_.empty()) {
    slabs_.push_back(std::make_unique<Slot[]>(kSlab));
    Slot* slab = slabs_.back().get();
    for (size_t i = kSlab; i-- > 0;) {
      new (&slab[i]) net::Stream();  // a released slot always holds a closed Stream
      free_.push_back(&slab[i]);
    }
  }
  Slot* slot = free_.back();
  free_.pop_back();
  ++in_use_;
  const uint32_t generation = reinterpret_cast<net::Stream*>(slot)->generation;
  reinterpret_cast<net::Stream*>(slot)->~Stream();
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
  free_.push_back(reinterpret_cast<Slot*>(connection));
  --in_use_;
}

}  // namespace wshub::server

namespace wshub::server {

std::string describe_peer(const Connection& c) {
  if (!(c.flags & kForwardedClient)) return c.peer.to_string();
  return c.client.to_string() + " via " + c.peer.to_string();
}

}  // namespace wshub::server
