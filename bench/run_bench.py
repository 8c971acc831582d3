#!/usr/bin/python3
"""Side-by-side WebSocket echo benchmark: wshub (1 thread) against its peers, on this machine,
in one run. Writes docs/benchmarks.md (or --output).

Called by bench/run.sh after it has built wshub, wshub-load and the peers. Every server runs
pinned to one CPU and the load generator to another; rounds interleave the servers so that
noise on the machine spreads over all of them; each table shows medians over rounds.
Knows how to start servers (bench/peers/servers.py) and how to read wshub-load's JSON; it
does not generate load itself.
"""
import argparse
import datetime
import json
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench_facts import machine_facts, software_versions
from callgrind_costs import callgrind_function_costs, callgrind_total_ir
from peers import servers

ROOT = servers.ROOT
PATH_ON_SERVER = "/echo"


@dataclass
class Scenario:
    key: str
    mode: str  # "echo" or "idle"
    title: str
    what: str
    args: list


@dataclass
class Config:
    rounds: int
    duration: float
    warmup: float
    idle_connections: int
    idle_hold: float
    servers: list
    load: Path
    server_cpu: int
    load_cpu: int
    pause: float
    callgrind: bool
    callgrind_durations: tuple
    work_dir: Path
    output: Path
    command_line: str
    quick: bool


@dataclass
class RunResult:
    server: str
    scenario: str
    round: int
    data: dict = None
    failure: str = None
    load_argv: list = field(default_factory=list)
    server_argv: list = field(default_factory=list)


def scenarios(config):
    echo_time = ["--duration", f"{config.duration:g}", "--warmup", f"{config.warmup:g}"]
    n = config.idle_connections
    return [
        Scenario("echo-16-d1", "echo", "Echo: 100 connections × 16 B text, depth 1",
                 "Each connection keeps one 16-byte text message in flight: per-message "
                 "overhead (syscalls, framing, masking) dominates.",
                 ["--connections", "100", "--size", "16", "--depth", "1"] + echo_time),
        Scenario("echo-16-d16", "echo", "Echo: 100 connections × 16 B text, depth 16",
                 "Each connection keeps 16 messages in flight, so one read can carry many "
                 "frames: shows whether a server batches reads and writes.",
                 ["--connections", "100", "--size", "16", "--depth", "16"] + echo_time),
        Scenario("echo-64k-d1", "echo", "Echo: 10 connections × 64 KiB binary, depth 1",
                 "Large messages: copying, buffering and unmasking cost per byte.",
                 ["--connections", "10", "--size", "65536", "--binary", "--depth", "1"] + echo_time),
        Scenario("idle", "idle", f"Idle: {n:,} connections",
                 f"{n:,} connections open the WebSocket and stay silent for "
                 f"{config.idle_hold:g} s: growth of the server's memory divided by connections, "
                 "measured four ways from `/proc/PID/smaps_rollup` before the first connection and "
                 "during the hold. **Total RSS** (`Rss`, the same as `VmRSS` in `/proc/PID/status` "
                 "and what `ps` and most benchmarks report) counts every resident page, code and "
                 "libraries first touched meanwhile included; **anonymous** (`Anonymous`) only the "
                 "heap and stacks; **Pss** shares a page among the processes that map it; **private** "
                 "(`Private_Clean` + `Private_Dirty`) counts pages no other process maps.",
                 ["--connections", str(n), "--hold", f"{config.idle_hold:g}",
                  "--source-ips", "127.0.0.1-127.0.0.8"]),
    ]


# --- one measurement ---------------------------------------------------------------------

def parse_load_json(stdout):
    """wshub-load prints one JSON object; take the last line that parses as one."""
    text = stdout.strip()
    try:
        value = json.loads(text)
        if isinstance(value, dict):
            return value
    except ValueError:
        pass
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                continue
    return None


def metric(data, dotted):
    """Reads "latency_us.p99" from nested objects, or from a flat key of that name."""
    if data is None:
        return None
    if dotted in data:
        return data[dotted]
    value = data
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def load_argv(config, scenario, port, pid):
    return (["taskset", "-c", str(config.load_cpu), str(config.load), scenario.mode,
             "--url", f"ws://127.0.0.1:{port}{PATH_ON_SERVER}"] + scenario.args +
            ["--server-pid", str(pid), "--json"])


