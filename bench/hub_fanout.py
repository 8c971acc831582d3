#!/usr/bin/python3
"""Fan-out side by side: wshub's hub route (1 and 2 workers, publications from the HTTP API),
wshub's plain `broadcast` route, Node `ws` broadcast and Socket.IO rooms, in one run, on this
machine. Every server runs pinned to one CPU and wshub-load to the other; each case starts a
fresh server, opens N subscribers, publishes 64-byte payloads at a rate (or back to back), and
reads server CPU per delivery, deliveries/s and latencies from wshub-load's JSON. With
--memory it measures server memory per subscribed hub connection instead.

    bench/hub_fanout.py                        the default cases, 1 round (build/bench/hub-fanout.md)
    bench/hub_fanout.py --cases 1000@100,1000@sat --servers hub-1,broadcast-1 --rounds 3
    bench/hub_fanout.py --memory               memory per connection (build/bench/hub-memory.md)

Exits 1 when any run failed or did not deliver everything (after writing the report). A case
is SUBSCRIBERS@RATE: RATE publications per second for --publish-seconds, or `sat`,
back to back (enough publications for about --sat-deliveries deliveries). Needs
build/release/wshub and wshub-load (cmake --build --preset release --target wshub wshub-load)
and `npm ci` in bench/peers/node (done here when node_modules is missing).
"""
import argparse
import datetime
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

from peers import servers
from bench_facts import machine_facts  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "bench" / "hub" / "wshub-bench.toml"
NODE_DIR = ROOT / "bench" / "peers" / "node"
API_KEY = "bench-api-key"  # from CONFIG
SOURCE_IPS = "127.0.0.1-127.0.0.8"

SERVERS = {
    "hub-1": "wshub hub (1 worker)",
    "hub-2": "wshub hub (2 workers)",
    "hub-ws-1": "wshub hub (1 worker, client publish)",
    "hub-ws-2": "wshub hub (2 workers, client publish)",
    "broadcast-1": "wshub broadcast (1 worker)",
    "broadcast-2": "wshub broadcast (2 workers)",
    "node": "Node ws broadcast",
    "socketio": "Socket.IO rooms",
}
PEERS = ["node", "socketio"]
DEFAULT_SERVERS = "hub-1,hub-2,hub-ws-1,broadcast-1,broadcast-2,node,socketio"
DEFAULT_CASES = "10@sat,100@100,100@sat,1000@10,1000@100,1000@200,1000@sat,10000@10,10000@100,10000@200,10000@sat"


def server_argv(name, port, api_port, wshub):
    if name.startswith(("hub-", "broadcast-")):
        threads = name.split("-")[-1]
        return [str(wshub), "--config", str(CONFIG), "--listen", f"127.0.0.1:{port}",
                "--api-listen", f"127.0.0.1:{api_port}", "--threads", threads]
    script = {"node": "broadcast.mjs", "socketio": "socketio-fanout.mjs"}[name]
    return ["node", str(NODE_DIR / script), str(port)]


