// Idle mode: open N connections (TCP + optional TLS + upgrade), hold them, and report how long
// opening took and, with --server-pid, what the server's resident memory grew by per
// connection. --duration bounds the opening; --hold is how long they stay open after it.
#include <atomic>
#include <cstdio>
#include <memory>
#include <vector>

#include "base/clock.h"
#include "connection_opener.h"
#include "cpu_window.h"
#include "load_loop.h"
#include "modes/mode_common.h"
#include "modes/modes.h"
#include "proc_stats.h"
#include "supervisor.h"

namespace wshub::load {

namespace {

class IdleDriver final : public LoopDriver {
 public:
  IdleDriver(RunControl& control, LoadLoop& loop, const OpenPlan& open, uint32_t thread_index)
      : control_(control), loop_(loop), progress_(control.progress[thread_index]), opened_(loop.size(), 0) {
    opener_.configure(open, 0, uint32_t(loop.size()));
  }

  void on_open(ClientConnection& c, LoopContext& context) override {
    opener_.settled();
    opened_[c.slot()] = 1;
    ++open_count_;
    ++opened_total_;
    handshakes_.record(context.now_ns - c.started_ns());
    last_open_ns_ = context.now_ns;
  }

  void on_message(ClientConnection&, proto::Opcode, Bytes, LoopContext&) override {
    ++unexpected_messages_;
  }

  void on_closed(ClientConnection& c, CloseCause, std::string_view why, LoopContext&) override {
    if (!opened_[c.slot()]) {
      opener_.settled();
      ++failed_;
      errors_.add(why);
      return;
    }
    opened_[c.slot()] = 0;
    --open_count_;
    if (!stopping_) errors_.add("a connection closed while held: " + std::string(why));
  }

  int on_turn(LoopContext&) override {
    const Phase phase = control_.current();
    if (phase == Phase::opening) opener_.pump(loop_, errors_);
    stopping_ = phase == Phase::stopping;
    progress_.opened.store(opened_total_, std::memory_order_relaxed);
    progress_.failed.store(failed_, std::memory_order_relaxed);
    progress_.errors.store(errors_.count, std::memory_order_relaxed);
    return opener_.all_started() ? 50 : 5;
  }

  bool finished() const override { return stopping_; }

  const LatencyHistogram& handshakes() const { return handshakes_; }
  const ErrorTally& errors() const { return errors_; }
  uint64_t last_open_ns() const { return last_open_ns_; }
  uint64_t still_open() const { return open_count_; }

 private:
  RunControl& control_;
  LoadLoop& loop_;
  ThreadProgress& progress_;
  ConnectionOpener opener_;
  std::vector<uint8_t> opened_;
  LatencyHistogram handshakes_;
  ErrorTally errors_;
  uint64_t open_count_ = 0;     // open now
  uint64_t opened_total_ = 0;   // handshakes completed, including connections lost since
  uint64_t failed_ = 0;
  uint64_t unexpected_messages_ = 0;
  uint64_t last_open_ns_ = 0;
  bool stopping_ = false;
};

}  // namespace

void run_idle(const LoadOptions& o, const ConnectTarget& target, Report& report) {
  report = base_report(o);
  const uint32_t threads = std::min(o.threads, o.connections);
  report.threads = threads;
  const bool measure_server = o.server_pid > 0;

  ProcMemory before;
  std::string rss_error;
  const bool have_rss_before = measure_server && read_process_memory(pid_t(o.server_pid), before, rss_error);

  RunControl control(threads);
  std::vector<std::unique_ptr<LoadLoop>> loops;
  std::vector<std::unique_ptr<IdleDriver>> drivers;
  for (uint32_t t = 0; t < threads; ++t) {
    loops.push_back(std::make_unique<LoadLoop>(share_of(o.connections, threads, t), 0x1D1E + t));
    OpenPlan open{&target, o.source_ips, t, threads, std::max(1u, o.concurrency / threads)};
    drivers.push_back(std::make_unique<IdleDriver>(control, *loops[t], open, t));
  }

  const double budget_s = o.duration_s + o.hold_s + kHardDeadlineGraceS;
  CpuWindow cpu(pid_t(o.server_pid));
  cpu.begin();
  const uint64_t start = monotonic_ns();
  Supervisor supervisor("idle", control, start + seconds_to_ns(budget_s));
  supervisor.start_threads([&](uint32_t t) {
    loops[t]->run(*drivers[t]);
    loops[t]->close_all(*drivers[t]);
  });
  const auto status = [&] {
    return std::string(control.current() == Phase::opening ? "opening" : "holding") + "  open " +
           std::to_string(control.sum(&ThreadProgress::opened)) + "/" + std::to_string(o.connections) + "  failed " +
           std::to_string(control.sum(&ThreadProgress::failed)) + "  errors " +
           std::to_string(control.sum(&ThreadProgress::errors));
  };
  bool on_time = supervisor.wait_until(
      start + seconds_to_ns(o.duration_s),
      [&] { return control.sum(&ThreadProgress::opened) + control.sum(&ThreadProgress::failed) >= o.connections; },
      status);
  const uint64_t settled = control.sum(&ThreadProgress::opened) + control.sum(&ThreadProgress::failed);
  cpu.end();
  control.set(Phase::warmup);  // holding: no more connects
  const uint64_t hold_start = monotonic_ns();
  on_time = on_time && supervisor.wait_until(hold_start + seconds_to_ns(o.hold_s), nullptr, status);

  ProcMemory after;
  const bool have_rss_after = have_rss_before && read_process_memory(pid_t(o.server_pid), after, rss_error);
  if (!finish_run(supervisor, report, on_time, "the idle run", budget_s)) return;

  LatencyHistogram handshakes;
  ErrorTally errors;
  uint64_t last_open = start;
  uint64_t open_at_end = 0;
  for (auto& d : drivers) {
    open_at_end += d->still_open();
    handshakes.merge(d->handshakes());
    errors.merge(d->errors());
    last_open = std::max(last_open, d->last_open_ns());
  }
  if (settled < o.connections) {
    // Each connection not open in time is an error; the first one's text says how many.
    char why[160];
    std::snprintf(why, sizeof why, "%llu connections were still in the handshake after --duration %g s",
                  (unsigned long long)(o.connections - settled), o.duration_s);
    errors.add(why);
    errors.count += o.connections - settled - 1;
  }

  report.connections_open = open_at_end;
  report.duration_s = o.hold_s;
  report.latency_us = LatencySummaryUs::from_ns(handshakes);
  report.open_time_ms = double(last_open - start) / 1e6;
  if (last_open > start) report.handshakes_per_sec = double(handshakes.count()) * 1e9 / double(last_open - start);
  report.errors = errors.count;
  report.first_error = errors.first;
  // CPU per connection opened, over the opening phase.
  add_cpu_figures(report, cpu, handshakes.count(), last_open - start, measure_server);
  if (measure_server)
    add_memory_figures(report, have_rss_before ? &before : nullptr, have_rss_after ? &after : nullptr, open_at_end,
                       rss_error);
}

}  // namespace wshub::load
