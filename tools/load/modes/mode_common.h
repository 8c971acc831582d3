// Small pieces every mode uses: time budgets, splitting work across threads, the report's
// common fields. Nothing here runs on the per-message path.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "cpu_window.h"
#include "options.h"
#include "proc_stats.h"
#include "report.h"
#include "run_control.h"
#include "supervisor.h"

namespace wshub::load {

// Opening connections before the measured window may take this long (echo, fanout). At the
// few thousand handshakes per second a loaded loopback server manages, that is 20,000+.
constexpr double kOpenBudgetS = 10.0;
// How far past its planned end a run may go before it is abandoned as hung.
constexpr double kHardDeadlineGraceS = 5.0;

inline uint64_t seconds_to_ns(double seconds) { return uint64_t(seconds * 1e9); }

// The part of `total` thread `index` of `threads` takes (the first ones take the remainder).
inline uint32_t share_of(uint32_t total, uint32_t threads, uint32_t index) {
  return total / threads + (index < total % threads ? 1 : 0);
}

Report base_report(const LoadOptions& options);

// server_cpu_us_per_msg and client_cpu_us_per_msg over `units` of work done in a window of
// `window_ns`. /proc/PID/stat counts clock ticks (10 ms), so the server figure is left out,
// with the reason in server_stats_error, when the window is under kMinServerCpuWindowS.
void add_cpu_figures(Report& report, const CpuWindow& cpu, uint64_t units, uint64_t window_ns,
                     bool server_pid_given);
constexpr double kMinServerCpuWindowS = 1.0;

// The server's memory before and after, and its growth per connection, into the report's
// memory fields; `count` is what the growth is divided by (connections or subscribers open).
// Missing readings leave the fields empty and `why` in server_stats_error.
void add_memory_figures(Report& report, const ProcMemory* before, const ProcMemory* after, uint64_t count,
                        const std::string& why);

// "12 345/s" style numbers for the progress line.
std::string human_count(double value);

// The message for a run abandoned at its hard deadline.
std::string deadline_message(const char* what, double budget_s);

// The measured part of a run: CPU of the server and of this process, and the window's bounds.
struct MeasuredWindow {
  explicit MeasuredWindow(pid_t server_pid) : cpu(server_pid) {}
  CpuWindow cpu;
  uint64_t start_ns = 0;
  uint64_t end_ns = 0;
  bool on_time = false;  // false when the hard deadline passed during the window
  uint64_t length_ns() const { return end_ns - start_ns; }
  double seconds() const { return double(length_ns()) / 1e9; }
};

// Switches the threads to Phase::measuring and waits `options.duration_s` (or until `done()`
// holds, when given), reading CPU around the wait.
MeasuredWindow measure_window(Supervisor& supervisor, RunControl& control, const LoadOptions& options,
                              const std::function<bool()>& done, const std::function<std::string()>& status);

// Stops and joins the threads and erases the progress line. False, with report.fatal (and
// report.abandoned when threads hung) set, when the run did not finish on time.
bool finish_run(Supervisor& supervisor, Report& report, bool on_time, const char* what, double budget_s);

}  // namespace wshub::load
