#include "net/reactor.h"

#include "base/clock.h"

namespace wshub::net {

namespace {

class ShutdownRequest final : public MailItem {
 public:
  ShutdownRequest(std::function<void()> begin) : begin_(std::move(begin)) {}
  void run() override { begin_(); }

 private:
  std::function<void()> begin_;
};

}  // namespace

Reactor::Reactor(StreamHandler& handler, const ReactorOptions& options)
    : handler_(handler), options_(options), timers_(monotonic_ms()), now_ms_(monotonic_ms()) {}

void Reactor::request_shutdown(uint32_t grace_ms) {
  post(new ShutdownRequest([this, grace_ms] { begin_shutdown(grace_ms); }));
}

}  // namespace wshub::net