def target_args(name, port, api_port, token):
    if name.startswith("hub-ws-"):
        # Publications from one more hub connection (publish = "subscribers" in the config).
        return ["--url", f"ws://127.0.0.1:{port}/hub", "--protocol", "hub", "--token", token, "--publish", "ws"]
    if name.startswith("hub-"):
        return ["--url", f"ws://127.0.0.1:{port}/hub", "--protocol", "hub", "--token", token,
                "--publish", "api", "--api-url", f"http://127.0.0.1:{api_port}", "--api-key", API_KEY,
                "--api-depth", "16"]
    if name.startswith("broadcast-"):
        return ["--url", f"ws://127.0.0.1:{port}/broadcast"]
    if name == "node":
        return ["--url", f"ws://127.0.0.1:{port}/"]
    return ["--url", f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket", "--protocol", "socketio"]


def parse_case(text):
    subscribers, rate = text.split("@")
    return int(subscribers), rate


def case_plan(subscribers, rate, options):
    """(messages, interval_ms) of one case."""
    if rate == "sat":
        return max(20, min(500_000, options.sat_deliveries // subscribers)), 0
    per_second = int(rate)
    return max(1, int(per_second * options.publish_seconds)), round(1000 / per_second)


def mint_token(wshub):
    return subprocess.run([str(wshub), "token", "--config", str(CONFIG), "--user", "bench", "--ttl", "7200"],
                          capture_output=True, text=True, check=True, timeout=30).stdout.strip()


def ensure_node_deps():
    if not (NODE_DIR / "node_modules" / "socket.io").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE_DIR, check=True)


def run_case(name, load_args, options, log_dir, wshub, load):
    """Starts a fresh server `name`, runs wshub-load with `load_args` + its target, stops the
    server. Returns (report dict or None, load argv, server argv, failure text)."""
    port, api_port = servers.free_port(), servers.free_port()
    argv = server_argv(name, port, api_port, wshub)
    server = servers.ServerProcess(name, port, cpu=options.server_cpu, log_path=log_dir / f"{name}.log",
                                   command=argv)
    try:
        server.start()
        time.sleep(0.3)  # let every worker reach its loop
        command = ["taskset", "-c", str(options.load_cpu), str(load), *load_args,
                   *target_args(name, port, api_port, options.token), "--server-pid", str(server.pid), "--json"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=options.timeout)
        report = None
        for line in done.stdout.splitlines():
            if line.startswith("{"):
                report = json.loads(line)
        failure = "" if done.returncode in (0, 2) and report else f"exit {done.returncode}: {done.stderr[-400:]}"
        return (None if failure else report), command, server.argv, failure
    except (RuntimeError, subprocess.TimeoutExpired) as error:
        return None, [], server.argv, str(error)
    finally:
        server.stop()


def placeholder(argv, token):
    """A command as the report shows it: the run's copies of the binaries named as what they
    were copied from, paths relative to the repository, the token left out."""
    text = re.sub(r"\S*/build/bench/bin-\d+/", "build/release/", " ".join(argv)).replace(f"{ROOT}/", "")
    return text.replace(token, "TOKEN") if token else text


def fmt(value, digits=2):
    if value is None:
        return "—"
    if isinstance(value, float) and digits == 0:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,}"


def fanout(options, wshub, load, log_dir):
    cases = [parse_case(c) for c in options.cases.split(",")]
    names = options.servers.split(",")
    results = {}  # (case, server) -> [reports]
    commands = {}
    for round_no in range(options.rounds):
        for case_index, (subscribers, rate) in enumerate(cases):
            messages, interval = case_plan(subscribers, rate, options)
            # Rotate the order per case and round, so a noisy minute does not always hit one server.
            shift = (case_index + round_no) % len(names)
            for name in names[shift:] + names[:shift]:
                duration = messages * interval / 1000 + options.drain_seconds
                args = ["fanout", "--subscribers", str(subscribers), "--messages", str(messages),
                        "--interval-ms", str(interval), "--size", "64", "--duration", f"{duration:g}",
                        "--warmup", "0.5", "--source-ips", SOURCE_IPS]
                report, command, server_argv_used, failure = run_case(name, args, options, log_dir, wshub, load)
                key = (f"{subscribers}@{rate}", name)
                results.setdefault(key, []).append(report or {"failure": failure})
                commands.setdefault(name, (server_argv_used, command))
                summary = failure or (f"{report.get('deliveries_per_sec', 0):,.0f} deliveries/s, "
                                      f"{report.get('server_cpu_us_per_msg', float('nan')):.3f} us/delivery, "
                                      f"lost {report.get('lost')}, errors {report.get('errors')}")
                print(f"round {round_no + 1} {subscribers}@{rate} {name}: {summary}", flush=True)
    return cases, names, results, commands


def median_of(reports, path):
    values = []
    for report in reports:
        value = report
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, (int, float)):
            values.append(float(value))
    return statistics.median(values) if values else None


