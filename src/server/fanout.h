// Delivery of one encoded frame to many connections spread over all workers: the frame is
// encoded once into a SharedBuffer; each worker gets a reference through its mailbox and writes
// the same bytes to its local members. The hub's channels are built the same way.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "base/shared_buffer.h"
#include "proto/frame_variants.h"
#include "server/connection.h"

namespace wshub::net {
class Reactor;
}

namespace wshub::server {

class RouteHost;

// One worker's members of a group. Used only on that worker's thread.
class FanoutMembers {
 public:
  explicit FanoutMembers(RouteHost& host) : host_(host) {}
  // Adds the connection; keeps its place in `route_slot` for O(1) removal.
  void add(ConnectionRef member);
  void remove(ConnectionRef member);
  // Sends `frame` to every member, each in the variant it negotiated; members closed while
  // sending are dropped afterwards.
  void deliver(const proto::FrameVariants& frame);
  size_t size() const { return members_.size(); }

 private:
  void compact();

  RouteHost& host_;
  std::vector<Connection*> members_;
  bool delivering_ = false;
  bool has_holes_ = false;
};

// The group across workers. Attach every worker's members before the workers start; after
// that the group is read-only and any worker may publish.
class FanoutGroup {
 public:
  void attach(uint32_t worker_index, net::Reactor& reactor, FanoutMembers& members);
  // On worker `from`'s thread: delivers locally now and posts to every other worker. Every
  // worker shares the one FrameVariants, so each compressed variant is made once in all.
  void publish(std::shared_ptr<const proto::FrameVariants> frame, uint32_t from);

 private:
  struct Local {
    net::Reactor* reactor = nullptr;
    FanoutMembers* members = nullptr;
  };
  std::vector<Local> locals_;
};

}  // namespace wshub::server
