#!/usr/bin/env bash
# The one command for the side-by-side benchmark: builds wshub (release preset) with its
# load generator and the peer echo servers, then runs bench/run_bench.py, which writes
# docs/benchmarks.md. Options go to run_bench.py (--rounds N, --duration S, --quick,
# --only wshub,beast,...; --help lists them); --no-build skips the builds.
#
#   bench/run.sh                 full run: 3 rounds, 10 s per echo run, 10,000 idle connections
#   bench/run.sh --quick         1 round, short runs: a smoke test (report in build/bench/)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# The machine is shared: builds use at most this many jobs.
jobs="${BENCH_BUILD_JOBS:-2}"

build=1
args=()
for arg in "$@"; do
  if [[ "$arg" == "--no-build" ]]; then build=0; else args+=("$arg"); fi
done

for tool in taskset valgrind; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    package=valgrind; [[ "$tool" == taskset ]] && package=util-linux
    echo "run.sh: installing $package"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null
  fi
done

if ((build)); then
  echo "run.sh: building wshub and wshub-load (release preset, $jobs jobs)"
  cmake --preset release >/dev/null
  targets=(--target wshub)
  [[ -f tools/load/CMakeLists.txt ]] && targets+=(wshub-load)
  cmake --build --preset release -j "$jobs" "${targets[@]}"
  bench/build-peers.sh
fi

exec /usr/bin/python3 bench/run_bench.py --command-line "bench/run.sh${args[*]:+ ${args[*]}}" "${args[@]}"