def fanout_markdown(options, cases, names, results, commands, started, finished):
    out = [f"Measured {started:%Y-%m-%d %H:%M}–{finished:%H:%M} UTC by `{options.command_line}`, "
           f"{options.rounds} round(s), medians over rounds. Server on CPU {options.server_cpu}, "
           f"wshub-load on CPU {options.load_cpu} (`taskset`); a 2-worker server has both workers on CPU "
           f"{options.server_cpu}. Load average before: {options.load_before}.", ""]
    for subscribers, rate in cases:
        key = f"{subscribers}@{rate}"
        messages, interval = case_plan(subscribers, rate, options)
        what = (f"{rate} publications/s ({messages} publications {interval} ms apart)" if rate != "sat"
                else f"saturation ({messages} publications back to back)")
        out += [f"#### {subscribers:,} subscribers, {what}", ""]
        peer_cpu = [median_of(results.get((key, p), []), "server_cpu_us_per_msg") for p in PEERS if p in names]
        peer_cpu = [c for c in peer_cpu if c]
        best_peer = min(peer_cpu) if peer_cpu else None
        broadcast = median_of(results.get((key, "broadcast-1"), []), "server_cpu_us_per_msg")
        out += ["| server | deliveries/s | all delivered | server CPU µs/delivery | vs best peer | vs broadcast (1 w) "
                "| delivery p50 / p99 µs | last delivery p50 / p99 µs | load CPU µs/delivery |",
                "|---|---:|---|---:|---:|---:|---:|---:|---:|"]
        for name in names:
            reports = [r for r in results.get((key, name), []) if "failure" not in r]
            failures = [r["failure"] for r in results.get((key, name), []) if "failure" in r]
            if not reports:
                out.append(f"| {SERVERS[name]} | failed: {failures[0][:120] if failures else 'not run'} |||||||| ")
                continue
            cpu = median_of(reports, "server_cpu_us_per_msg")
            lost = sum(int(r.get("lost", 0)) for r in reports)
            errors = sum(int(r.get("errors", 0)) for r in reports)
            complete = "yes" if lost == 0 and errors == 0 else f"no: lost {lost:,}, errors {errors:,}"
            ratio = f"{cpu / best_peer:.2f}×" if cpu and best_peer else "—"
            versus = f"{cpu / broadcast:.2f}×" if cpu and broadcast else "—"
            out.append(
                f"| {SERVERS[name]} | {fmt(median_of(reports, 'deliveries_per_sec'), 0)} | {complete} | {fmt(cpu, 3)} "
                f"| {ratio} | {versus} | {fmt(median_of(reports, 'delivery_us.p50'), 0)} / "
                f"{fmt(median_of(reports, 'delivery_us.p99'), 0)} | {fmt(median_of(reports, 'last_delivery_us.p50'), 0)} / "
                f"{fmt(median_of(reports, 'last_delivery_us.p99'), 0)} | {fmt(median_of(reports, 'client_cpu_us_per_msg'), 3)} |")
        out.append("")
    out += ["Commands (one case shown; PORT, API_PORT and PID are per run, TOKEN from "
            "`wshub token --config bench/hub/wshub-bench.toml --user bench --ttl 7200`):", "", "```"]
    for name in names:
        if name in commands:
            server_argv_used, load_argv = commands[name]
            out.append(placeholder(server_argv_used, options.token))
            out.append(placeholder(load_argv, options.token))
    out += ["```", ""]
    return "\n".join(out)


def memory(options, wshub, load, log_dir):
    """Memory per connection: hub connections with 1 and 10 subscriptions, plain connections."""
    n = options.memory_connections
    runs = [
        ("hub-1", "hub connection, 1 subscription",
         ["fanout", "--subscribers", str(n), "--messages", "1", "--channels-per-connection", "1"]),
        ("hub-1", "hub connection, 10 subscriptions",
         ["fanout", "--subscribers", str(n), "--messages", "1", "--channels-per-connection", "10"]),
        ("broadcast-1", "plain connection on the broadcast route", ["fanout", "--subscribers", str(n), "--messages", "1"]),
        ("node", "Node ws connection", ["fanout", "--subscribers", str(n), "--messages", "1"]),
        ("socketio", "Socket.IO connection in one room", ["fanout", "--subscribers", str(n), "--messages", "1"]),
    ]
    rows = []
    for name, what, args in runs:
        args = args + ["--interval-ms", "0", "--duration", "20", "--warmup", "1", "--source-ips", SOURCE_IPS]
        per_round = []
        for round_no in range(options.rounds):
            report, command, server_argv_used, failure = run_case(name, args, options, log_dir, wshub, load)
            per_round.append(report or {"failure": failure})
            print(f"memory round {round_no + 1} {what}: "
                  f"{failure or (report.get('rss_per_conn_kib'), report.get('anon_per_conn_kib'))}", flush=True)
        rows.append((name, what, per_round, server_argv_used, command))
    return rows


