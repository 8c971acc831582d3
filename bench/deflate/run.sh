#!/usr/bin/env bash
# Server CPU per 1 KiB JSON echo message with and without permessage-deflate, and RSS per idle
# compressed connection, on the real server: wshub pinned to CPU 0 (one worker), the client
# (wshub_deflate_echo) pinned to CPU 1, server CPU read from /proc/PID/stat over the window.
#
#   bench/deflate/run.sh [BUILD_DIR]      (default build/release; needs wshub and wshub_deflate_echo)
#
# Environment: SECONDS_PER_RUN (10), ROUNDS (3), CONNECTIONS (4), DEPTH (16), HOLD (2000),
# IO (epoll); ROUNDS=0 skips the CPU runs, HOLD=0 the memory runs. Each CPU run is repeated ROUNDS times, the modes interleaved within each round;
# the summary gives the median round per mode (the machine is shared: rounds spread the noise).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build/release}
WSHUB=$BUILD/wshub
CLIENT=$BUILD/wshub_deflate_echo
SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-4}
DEPTH=${DEPTH:-16}
HOLD=${HOLD:-2000}
IO=${IO:-epoll}
[ -x "$WSHUB" ] && [ -x "$CLIENT" ] || { echo "build $WSHUB and $CLIENT first" >&2; exit 2; }

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# start_server NAME TOML: starts wshub on CPU 0 and sets server_pid and port.
start_server() {
  printf '%s\n' "$2" > "$work/$1.toml"
  taskset -c 0 "$WSHUB" --config "$work/$1.toml" --listen 127.0.0.1:0 --threads 1 --io "$IO" \
    2> "$work/$1.log" &
  server_pid=$!
  for _ in $(seq 200); do
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$work/$1.log" | head -1)
    [ -n "$port" ] && return 0
    sleep 0.05
  done
  echo "wshub did not start:" >&2; cat "$work/$1.log" >&2; exit 1
}

stop_server() {
  kill -TERM "$server_pid"; wait "$server_pid" || true; server_pid=""
}

NO_TAKEOVER='[compression]
enabled = true'
TAKEOVER='[compression]
enabled = true
server_no_context_takeover = false
client_no_context_takeover = false'
TAKEOVER_SMALL="$TAKEOVER
server_max_window_bits = 12
client_max_window_bits = 12
mem_level = 5"

if [ "$ROUNDS" -gt 0 ]; then
echo "# server CPU per echoed message (wshub on CPU 0, client on CPU 1, $CONNECTIONS connections x $DEPTH in flight, ${SECONDS_PER_RUN}s x $ROUNDS rounds, io $IO)"
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$ROUNDS"); do
  for run in "none|$NO_TAKEOVER" "no-takeover|$NO_TAKEOVER" "takeover|$TAKEOVER" "takeover|$TAKEOVER_SMALL"; do
    mode=${run%%|*}
    config=${run#*|}
    start_server "$mode" "$config"
    label=$mode
    [[ "$config" == *mem_level* ]] && label="$mode(12/5)"
    line=$(taskset -c 1 "$CLIENT" --port "$port" --server-pid "$server_pid" --mode "$mode" \
      --connections "$CONNECTIONS" --depth "$DEPTH" --seconds "$SECONDS_PER_RUN")
    echo "round $round $label: $line"
    echo "$label $line" >> "$work/cpu.txt"
    stop_server
  done
done
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# median over rounds: server CPU us per message, bytes per message client->server / server->client"
for label in none no-takeover takeover "takeover(12/5)"; do
  awk -v label="$label" '
    $1 != label { next }
    { for (i = 1; i <= NF; ++i) { split($i, kv, "="); v[kv[1]] = kv[2] }
      us[++n] = v["server_us_per_msg"]; up = v["to_server_bytes_per_msg"]; down = v["to_client_bytes_per_msg"] }
    END {
          for (i = 2; i <= n; ++i) { x = us[i]; j = i - 1; while (j > 0 && us[j] + 0 > x + 0) { us[j + 1] = us[j]; --j } us[j + 1] = x }
          printf "%-16s %6.2f us/msg  (rounds: %s .. %s)  %s / %s bytes\n", label, us[int((n + 1) / 2)], us[1], us[n], up, down }' "$work/cpu.txt"
done
fi

[ "$HOLD" -gt 0 ] || exit 0
echo "# server RSS per idle connection after one compressed message each way ($HOLD connections)"
for run in "none|$NO_TAKEOVER" "no-takeover|$NO_TAKEOVER" "takeover|$TAKEOVER" "takeover|$TAKEOVER_SMALL"; do
  mode=${run%%|*}
  config=${run#*|}
  start_server "hold-$mode" "$config"
  label=$mode
  [[ "$config" == *mem_level* ]] && label="$mode(12/5)"
  echo -n "$label: "
  taskset -c 1 "$CLIENT" --port "$port" --server-pid "$server_pid" --mode "$mode" --hold "$HOLD"
  stop_server
done
