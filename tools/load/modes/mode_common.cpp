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

void add_memory_figures(Report& report, const ProcMemory* before, const ProcMemory* after, uint64_t count,
                        const std::string& why) {
  if (before) {
    report.server_rss_kib_before = before->rss_kib;
    report.server_anon_kib_before = before->anon_kib;
    if (before->has_pss) {
      report.server_pss_kib_before = before->pss_kib;
      report.server_private_kib_before = before->private_kib;
    }
  }
  if (after) {
    report.server_rss_kib_after = after->rss_kib;
    report.server_anon_kib_after = after->anon_kib;
    if (after->has_pss) {
      report.server_pss_kib_after = after->pss_kib;
      report.server_private_kib_after = after->private_kib;
    }
  }
  if (!after && report.server_stats_error.empty()) report.server_stats_error = why;
  if (!before || !after || count == 0) return;
  const auto per = [count](uint64_t from, uint64_t to) { return (double(to) - double(from)) / double(count); };
  // Total RSS also grows by code and library pages first touched while connections open, a
  // one-time cost; anonymous memory is what each connection holds.
  report.rss_per_conn_kib = per(before->rss_kib, after->rss_kib);
  report.anon_per_conn_kib = per(before->anon_kib, after->anon_kib);
  if (before->has_pss && after->has_pss) {
    report.pss_per_conn_kib = per(before->pss_kib, after->pss_kib);
    report.private_per_conn_kib = per(before->private_kib, after->private_kib);
  }
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
