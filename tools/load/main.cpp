// wshub-load's entry point: command line, the checks every mode shares (loopback target,
// open-file budget, TLS context), the mode, and the report on stdout.
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "fd_limit.h"
#include "modes/modes.h"
#include "proc_listener.h"
#include "proc_stats.h"
#include "options.h"

namespace {

using namespace wshub::load;

// Sockets one process holds at once in this mode.
uint64_t sockets_needed(const LoadOptions& o) {
  switch (o.mode) {
    case Mode::echo:
    case Mode::idle: return o.connections;
    case Mode::connect: return o.concurrency;
    case Mode::fanout: return uint64_t(o.subscribers) + 1;
  }
  return o.connections;
}

bool prepare_target(const LoadOptions& o, TlsClientContext& tls, ConnectTarget& target, std::string& why) {
  if (!resolve_loopback_target(o.url, target.address, why)) return false;
  if (!o.source_ips.empty() && target.address.family() != AF_INET) {
    why = "--source-ips are IPv4 loopback addresses, but " + o.url.host + " is IPv6; use ws://127.0.0.1:PORT";
    return false;
  }
  target.request_target = o.url.target;
  target.host_header = o.url.host_header;
  target.tls_server_name = o.url.host;
  if (o.url.secure) {
    if (!tls.init(o.tls, why)) return false;
    target.tls = &tls;
  }
  return true;
}

int finish(const LoadOptions& o, const Report& report) {
  // A failed run still gives scripts their one JSON object (with "error"); people get the
  // sentence on stderr and no half-empty table.
  if (!report.fatal.empty()) std::fprintf(stderr, "wshub-load %s: %s\n", o.mode_name.c_str(), report.fatal.c_str());
  if (o.json || report.fatal.empty()) {
    const std::string text = o.json ? report_json(report) : report_text(report);
    std::fwrite(text.data(), 1, text.size(), stdout);
  }
  std::fflush(stdout);
  std::fflush(stderr);
  const int code = !report.fatal.empty() ? 1 : report.errors ? 2 : 0;
  // Load threads stuck past the hard deadline cannot be joined: leave without destructors.
  if (report.abandoned) std::_Exit(code);
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  LoadOptions options;
  if (const int exit_code = parse_command_line(argc, argv, options); exit_code >= 0) return exit_code;
  signal(SIGPIPE, SIG_IGN);  // OpenSSL writes to sockets without MSG_NOSIGNAL

  Report report;
  report.mode = options.mode_name;
  report.url = options.url_text;
  report.connections = options.connections;
  report.threads = options.threads;

  const uint64_t open_file_limit = raise_open_file_limit();
  if (!fits_open_file_limit(sockets_needed(options), open_file_limit, options.threads, report.fatal))
    return finish(options, report);

  // The server figures are the point of --server-pid: a wrong PID must stop the run, not
  // quietly drop them from the report.
  if (options.server_pid > 0) {
    uint64_t cpu_us = 0;
    std::string why;
    if (!read_process_cpu_us(pid_t(options.server_pid), cpu_us, why)) {
      report.fatal = "--server-pid " + std::to_string(options.server_pid) + ": " + why;
      return finish(options, report);
    }
    // A warning, not a refusal: some servers measure right from another process than the
    // one holding the listener (a master that hands sockets to workers).
    std::string comm;
    if (process_listens_on(pid_t(options.server_pid), options.url.port, comm) == ListenerCheck::does_not_listen)
      std::fprintf(stderr,
                   "wshub-load: warning: --server-pid %lld ('%s') has no listening socket on port %u, so the server "
                   "figures are probably not the server's (a shell's PID from `cd dir && server &`?)\n",
                   (long long)options.server_pid, comm.c_str(), unsigned(options.url.port));
  }

  TlsClientContext tls;
  ConnectTarget target;
  if (!prepare_target(options, tls, target, report.fatal)) return finish(options, report);

  switch (options.mode) {
    case Mode::echo: run_echo(options, target, report); break;
    case Mode::idle: run_idle(options, target, report); break;
    case Mode::connect: run_connect(options, target, report); break;
    case Mode::fanout: run_fanout(options, target, report); break;
  }
  return finish(options, report);
}
