// Connect mode: --concurrency parallel loops of TCP connect, optional TLS handshake, WebSocket
// upgrade and close handshake. A cycle counts when its close completes inside the measured
// window; latency is connect() to the validated 101. The server closes TCP first (RFC 6455
// §7.1.1), so TIME_WAIT piles up on its side, not on the client's ephemeral ports.
#include <memory>
#include <vector>

#include "base/clock.h"
#include "connection_opener.h"
#include "cpu_window.h"
#include "load_loop.h"
#include "modes/mode_common.h"
#include "modes/modes.h"
#include "supervisor.h"

namespace wshub::load {

namespace {

class ConnectDriver final : public LoopDriver {
 public:
  ConnectDriver(RunControl& control, LoadLoop& loop, const OpenPlan& open, uint32_t thread_index)
      : control_(control), loop_(loop), progress_(control.progress[thread_index]) {
    opener_.configure(open, 0, 0);
    restart_.reserve(loop.size());
    for (uint32_t slot = 0; slot < loop.size(); ++slot) restart_.push_back(slot);
  }

  void on_open(ClientConnection& c, LoopContext& context) override {
    if (measuring_) handshakes_.record(context.now_ns - c.started_ns());
    c.queue_close(1000, context.rng.next_u32());
  }

  void on_message(ClientConnection&, proto::Opcode, Bytes, LoopContext&) override {}

  void on_closed(ClientConnection& c, CloseCause cause, std::string_view why, LoopContext&) override {
    if (stopping_) return;
    if (cause == CloseCause::clean) {
      ++all_cycles_;
      if (measuring_) ++cycles_;
    } else {
      errors_.add(why);
    }
    restart_.push_back(c.slot());
  }

  int on_turn(LoopContext&) override {
    const Phase phase = control_.current();
    measuring_ = phase == Phase::measuring;
    stopping_ = phase == Phase::stopping;
    progress_.messages.store(all_cycles_, std::memory_order_relaxed);
    progress_.errors.store(errors_.count, std::memory_order_relaxed);
    if (stopping_ || phase == Phase::opening) return 20;
    // Restart finished slots; a slot that cannot start (no ports, no files) is retried
    // after a millisecond rather than in a busy loop.
    size_t kept = 0;
    std::string why;
    for (size_t i = 0; i < restart_.size(); ++i) {
      if (!opener_.start_slot(loop_, restart_[i], why)) {
        errors_.add(why);
        restart_[kept++] = restart_[i];
      }
    }
    restart_.resize(kept);
    return kept ? 1 : 20;
  }

  bool finished() const override { return stopping_; }

  const LatencyHistogram& handshakes() const { return handshakes_; }
  uint64_t cycles() const { return cycles_; }
  const ErrorTally& errors() const { return errors_; }

 private:
  RunControl& control_;
  LoadLoop& loop_;
  ThreadProgress& progress_;
  ConnectionOpener opener_;
  std::vector<uint32_t> restart_;  // slots to connect again at the next turn
  LatencyHistogram handshakes_;
  ErrorTally errors_;
  uint64_t cycles_ = 0;      // completed in the measured window
  uint64_t all_cycles_ = 0;  // completed at all, for the progress line
  bool measuring_ = false;
  bool stopping_ = false;
};

}  // namespace

void run_connect(const LoadOptions& o, const ConnectTarget& target, Report& report) {
  report = base_report(o);
  const uint32_t threads = std::min(o.threads, o.concurrency);
  report.threads = threads;
  report.connections = o.concurrency;

  RunControl control(threads);
  std::vector<std::unique_ptr<LoadLoop>> loops;
  std::vector<std::unique_ptr<ConnectDriver>> drivers;
  for (uint32_t t = 0; t < threads; ++t) {
    loops.push_back(std::make_unique<LoadLoop>(share_of(o.concurrency, threads, t), 0xC044 + t));
    OpenPlan open{&target, o.source_ips, t, threads, 0};
    drivers.push_back(std::make_unique<ConnectDriver>(control, *loops[t], open, t));
  }

  const double budget_s = o.warmup_s + o.duration_s + kHardDeadlineGraceS;
  const uint64_t start = monotonic_ns();
  Supervisor supervisor("connect", control, start + seconds_to_ns(budget_s));
  control.set(Phase::warmup);
  supervisor.start_threads([&](uint32_t t) {
    loops[t]->run(*drivers[t]);
    loops[t]->close_all(*drivers[t]);
  });

  uint64_t last_cycles = 0;
  uint64_t last_ns = monotonic_ns();
  const auto status = [&] {
    const uint64_t now = monotonic_ns();
    const uint64_t cycles = control.sum(&ThreadProgress::messages);
    const double rate = double(cycles - last_cycles) * 1e9 / double(std::max<uint64_t>(now - last_ns, 1));
    last_cycles = cycles;
    last_ns = now;
    return std::string(control.current() == Phase::warmup ? "warmup" : "measuring") + "  " + human_count(rate) +
           " handshakes/s  errors " + std::to_string(control.sum(&ThreadProgress::errors));
  };
  bool on_time = supervisor.wait_until(start + seconds_to_ns(o.warmup_s), nullptr, status);
  const MeasuredWindow window = measure_window(supervisor, control, o, nullptr, status);
  if (!finish_run(supervisor, report, on_time && window.on_time, "the connect run", budget_s)) return;

  LatencyHistogram handshakes;
  ErrorTally errors;
  uint64_t cycles = 0;
  for (auto& d : drivers) {
    handshakes.merge(d->handshakes());
    errors.merge(d->errors());
    cycles += d->cycles();
  }
  report.duration_s = window.seconds();
  report.messages = cycles;
  report.msgs_per_sec = double(cycles) / report.duration_s;
  report.handshakes_per_sec = report.msgs_per_sec;
  report.latency_us = LatencySummaryUs::from_ns(handshakes);
  report.errors = errors.count;
  report.first_error = errors.first;
  add_cpu_figures(report, window.cpu, cycles, window.length_ns(), o.server_pid > 0);
  if (cycles == 0) {
    report.fatal = errors.count ? "no handshake completed: " + errors.first
                                : "no handshake completed in the window (does the server answer the upgrade?)";
  }
}

}  // namespace wshub::load
