#include "proc_stats.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>

namespace wshub::load {

namespace {

bool parse_u64(std::string_view text, uint64_t& out) {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

// Reads a small /proc file whole. /proc files report size 0, so read until EOF.
bool read_small_file(const std::string& path, std::string& out, std::string& why) {
  FILE* file = std::fopen(path.c_str(), "re");
  if (!file) {
    why = path + ": " + std::strerror(errno);
    return false;
  }
  out.clear();
  char chunk[4096];
  size_t got;
  while ((got = std::fread(chunk, 1, sizeof chunk, file)) > 0) out.append(chunk, got);
  std::fclose(file);
  return true;
}

}  // namespace

bool parse_proc_stat_cpu(std::string_view stat_line, ProcCpuTicks& out) {
  const size_t close_paren = stat_line.rfind(')');
  if (close_paren == std::string_view::npos) return false;
  std::string_view rest = stat_line.substr(close_paren + 1);
  // After the command come fields 3 (state) onwards; utime is field 14, stime field 15.
  constexpr int kUtimeAfterParen = 14 - 3;
  std::string_view fields[kUtimeAfterParen + 2];
  int found = 0;
  size_t pos = 0;
  while (found < kUtimeAfterParen + 2) {
    while (pos < rest.size() && (rest[pos] == ' ' || rest[pos] == '\n')) ++pos;
    if (pos >= rest.size()) return false;
    const size_t start = pos;
    while (pos < rest.size() && rest[pos] != ' ' && rest[pos] != '\n') ++pos;
    fields[found++] = rest.substr(start, pos - start);
  }
  return parse_u64(fields[kUtimeAfterParen], out.utime) &&
         parse_u64(fields[kUtimeAfterParen + 1], out.stime);
}

bool parse_kib_field(std::string_view text, std::string_view name, uint64_t& kib) {
  size_t line_start = 0;
  while (line_start < text.size()) {
    size_t line_end = text.find('\n', line_start);
    if (line_end == std::string_view::npos) line_end = text.size();
    std::string_view line = text.substr(line_start, line_end - line_start);
    line_start = line_end + 1;
    if (line.size() <= name.size() || line.substr(0, name.size()) != name ||
        line[name.size()] != ':')
      continue;
    line.remove_prefix(name.size() + 1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    size_t digits = 0;
    while (digits < line.size() && line[digits] >= '0' && line[digits] <= '9') ++digits;
    if (digits == 0) return false;
    std::string_view unit = line.substr(digits);
    while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
    if (unit != "kB") return false;
    return parse_u64(line.substr(0, digits), kib);
  }
  return false;
}

bool read_process_cpu_us(pid_t pid, uint64_t& cpu_us, std::string& why) {
  std::string text;
  if (!read_small_file("/proc/" + std::to_string(pid) + "/stat", text, why)) return false;
  ProcCpuTicks ticks;
  if (!parse_proc_stat_cpu(text, ticks)) {
    why = "/proc/" + std::to_string(pid) + "/stat: unexpected format";
    return false;
  }
  const long ticks_per_second = sysconf(_SC_CLK_TCK);
  cpu_us = (ticks.utime + ticks.stime) * 1000000ull / uint64_t(ticks_per_second > 0 ? ticks_per_second : 100);
  return true;
}

bool read_process_memory(pid_t pid, ProcMemory& memory, std::string& why) {
  const std::string base = "/proc/" + std::to_string(pid);
  std::string text;
  std::string ignored;
  uint64_t private_clean = 0, private_dirty = 0;
  if (read_small_file(base + "/smaps_rollup", text, ignored) && parse_kib_field(text, "Rss", memory.rss_kib) &&
      parse_kib_field(text, "Anonymous", memory.anon_kib)) {
    memory.has_pss = parse_kib_field(text, "Pss", memory.pss_kib) &&
                     parse_kib_field(text, "Private_Clean", private_clean) &&
                     parse_kib_field(text, "Private_Dirty", private_dirty);
    memory.private_kib = private_clean + private_dirty;
    return true;
  }
  if (!read_small_file(base + "/status", text, why)) return false;
  if (parse_kib_field(text, "VmRSS", memory.rss_kib) && parse_kib_field(text, "RssAnon", memory.anon_kib)) return true;
  why = base + "/status: no VmRSS or RssAnon line (is it a kernel thread or a zombie?)";
  return false;
}

uint64_t self_cpu_us() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto us = [](const timeval& t) { return uint64_t(t.tv_sec) * 1000000ull + uint64_t(t.tv_usec); };
  return us(usage.ru_utime) + us(usage.ru_stime);
}

}  // namespace wshub::load
