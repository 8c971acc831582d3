// The conformance suite's entry point: GoogleTest's flags, plus --server-arg=ARG (repeatable)
// to pass ARG to every wshub the suite starts, e.g. --server-arg=--io=epoll to run the same
// cases against another I/O backend.
#include <gtest/gtest.h>

#include <cstdio>
#include <string_view>

#include "conformance.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  constexpr std::string_view kServerArg = "--server-arg=";
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.substr(0, kServerArg.size()) != kServerArg) {
      std::fprintf(stderr, "unknown argument %s (expected --server-arg=ARG or a gtest flag)\n",
                   argv[i]);
      return 2;
    }
    wshub::test::ConformanceTest::add_server_arg(std::string(arg.substr(kServerArg.size())));
  }
  return RUN_ALL_TESTS();
}
