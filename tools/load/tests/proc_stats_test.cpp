#include "proc_stats.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace wshub::load {
namespace {

TEST(ProcStat, ReadsUtimeAndStime) {
  // A real line from Linux 6.1 (fields 14 and 15 are 1234 and 567).
  const char* line =
      "4242 (wshub) S 1 4242 4242 0 -1 4194560 1503 0 0 0 1234 567 0 0 20 0 3 0 12345 "
      "123456789 2000 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n";
  ProcCpuTicks ticks;
  ASSERT_TRUE(parse_proc_stat_cpu(line, ticks));
  EXPECT_EQ(ticks.utime, 1234u);
  EXPECT_EQ(ticks.stime, 567u);
}

TEST(ProcStat, CommandWithSpacesAndParentheses) {
  const char* line = "77 (my (odd) prog) R 1 77 77 0 -1 0 0 0 0 0 10 20 0 0 20 0 1 0 5 0 0\n";
  ProcCpuTicks ticks;
  ASSERT_TRUE(parse_proc_stat_cpu(line, ticks));
  EXPECT_EQ(ticks.utime, 10u);
  EXPECT_EQ(ticks.stime, 20u);
}

TEST(ProcStat, RefusesTruncatedOrGarbage) {
  ProcCpuTicks ticks;
  EXPECT_FALSE(parse_proc_stat_cpu("", ticks));
  EXPECT_FALSE(parse_proc_stat_cpu("12 (x) S 1 2 3", ticks));
  EXPECT_FALSE(parse_proc_stat_cpu("12 x S 1 2 3 4 5 6 7 8 9 10 11 12 13", ticks));
  EXPECT_FALSE(parse_proc_stat_cpu("1 (x) S 1 1 1 0 -1 0 0 0 0 0 ab 20 0", ticks));
}

TEST(ProcStatus, FindsVmRss) {
  const char* status =
      "Name:\twshub\nVmPeak:\t  200000 kB\nVmSize:\t  190000 kB\nVmHWM:\t    9000 kB\n"
      "VmRSS:\t    8123 kB\nRssAnon:\t    4000 kB\nThreads:\t3\n";
  uint64_t kib = 0;
  ASSERT_TRUE(parse_kib_field(status, "VmRSS", kib));
  EXPECT_EQ(kib, 8123u);
  ASSERT_TRUE(parse_kib_field(status, "RssAnon", kib));
  EXPECT_EQ(kib, 4000u);
  EXPECT_FALSE(parse_kib_field(status, "VmSwap", kib));
  EXPECT_FALSE(parse_kib_field(status, "Threads", kib));  // no unit
}

TEST(ProcStatus, SmapsRollupRssIsNotConfusedWithLongerNames) {
  const char* rollup =
      "55d0c0000000-7ffd00000000 ---p 00000000 00:00 0    [rollup]\n"
      "Rss:                8192 kB\nPss:                7000 kB\nPss_Anon:           3000 kB\n"
      "Anonymous:          2500 kB\n";
  uint64_t kib = 0;
  ASSERT_TRUE(parse_kib_field(rollup, "Rss", kib));
  EXPECT_EQ(kib, 8192u);
  ASSERT_TRUE(parse_kib_field(rollup, "Pss", kib));
  EXPECT_EQ(kib, 7000u);
  ASSERT_TRUE(parse_kib_field(rollup, "Anonymous", kib));
  EXPECT_EQ(kib, 2500u);
}

TEST(ProcStats, ReadsThisProcess) {
  uint64_t cpu_us = 0;
  ProcMemory memory;
  std::string why;
  ASSERT_TRUE(read_process_cpu_us(getpid(), cpu_us, why)) << why;
  ASSERT_TRUE(read_process_memory(getpid(), memory, why)) << why;
  EXPECT_GT(memory.rss_kib, 0u);
  EXPECT_GT(memory.anon_kib, 0u);
  EXPECT_LE(memory.anon_kib, memory.rss_kib);
  ASSERT_TRUE(memory.has_pss);  // smaps_rollup exists on every kernel the project runs on
  EXPECT_GT(memory.pss_kib, 0u);
  EXPECT_LE(memory.pss_kib, memory.rss_kib);
  EXPECT_GE(memory.private_kib, memory.anon_kib);  // anonymous pages of one process are private
  EXPECT_LE(memory.private_kib, memory.rss_kib);
  EXPECT_FALSE(read_process_cpu_us(0x7ffffff0, cpu_us, why));
  EXPECT_FALSE(why.empty());
}

}  // namespace
}  // namespace wshub::load
