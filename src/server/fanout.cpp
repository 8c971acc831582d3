#include "server/fanout.h"

#include "net/mailbox.h"
#include "net/reactor.h"
#include "server/route_handler.h"

namespace wshub::server {

namespace {

class DeliverFrame final : public net::MailItem {
 public:
  DeliverFrame(FanoutMembers& members, std::shared_ptr<const proto::FrameVariants> frame)
      : members_(members), frame_(std::move(frame)) {}
  void run() override { members_.deliver(*frame_); }

 private:
  FanoutMembers& members_;
  std::shared_ptr<const proto::FrameVariants> frame_;
};

constexpr uint32_t kNotMember = ~uint32_t(0);

}  // namespace

void FanoutMembers::add(ConnectionRef member) {
  Connection& c = *member.connection;
  c.route_slot = uint32_t(members_.size());
  members_.push_back(&c);
}

void FanoutMembers::remove(ConnectionRef member) {
  Connection& c = *member.connection;
  const uint32_t slot = c.route_slot;
  if (slot == kNotMember || slot >= members_.size() || members_[slot] != &c) return;
  c.route_slot = kNotMember;
  if (delivering_) {
    // Removing now would move members under the delivery loop; leave a hole for later.
    members_[slot] = nullptr;
    has_holes_ = true;
    return;
  }
  Connection* last = members_.back();
  members_[slot] = last;
  last->route_slot = slot;
  members_.pop_back();
}

void FanoutMembers::deliver(const proto::FrameVariants& frame) {
  delivering_ = true;
  for (size_t i = 0; i < members_.size(); ++i)
    if (members_[i]) host_.send_variants(*members_[i], frame);
  delivering_ = false;
  if (has_holes_) compact();
}

void FanoutMembers::compact() {
  size_t kept = 0;
  for (Connection* c : members_) {
    if (!c) continue;
    c->route_slot = uint32_t(kept);
    members_[kept++] = c;
  }
  members_.resize(kept);
  has_holes_ = false;
}

void FanoutGroup::attach(uint32_t worker_index, net::Reactor& reactor, FanoutMembers& members) {
  if (locals_.size() <= worker_index) locals_.resize(worker_index + 1);
  locals_[worker_index] = {&reactor, &members};
}

void FanoutGroup::publish(std::shared_ptr<const proto::FrameVariants> frame, uint32_t from) {
  for (size_t i = 0; i < locals_.size(); ++i) {
    if (i == from || !locals_[i].members) continue;
    locals_[i].reactor->post(new DeliverFrame(*locals_[i].members, frame));
  }
  if (from < locals_.size() && locals_[from].members) locals_[from].members->deliver(*frame);
}

}  // namespace wshub::server
