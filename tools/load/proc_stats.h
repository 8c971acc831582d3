// What the load generator learns about a process from /proc: CPU time from /proc/PID/stat and
// resident memory from /proc/PID/smaps_rollup or /proc/PID/status, plus its own CPU time.
// The parsers are pure functions over the file text so they can be tested without a process.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace wshub::load {

struct ProcCpuTicks {
  uint64_t utime = 0;  // clock ticks (sysconf(_SC_CLK_TCK)) in user mode, all threads
  uint64_t stime = 0;  // ... and in kernel mode
};

// Parses the one line of /proc/PID/stat (proc(5)). The command name (field 2) may contain
// spaces and parentheses, so fields are counted from the last ')'.
bool parse_proc_stat_cpu(std::string_view stat_line, ProcCpuTicks& out);

// Finds "Name:   1234 kB" in /proc/PID/status or smaps_rollup text and returns the number.
bool parse_kib_field(std::string_view text, std::string_view name, uint64_t& kib);

// utime + stime of `pid` in microseconds. False (with `why`) when the process is gone or
// /proc is not readable.
bool read_process_cpu_us(pid_t pid, uint64_t& cpu_us, std::string& why);

struct ProcMemory {
  uint64_t rss_kib = 0;   // all resident pages, code and mapped files included (= VmRSS)
  uint64_t anon_kib = 0;  // resident anonymous pages: the heap and stacks, what connections cost
  // From smaps_rollup only (has_pss false when it was not readable): Pss shares each page
  // among the processes that map it, so libraries another process also uses count in part;
  // Private is Private_Clean + Private_Dirty, the pages no other process maps.
  bool has_pss = false;
  uint64_t pss_kib = 0;
  uint64_t private_kib = 0;
};

// Resident memory of `pid`: Rss, Anonymous, Pss and Private from smaps_rollup (exact), else
// VmRSS and RssAnon from status (which the kernel may update lazily, by up to 64 pages per
// thread).
bool read_process_memory(pid_t pid, ProcMemory& memory, std::string& why);

// This process's own CPU time (user + system, all threads) in microseconds.
uint64_t self_cpu_us();

}  // namespace wshub::load