def load_timeout(config, scenario):
    if scenario.mode == "echo":
        return config.duration + config.warmup + 120
    return config.idle_hold + 300


def tail(text, lines=6):
    return " | ".join(text.strip().splitlines()[-lines:])


def run_once(config, scenario, server_name, round_no):
    port = servers.free_port()
    log_path = config.work_dir / "logs" / f"{server_name}-{scenario.key}-r{round_no}.log"
    server = servers.ServerProcess(server_name, port, cpu=config.server_cpu, log_path=log_path)
    result = RunResult(server_name, scenario.key, round_no, server_argv=server.argv)
    try:
        server.start()
    except Exception as error:
        result.failure = f"server did not start: {error}"
        return result
    try:
        argv = load_argv(config, scenario, port, server.pid)
        result.load_argv = argv
        try:
            done = subprocess.run(argv, capture_output=True, text=True,
                                  timeout=load_timeout(config, scenario),
                                  preexec_fn=servers.raise_open_file_limit)
        except subprocess.TimeoutExpired:
            result.failure = f"wshub-load timed out after {load_timeout(config, scenario):.0f} s"
            return result
        result.data = parse_load_json(done.stdout)
        if not server.alive():
            result.failure = (f"server exited with status {server.process.returncode} "
                              f"during the run (log: {log_path})")
        elif done.returncode != 0:
            result.failure = f"wshub-load exited with {done.returncode}: {tail(done.stderr)}"
        elif result.data is None:
            result.failure = f"wshub-load printed no JSON: {tail(done.stdout + done.stderr)}"
        return result
    finally:
        server.stop()


# --- callgrind ----------------------------------------------------------------------------

def messages_in(data, duration):
    for key in ("messages", "msgs", "total_messages"):
        value = metric(data, key)
        if isinstance(value, (int, float)) and value > 0:
            return value
    return metric(data, "msgs_per_sec") * duration


def run_callgrind(config):
    """Runs wshub under callgrind twice (short and long) with the same echo load and
    returns instructions per echo message from the difference, which cancels start-up,
    handshakes and shutdown."""
    scenario = Scenario("callgrind", "echo", "", "",
                        ["--connections", "10", "--size", "16", "--depth", "1", "--warmup", "0"])
    runs = []
    for duration in config.callgrind_durations:
        out_file = config.work_dir / f"callgrind.out.wshub.{duration:g}s"
        if out_file.exists():
            out_file.unlink()
        port = servers.free_port()
        prefix = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}"]
        server = servers.ServerProcess("wshub-epoll", port, cpu=config.server_cpu, prefix=prefix,
                                       log_path=config.work_dir / "logs" / f"callgrind-{duration:g}s.log")
        server.start(timeout=120)
        argv = load_argv(config, scenario, port, server.pid)
        argv[argv.index("--warmup"):argv.index("--warmup")] = ["--duration", f"{duration:g}"]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 300,
                                  preexec_fn=servers.raise_open_file_limit)
        finally:
            server.stop(grace=120)
        data = parse_load_json(done.stdout)
        if done.returncode != 0 or data is None:
            raise RuntimeError(f"wshub-load under callgrind failed ({done.returncode}): "
                               f"{tail(done.stdout + done.stderr)}")
        if not out_file.exists():
            raise RuntimeError(f"callgrind wrote no {out_file}")
        runs.append({"duration": duration, "messages": messages_in(data, duration),
                     "ir": callgrind_total_ir(out_file), "file": out_file, "data": data,
                     "load_argv": argv, "server_argv": server.argv})
    short, long = runs[0], runs[-1]
    result = {"runs": runs, "top": []}
    if long["messages"] > short["messages"]:
        extra = long["messages"] - short["messages"]
        result["ir_per_msg_marginal"] = (long["ir"] - short["ir"]) / extra
        before = callgrind_function_costs(short["file"])
        after = callgrind_function_costs(long["file"])
        per_msg = [((after[name] - before.get(name, 0)) / extra, name) for name in after]
        result["top"] = sorted(per_msg, reverse=True)[:15]
    result["ir_per_msg_total"] = long["ir"] / long["messages"] if long["messages"] else None
    return result


# --- report -------------------------------------------------------------------------------

def median(values):
    values = [v for v in values if isinstance(v, (int, float))]
    return statistics.median(values) if values else None


