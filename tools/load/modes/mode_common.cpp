#include "modes/mode_common.h"

#include <cstdio>

#include "base/clock.h"

namespace wshub::load {

Report base_report(const LoadOptions& options) {
  Report report;
  report.mode = options.mode_name;
  report.url = options.url_text;
  report.connections = options.connections;
  report.threads = options.threads;
  return report;
}

void add_cpu_figures(Report& report, const CpuWindow& cpu, uint64_t units, uint64_t window_ns,
                     bool server_pid_given) {
  report.client_cpu_us_per_msg = cpu.client_us_per(units);
  if (!server_pid_given) return;
  if (double(window_ns) < kMinServerCpuWindowS * 1e9) {
    char why[160];
    std::snprintf(why, sizeof why,
                  "the measured window (%.0f ms) is too short for server CPU at /proc's clock-tick "
                  "resolution (10 ms); measure for at least %.0f s",
                  double(window_ns) / 1e6, kMinServerCpuWindowS);
    report.server_stats_error = why;
    return;
  }
  report.server_cpu_us_per_msg = cpu.server_us_per(units);
  if (!report.server_cpu_us_per_msg) {
    report.server_stats_error = cpu.server_error().empty() ? "no work was measured" : cpu.server_error();
  }
}

std::string human_count(double value) {
  char text[32];
  if (value >= 1e6) std::snprintf(text, sizeof text, "%.2fM", value / 1e6);
  else if (value >= 1e4) std::snprintf(text, sizeof text, "%.1fk", value / 1e3);
  else std::snprintf(text, sizeof text, "%.0f", value);
  return text;
}

std::string deadline_message(const char* what, double budget_s) {
  char text[256];
  std::snprintf(text, sizeof text, "%s did not finish within its hard deadline (%.1f s); giving up", what, budget_s);
  return text;
}

MeasuredWindow measure_window(Supervisor& supervisor, RunControl& control, const LoadOptions& options,
                              const std::function<bool()>& done, const std::function<std::string()>& status) {
  MeasuredWindow window(pid_t(options.server_pid));
  window.cpu.begin();
  window.start_ns = monotonic_ns();
  control.set(Phase::measuring);
  window.on_time = supervisor.wait_until(window.start_ns + seconds_to_ns(options.duration_s), done, status);
  window.end_ns = monotonic_ns();
  window.cpu.end();
  return window;
}

bool finish_run(Supervisor& supervisor, Report& report, bool on_time, const char* what, double budget_s) {
  const bool joined = supervisor.stop_and_join();
  supervisor.end_progress();
  if (on_time && joined) return true;
  report.abandoned = !joined;
  report.fatal = deadline_message(what, budget_s);
  return false;
}

}  // namespace wshub::load
