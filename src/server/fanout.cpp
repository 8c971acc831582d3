#include "server/fanout.h"

#include "net/mailbox.h"
#include "net/reactor.h"
#include "server/worker.h"

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

constexpr uintptr_t kNotMember = ~uintptr_t(0);

uintptr_t slot_of(const Connection& c) { return reinterpret_cast<uintptr_t>(c.route_state); }
void set_slot(Connection& c, uintptr_t slot) { c.route_state = reinterpret_cast<void*>(slot); }

}  // namespace

void FanoutMembers::add(Connection& c) {
  set_slot(c, members_.size());
  members_.push_back(&c);
}

void FanoutMembers::remove(Connection& c) {
  const uintptr_t slot = slot_of(c);
  if (slot == kNotMember || slot >= members_.size() || members_[slot] != &c) return;
  set_slot(c, kNotMember);
  if (delivering_) {
    // Removing now would move members under the delivery loop; leave a hole for later.
    members_[slot] = nullptr;
    has_holes_ = true;
    return;
  }
  Connection* last = members_.back();
  members_[slot] = last;
  set_slot(*last, slot);
  members_.pop_back();
}

void FanoutMembers::deliver(const proto::FrameVariants& frame) {
  delivering_ = true;
  for (size_t i = 0; i < members_.size(); ++i)
    if (members_[i]) worker_.send_variants(*members_[i], frame);
  delivering_ = false;
  if (has_holes_) compact();
}

void FanoutMembers::compact() {
  size_t kept = 0;
  for (Connection* c : members_) {
    if (!c) continue;
    set_slot(*c, kept);
    members_[kept++] = c;
  }
  members_.resize(kept);
  has_holes_ = false;
}

void FanoutGroup::attach(uint32_t worker_index, net::Reactor& reactor, FanoutMembers& members) {
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