def fmt(value, digits=2):
    if value is None:
        return "—"
    if digits == 0:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def fmt_ratio(value, best):
    if value is None or not best:
        return "—"
    return f"{value / best:.2f}×"


def summarize(results, scenario, server):
    rows = [r for r in results if r.scenario == scenario.key and r.server == server]
    good = [r for r in rows if r.failure is None]
    errors = sum(int(metric(r.data, "errors") or 0) for r in rows if r.data)
    notes = []
    if errors:
        first = next((metric(r.data, "first_error") for r in rows
                      if r.data and metric(r.data, "first_error")), None)
        notes.append(f"{errors:,} load errors" + (f" (first: {first})" if first else ""))
    for r in rows:
        opened, wanted = metric(r.data, "connections_open"), metric(r.data, "connections")
        if isinstance(opened, int) and isinstance(wanted, int) and opened < wanted:
            notes.append(f"round {r.round}: {opened:,} of {wanted:,} connections opened")
        if metric(r.data, "error"):
            notes.append(f"round {r.round}: {metric(r.data, 'error')}")
        # wshub-load explains here why a server figure is missing; only that case matters.
        headline = "server_cpu_us_per_msg" if scenario.mode == "echo" else "anon_per_conn_kib"
        if metric(r.data, "server_stats_error") and metric(r.data, headline) is None:
            notes.append(f"round {r.round}: {metric(r.data, 'server_stats_error')}")
    failed = [r for r in rows if r.failure]
    if failed:
        notes.append(f"{len(failed)} of {len(rows)} rounds failed: {failed[0].failure}")

    def med(name):
        return median([metric(r.data, name) for r in good])

    cpu_values = [metric(r.data, "server_cpu_us_per_msg") for r in good]
    cpu_values = [v for v in cpu_values if isinstance(v, (int, float))]
    return {
        "server": server,
        "rounds": len(good),
        "msgs_per_sec": med("msgs_per_sec"),
        "cpu_us_per_msg": med("server_cpu_us_per_msg"),
        "cpu_min": min(cpu_values) if cpu_values else None,
        "cpu_max": max(cpu_values) if cpu_values else None,
        "p99_us": med("latency_us.p99"),
        "rss_per_conn_kib": med("rss_per_conn_kib"),
        "anon_per_conn_kib": med("anon_per_conn_kib"),
        "pss_per_conn_kib": med("pss_per_conn_kib"),
        "private_per_conn_kib": med("private_per_conn_kib"),
        "rss_before": med("server_rss_kib_before"),
        "rss_after": med("server_rss_kib_after"),
        "notes": "; ".join(notes).replace("|", "/").replace("\n", " "),
    }


def best_peer(rows, key):
    peers = [(row[key], row["server"]) for row in rows
             if row["server"] in servers.PEERS and isinstance(row[key], (int, float)) and row[key] > 0]
    return min(peers) if peers else (None, None)


def placeholder_argv(argv, port_and_pid):
    """Replaces this run's port and PID in a command line with PORT and PID."""
    text = shlex.join(str(a) for a in argv)
    port, pid = port_and_pid
    text = re.sub(rf":{port}\b", ":PORT", text)
    text = re.sub(rf"(?<=\s){port}\b", "PORT", text)
    text = re.sub(rf"--server-pid {pid}\b", "--server-pid PID", text)
    return text.replace(str(ROOT) + "/", "")


def example_commands(results, scenario_key):
    for r in results:
        if r.scenario == scenario_key and r.load_argv:
            url = r.load_argv[r.load_argv.index("--url") + 1]
            port = url.rsplit(":", 1)[1].split("/")[0]
            pid = r.load_argv[r.load_argv.index("--server-pid") + 1]
            return placeholder_argv(r.load_argv, (port, pid))
    return None


def auto_io_backend(log_dir):
    """The backend wshub's `--io auto` chose, as its start-up log line names it."""
    for log in sorted(log_dir.glob("wshub-echo-*.log")):
        m = re.search(r"io backend: (\S+)", log.read_text(errors="replace"))
        if m:
            return m.group(1)
    return None


# Everything in docs/benchmarks.md from this line on is the hub section (bench/README.md).
HUB_SECTION_MARKER = "<!-- hub section: from bench/hub_fanout.py, hub_api.py and hub_callgrind.py; run_bench.py keeps it -->"