def memory_markdown(options, rows, started):
    n = options.memory_connections
    out = [f"Measured {started:%Y-%m-%d %H:%M} UTC by `{options.command_line}`: {n:,} connections each "
           "(subscribed where the protocol has it), one publication delivered to all, then the server's "
           "`/proc/PID/smaps_rollup` against a fresh server's; medians over "
           f"{options.rounds} round(s).", "",
           "| connection | total RSS KiB per connection | anonymous KiB | RSS before KiB | RSS after KiB |",
           "|---|---:|---:|---:|---:|"]
    for _, what, per_round, _, _ in rows:
        ok = [r for r in per_round if "failure" not in r]
        if not ok:
            out.append(f"| {what} | failed: {per_round[0]['failure'][:120]} |||| ")
            continue
        out.append(f"| {what} | {fmt(median_of(ok, 'rss_per_conn_kib'), 3)} | {fmt(median_of(ok, 'anon_per_conn_kib'), 3)} "
                   f"| {fmt(median_of(ok, 'server_rss_kib_before'), 0)} | {fmt(median_of(ok, 'server_rss_kib_after'), 0)} |")
    out += ["", "Commands:", "", "```"]
    for _, _, _, server_argv_used, command in rows:
        out.append(placeholder(server_argv_used, options.token))
        out.append(placeholder(command, options.token))
    out += ["```", ""]
    return "\n".join(out)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", default=DEFAULT_CASES, help="SUBSCRIBERS@RATE,... (RATE: per second, or sat)")
    parser.add_argument("--servers", default=DEFAULT_SERVERS, help=f"from {','.join(SERVERS)}")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--publish-seconds", type=float, default=5.0, help="how long paced cases publish")
    parser.add_argument("--sat-deliveries", type=int, default=5_000_000, help="deliveries per saturation case")
    parser.add_argument("--drain-seconds", type=float, default=8.0, help="time allowed past the last publication")
    parser.add_argument("--memory", action="store_true", help="measure memory per connection instead")
    parser.add_argument("--memory-connections", type=int, default=5000)
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--load-cpu", type=int, default=1)
    parser.add_argument("--output", type=Path, help="markdown out (default build/bench/hub-fanout.md or hub-memory.md)")
    parser.add_argument("--wshub", type=Path, default=ROOT / "build" / "release" / "wshub")
    parser.add_argument("--load", type=Path, default=ROOT / "build" / "release" / "wshub-load")
    options = parser.parse_args(argv)
    options.command_line = "bench/hub_fanout.py" + ("" if not argv else " " + " ".join(argv))
    options.timeout = 120
    wshub, load = options.wshub, options.load
    for binary in (wshub, load):
        if not binary.exists():
            sys.exit(f"{binary} is missing: cmake --build --preset release --target wshub wshub-load")
    # Measured from copies: a rebuild during the run cannot change them.
    wshub, load = servers.frozen_copies([wshub, load], ROOT / "build" / "bench")
    if any(name in PEERS for name in options.servers.split(",")):
        ensure_node_deps()
    options.token = mint_token(wshub)
    options.load_before = os.getloadavg()
    log_dir = ROOT / "build" / "bench" / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    started = datetime.datetime.now(datetime.timezone.utc)
    stamp = f"{started:%Y%m%d-%H%M%S}"
    if options.memory:
        rows = memory(options, wshub, load, log_dir)
        complete = all("failure" not in r for _, _, per_round, _, _ in rows for r in per_round)
        text = memory_markdown(options, rows, started)
        raw = [{"what": what, "reports": per_round} for _, what, per_round, _, _ in rows]
        output = options.output or ROOT / "build" / "bench" / "hub-memory.md"
    else:
        cases, names, results, commands = fanout(options, wshub, load, log_dir)
        complete = all("failure" not in r and not r.get("errors") for reports in results.values() for r in reports)
        finished = datetime.datetime.now(datetime.timezone.utc)
        text = fanout_markdown(options, cases, names, results, commands, started, finished)
        raw = [{"case": case, "server": server, "reports": reports} for (case, server), reports in results.items()]
        output = options.output or ROOT / "build" / "bench" / "hub-fanout.md"
    facts = machine_facts()
    (ROOT / "build" / "bench" / f"hub-results-{stamp}.json").write_text(json.dumps({"facts": facts, "runs": raw}))
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    print(text)
    # Non-zero when any run failed or lost deliveries (the report says which), as run_bench.py.
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