def write_report(config, chosen_scenarios, results, callgrind, facts, versions, started, finished, load_before,
                 load_after):
    out = []
    w = out.append
    w("# Benchmarks: wshub against peer WebSocket servers")
    w("")
    w(f"Measured on {started:%Y-%m-%d} from {started:%H:%M} to {finished:%H:%M} UTC by "
      "`bench/run.sh`, all servers on this one machine in one run. Generated file: edit "
      "`bench/run_bench.py`, not this page. How to read it, and the caveats: "
      "[bench/README.md](../bench/README.md).")
    w("")
    if config.quick:
        w("**Quick run (`--quick`): one round, short durations. A smoke test of the harness, "
          "not numbers to quote.**")
        w("")
    w("## Machine")
    w("")
    w(f"- CPU: {facts['cpu']}, {facts['cores']} cores")
    w(f"- Kernel: {facts['kernel']} ({facts['os']}); memory {facts['memory']}")
    w(f"- Load average before / after the run: {load_before} / {load_after} (the machine is "
      "shared, so other work competes for both cores; the rounds spread that noise)")
    w(f"- Pinning: every server on CPU {config.server_cpu} (`taskset -c {config.server_cpu}`), "
      f"the load generator on CPU {config.load_cpu} (`taskset -c {config.load_cpu}`)")
    w("")
    w("## Software")
    w("")
    w("| what | version |")
    w("|---|---|")
    for name, version in versions:
        w(f"| {name} | {version} |")
    w("")
    w("Every peer is a minimal single-threaded echo server written for this comparison "
      "(`bench/peers/`), permessage-deflate off, message limit 64 MiB, TCP_NODELAY on.")
    w("")
    w("## Method")
    w("")
    w(f"- Command: `{config.command_line}`")
    w(f"- {config.rounds} round(s). In each round every scenario runs every server once, "
      "in an order rotated from round to round; each run starts a fresh server, waits for its "
      "port, runs the load, and stops the server by PID. Tables show the median over rounds "
      "of each figure; the CPU range is the lowest and highest round.")
    w(f"- Echo scenarios: {config.warmup:g} s warm-up, then {config.duration:g} s measured. "
      "Server CPU µs/msg is the server's user+system CPU time over the measured interval "
      "divided by the messages echoed in it. p99 latency is the round trip of one message "
      "as the load generator sees it.")
    backend = auto_io_backend(config.work_dir / "logs")
    if backend:
        w(f"- wshub's default I/O backend (`--io auto`) chose **{backend}** on this machine "
          "(from its log); the `--io epoll` row forces the epoll backend.")
    w("- wshub and wshub-load are copied from `build/release/` to `build/bench/bin/` when the "
      "run starts and measured from there, so a rebuild during the run cannot change them.")
    w("- Server commands (PORT is a free port picked per run):")
    w("")
    w("  ```")
    for name in config.servers:
        argv = ["taskset", "-c", str(config.server_cpu)] + servers.server_command(name, "PORT")
        w("  " + shlex.join(argv).replace(str(ROOT) + "/", ""))
    w("  ```")
    w("")
    w("- Load commands (PID is the server's):")
    w("")
    w("  ```")
    for scenario in chosen_scenarios:
        example = example_commands(results, scenario.key)
        if example:
            w("  " + example)
    w("  ```")
    w("")

    for scenario in chosen_scenarios:
        rows = [summarize(results, scenario, s) for s in config.servers]
        w(f"## {scenario.title}")
        w("")
        w(scenario.what)
        w("")
        if scenario.mode == "echo":
            best, best_name = best_peer(rows, "cpu_us_per_msg")
            if best:
                w(f"Best peer by server CPU per message: {servers.LABELS[best_name]} "
                  f"({best:.2f} µs/msg).")
                w("")
            w("| server | msgs/s | server CPU µs/msg | CPU range µs/msg | p99 latency µs "
              "| CPU/msg vs best peer | notes |")
            w("|---|---:|---:|---:|---:|---:|---|")
            for row in rows:
                span = (f"{fmt(row['cpu_min'])}–{fmt(row['cpu_max'])}"
                        if row["cpu_min"] is not None else "—")
                w(f"| {servers.LABELS[row['server']]} | {fmt(row['msgs_per_sec'], 0)} "
                  f"| {fmt(row['cpu_us_per_msg'])} | {span} | {fmt(row['p99_us'], 0)} "
                  f"| {fmt_ratio(row['cpu_us_per_msg'], best)} | {row['notes']} |")
        else:
            # Total RSS is how users and most benchmarks measure; anonymous memory is what the
            # connections themselves hold. Both are shown, each against its best peer.
            best, best_name = best_peer(rows, "rss_per_conn_kib")
            best_anon, best_anon_name = best_peer(rows, "anon_per_conn_kib")
            if best and best_anon:
                w(f"Best peer by total RSS per connection: {servers.LABELS[best_name]} ({best:.3f} KiB); "
                  f"by anonymous memory: {servers.LABELS[best_anon_name]} ({best_anon:.3f} KiB).")
                w("")
            w("| server | total RSS KiB per idle connection | anonymous KiB | Pss KiB | private KiB "
              "| RSS before KiB | RSS with connections KiB | total RSS vs best peer "
              "| anonymous vs best peer | notes |")
            w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
            for row in rows:
                w(f"| {servers.LABELS[row['server']]} | {fmt(row['rss_per_conn_kib'], 3)} "
                  f"| {fmt(row['anon_per_conn_kib'], 3)} | {fmt(row['pss_per_conn_kib'], 3)} "
                  f"| {fmt(row['private_per_conn_kib'], 3)} | {fmt(row['rss_before'], 0)} "
                  f"| {fmt(row['rss_after'], 0)} | {fmt_ratio(row['rss_per_conn_kib'], best)} "
                  f"| {fmt_ratio(row['anon_per_conn_kib'], best_anon)} | {row['notes']} |")
        w("")

    w("## Instructions per echo message (callgrind)")
    w("")
    if callgrind is None:
        w("Not run (`--no-callgrind`, or wshub was not among `--only`).")
        w("")
    elif "error" in callgrind:
        w(f"Failed: {callgrind['error']}")
        w("")
    else:
        runs = callgrind["runs"]
        w("wshub (1 thread, `--io epoll`) under `valgrind --tool=callgrind`, echoing 10 "
          "connections × 16 B text at depth 1, no warm-up. The epoll backend, because with "
          "io_uring the kernel does the socket work outside the instructions callgrind counts "
          "(and, under valgrind 3.19, wshub with io_uring does not act on SIGTERM, so callgrind "
          "never writes its totals). Instruction counts do not depend on the machine's "
          "load, so this is the figure to compare between commits. It is measured twice, "
          "for a short and a long run, and the difference in instructions divided by the "
          "difference in messages is the cost of one echo with start-up, handshakes and "
          "shutdown cancelled out.")
        w("")
        w("| run | messages echoed | total Ir | Ir / message |")
        w("|---|---:|---:|---:|")
        for run in runs:
            w(f"| {run['duration']:g} s | {fmt(run['messages'], 0)} | {fmt(run['ir'], 0)} "
              f"| {fmt(run['ir'] / run['messages'] if run['messages'] else None, 0)} |")
        w("")
        if callgrind.get("ir_per_msg_marginal"):
            w(f"**Instructions per echo message: {callgrind['ir_per_msg_marginal']:,.0f}** "
              "(marginal: difference between the two runs; the read and the write are each "
              "counted in it, as are the epoll wake-ups).")
            w("")
        w("Commands:")
        w("")
        w("```")
        for run in runs:
            port_pid = (run["load_argv"][run["load_argv"].index("--url") + 1].rsplit(":", 1)[1].split("/")[0],
                        run["load_argv"][run["load_argv"].index("--server-pid") + 1])
            server_text = placeholder_argv(run["server_argv"], port_pid)
            server_text = re.sub(r"--callgrind-out-file=\S+", "--callgrind-out-file=OUT", server_text)
            w(server_text)
            w(placeholder_argv(run["load_argv"], port_pid))
        w("```")
        w("")
        if callgrind["top"]:
            w("Where those instructions go: own instructions per echo message of the top "
              "functions, from the same difference between the two runs "
              "(`callgrind_annotate --inclusive=no`).")
            w("")
            w("| Ir / message | function |")
            w("|---:|---|")
            for ir, name in callgrind["top"]:
                w(f"| {ir:,.1f} | `{name.replace('|', '/')}` |")
            w("")

    w("## Per-round values")
    w("")
    w("Server CPU µs/msg (echo) or total RSS / anonymous KiB per connection (idle), round by round.")
    w("")
    w("| scenario | server | " + " | ".join(f"round {i + 1}" for i in range(config.rounds)) + " |")
    w("|---|---|" + "---:|" * config.rounds)
    for scenario in chosen_scenarios:
        key = "server_cpu_us_per_msg" if scenario.mode == "echo" else "anon_per_conn_kib"
        for server in config.servers:
            cells = []
            for i in range(config.rounds):
                match = [r for r in results if r.scenario == scenario.key and r.server == server
                         and r.round == i + 1]
                if not match:
                    cells.append("—")
                elif match[0].failure:
                    cells.append("failed")
                elif scenario.mode == "echo":
                    cells.append(fmt(metric(match[0].data, key)))
                else:
                    cells.append(f"{fmt(metric(match[0].data, 'rss_per_conn_kib'), 3)} / "
                                 f"{fmt(metric(match[0].data, 'anon_per_conn_kib'), 3)}")
            w(f"| {scenario.key} | {servers.LABELS[server]} | " + " | ".join(cells) + " |")
    w("")
    config.output.parent.mkdir(parents=True, exist_ok=True)
    # The hub section is written from bench/hub_*.py runs, not from this one: keep it.
    text = "\n".join(out)
    if config.output.exists():
        previous = config.output.read_text()
        if HUB_SECTION_MARKER in previous:
            text = text.rstrip("\n") + "\n\n" + previous[previous.index(HUB_SECTION_MARKER):]
    temporary = config.output.with_suffix(".md.tmp")
    temporary.write_text(text)
    temporary.replace(config.output)


# --- main ---------------------------------------------------------------------------------

def find_load(explicit):
    if explicit:
        return Path(explicit)
    preferred = ROOT / "build" / "release" / "wshub-load"
    if preferred.exists():
        return preferred
    found = sorted((ROOT / "build").glob("*/wshub-load"))
    return found[0] if found else preferred


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=10, help="measured seconds per echo run")
    parser.add_argument("--warmup", type=float, default=2, help="warm-up seconds per echo run")
    parser.add_argument("--idle-connections", type=int, default=10000)
    parser.add_argument("--idle-hold", type=float, default=3)
    parser.add_argument("--quick", action="store_true",
                        help="1 round, 2 s runs, 1,000 idle connections: a smoke test for CI")
    parser.add_argument("--only", help=f"comma-separated subset of {','.join(servers.ALL_SERVERS)}")
    parser.add_argument("--scenarios", help="comma-separated subset of echo-16-d1,echo-16-d16,"
                                            "echo-64k-d1,idle")
    parser.add_argument("--load", help="path of wshub-load (default: build/release/wshub-load)")
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--load-cpu", type=int, default=1)
    parser.add_argument("--pause", type=float, default=1.0, help="seconds between runs")
    parser.add_argument("--no-callgrind", action="store_true")
    parser.add_argument("--output", help="report path (default: docs/benchmarks.md; "
                                         "build/bench/benchmarks-quick.md with --quick)")
    parser.add_argument("--command-line", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    if args.quick:
        args.rounds, args.duration, args.warmup = 1, 2, 1
        args.idle_connections, args.idle_hold = min(args.idle_connections, 1000), 1
    chosen = args.only.split(",") if args.only else list(servers.ALL_SERVERS)
    unknown = [s for s in chosen if s not in servers.ALL_SERVERS]
    if unknown:
        sys.exit(f"run_bench: unknown server(s) {', '.join(unknown)}; "
                 f"known: {', '.join(servers.ALL_SERVERS)}")
    work_dir = ROOT / "build" / "bench"
    (work_dir / "logs").mkdir(parents=True, exist_ok=True)
    for old_log in (work_dir / "logs").glob("*.log"):
        old_log.unlink()
    output = Path(args.output) if args.output else (
        work_dir / "benchmarks-quick.md" if args.quick else ROOT / "docs" / "benchmarks.md")
    config = Config(
        rounds=args.rounds, duration=args.duration, warmup=args.warmup,
        idle_connections=args.idle_connections, idle_hold=args.idle_hold,
        servers=[s for s in servers.ALL_SERVERS if s in chosen], load=find_load(args.load),
        server_cpu=args.server_cpu, load_cpu=args.load_cpu, pause=args.pause,
        callgrind=not args.no_callgrind and any(s in chosen for s in servers.WSHUB_VARIANTS),
        callgrind_durations=(1, 3) if args.quick else (2, 6),
        work_dir=work_dir, output=output,
        command_line=args.command_line or shlex.join(["bench/run_bench.py"] + argv),
        quick=args.quick)
    if not config.load.exists():
        sys.exit(f"run_bench: no load generator at {config.load}: build it with "
                 "`cmake --preset release && cmake --build --preset release` (tools/load), "
                 "or pass --load PATH")
    missing = [s for s in config.servers if not Path(servers.server_command(s, 0)[0]).exists()]
    if missing:
        sys.exit(f"run_bench: not built: {', '.join(missing)} (run bench/run.sh, or "
                 "bench/build-peers.sh for the peers)")
    # build/release is shared with whoever else builds in this tree: measure copies taken
    # now, so that a rebuild during the run can neither swap nor briefly remove a binary.
    snapshot = work_dir / "bin"
    snapshot.mkdir(exist_ok=True)
    if servers.WSHUB.exists():
        shutil.copy2(servers.WSHUB, snapshot / "wshub")
        servers.WSHUB = snapshot / "wshub"
    shutil.copy2(config.load, snapshot / "wshub-load")
    config.load = snapshot / "wshub-load"
    for binary in (servers.WSHUB, config.load):
        if binary.exists() and subprocess.run([str(binary), "--help"], capture_output=True).returncode:
            sys.exit(f"run_bench: {binary} does not run (copied mid-build?): run again")
    versions = software_versions()
    chosen_scenarios = scenarios(config)
    if args.scenarios:
        keys = args.scenarios.split(",")
        chosen_scenarios = [s for s in chosen_scenarios if s.key in keys]

    started = datetime.datetime.now(datetime.timezone.utc)
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    results = []
    total = config.rounds * len(chosen_scenarios) * len(config.servers)
    done_count = 0
    for round_no in range(1, config.rounds + 1):
        shift = (round_no - 1) % len(config.servers)
        order = config.servers[shift:] + config.servers[:shift]
        for scenario in chosen_scenarios:
            for server in order:
                done_count += 1
                result = run_once(config, scenario, server, round_no)
                results.append(result)
                if result.failure:
                    summary = f"FAILED: {result.failure}"
                elif scenario.mode == "echo":
                    summary = (f"{fmt(metric(result.data, 'msgs_per_sec'), 0)} msgs/s, "
                               f"{fmt(metric(result.data, 'server_cpu_us_per_msg'))} µs/msg, "
                               f"p99 {fmt(metric(result.data, 'latency_us.p99'), 0)} µs, "
                               f"errors {metric(result.data, 'errors')}")
                else:
                    summary = (f"{fmt(metric(result.data, 'rss_per_conn_kib'), 3)} KiB/conn total RSS, "
                               f"{fmt(metric(result.data, 'anon_per_conn_kib'), 3)} anonymous, "
                               f"errors {metric(result.data, 'errors')}")
                print(f"[{done_count}/{total}] round {round_no} {scenario.key:12s} "
                      f"{server:12s} {summary}", flush=True)
                time.sleep(config.pause)

    callgrind = None
    if config.callgrind:
        print("callgrind: wshub under valgrind, short and long run", flush=True)
        try:
            callgrind = run_callgrind(config)
            if callgrind.get("ir_per_msg_marginal"):
                print(f"callgrind: {callgrind['ir_per_msg_marginal']:,.0f} instructions per echo "
                      "message", flush=True)
        except Exception as error:
            callgrind = {"error": str(error)}
            print(f"callgrind: FAILED: {error}", flush=True)

    finished = datetime.datetime.now(datetime.timezone.utc)
    load_after = Path("/proc/loadavg").read_text().split()[:3]
    raw = work_dir / f"results-{started:%Y%m%dT%H%M%S}.json"
    raw.write_text(json.dumps([r.__dict__ for r in results], indent=1, default=str))

    write_report(config, chosen_scenarios, results, callgrind, machine_facts(), versions, started,
                 finished, " ".join(load_before), " ".join(load_after))
    print(f"run_bench: wrote {config.output} (raw results: {raw})")
    failed = [r for r in results if r.failure or (metric(r.data, "errors") or 0) > 0]
    if callgrind and "error" in callgrind:
        failed.append(callgrind)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
