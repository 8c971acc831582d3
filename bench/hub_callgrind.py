#!/usr/bin/python3
"""Instructions per delivery (callgrind) for the hub route against the plain broadcast route:
wshub (`--io epoll`, one worker) runs under `valgrind --tool=callgrind` twice per route with
the same subscribers and publication rate, a short and a long run, and the difference in
instructions divided by the difference in deliveries is the marginal cost of one delivery
(start-up, handshakes, subscribing and shutdown cancel out). Instruction counts do not depend
on what else the machine does, so this is the figure to compare between commits.

    bench/hub_callgrind.py                              300 subscribers, 20 publications/s
    bench/hub_callgrind.py --subscribers 100 --rate 50 --routes hub

Hub publications come from the HTTP API (one request at a time), broadcast ones from one
more WebSocket connection, each paced so that every publication is delivered in its own loop
turn, as at 10-200 publications/s. Writes build/bench/hub-callgrind.md.
"""
import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

from peers import servers
from callgrind_costs import callgrind_function_costs, callgrind_total_ir  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "bench" / "hub" / "wshub-bench.toml"


def run(route, seconds, options, work, token):
    out_file = work / f"callgrind.out.{route}.{seconds:g}s"
    if out_file.exists():
        out_file.unlink()
    port, api_port = servers.free_port(), servers.free_port()
    argv = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}", str(options.wshub), "--config",
            str(CONFIG), "--listen", f"127.0.0.1:{port}", "--api-listen", f"127.0.0.1:{api_port}", "--threads", "1",
            "--io", "epoll"]
    server = servers.ServerProcess(route, port, cpu=options.server_cpu, command=argv,
                                   log_path=work / "logs" / f"callgrind-{route}.log")
    server.start(timeout=120)
    messages = int(options.rate * seconds)
    load = ["taskset", "-c", str(options.load_cpu), str(options.load), "fanout", "--subscribers",
            str(options.subscribers), "--messages", str(messages), "--interval-ms", str(round(1000 / options.rate)),
            "--duration", f"{seconds + 30:g}", "--warmup", "1", "--source-ips", "127.0.0.1-127.0.0.8", "--json"]
    if route == "hub":
        load += ["--url", f"ws://127.0.0.1:{port}/hub", "--protocol", "hub", "--token", token, "--publish", "api",
                 "--api-url", f"http://127.0.0.1:{api_port}", "--api-key", "bench-api-key"]
    else:
        load += ["--url", f"ws://127.0.0.1:{port}/broadcast"]
    try:
        done = subprocess.run(load, capture_output=True, text=True, timeout=seconds + 300)
    finally:
        server.stop(grace=120)
    report = json.loads(done.stdout)
    if report.get("errors") or report.get("deliveries") != options.subscribers * messages:
        raise RuntimeError(f"{route} {seconds}s: not everything delivered: {done.stdout[:600]}")
    def shown(argv):
        text = re.sub(r"\S*/build/bench/bin-\d+/", "build/release/", " ".join(argv)).replace(f"{ROOT}/", "")
        return text.replace(token, "TOKEN")
    return {"deliveries": report["deliveries"], "ir": callgrind_total_ir(out_file), "file": out_file,
            "load": shown(load), "server": shown(server.argv)}


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--routes", default="hub,broadcast")
    parser.add_argument("--subscribers", type=int, default=300)
    parser.add_argument("--rate", type=float, default=20.0, help="publications per second")
    parser.add_argument("--short", type=float, default=2.0)
    parser.add_argument("--long", type=float, default=6.0)
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--load-cpu", type=int, default=1)
    parser.add_argument("--top", type=int, default=20)
    options = parser.parse_args(argv)
    options.wshub = ROOT / "build" / "release" / "wshub"
    options.load = ROOT / "build" / "release" / "wshub-load"
    # Measured from copies: a rebuild during the run cannot change them.
    options.wshub, options.load = servers.frozen_copies([options.wshub, options.load],
                                                        ROOT / "build" / "bench")
    work = ROOT / "build" / "bench"
    (work / "logs").mkdir(parents=True, exist_ok=True)
    token = subprocess.run([str(options.wshub), "token", "--config", str(CONFIG), "--user", "bench", "--ttl", "7200"],
                           capture_output=True, text=True, check=True).stdout.strip()
    lines = [f"`bench/hub_callgrind.py {' '.join(argv)}`".replace("`bench/hub_callgrind.py `",
                                                                     "`bench/hub_callgrind.py`"), ""]
    for route in options.routes.split(","):
        short = run(route, options.short, options, work, token)
        long = run(route, options.long, options, work, token)
        extra = long["deliveries"] - short["deliveries"]
        per_delivery = (long["ir"] - short["ir"]) / extra
        print(f"{route}: {per_delivery:,.0f} Ir per delivery ({extra} deliveries)", flush=True)
        before, after = callgrind_function_costs(short["file"]), callgrind_function_costs(long["file"])
        top = sorted((((after[n] - before.get(n, 0)) / extra, n) for n in after), reverse=True)[:options.top]
        lines += [f"### {route}: {per_delivery:,.0f} instructions per delivery", "",
                  f"{options.subscribers:,} subscribers, {options.rate:g} publications/s, runs of {options.short:g} "
                  f"and {options.long:g} s ({short['deliveries']:,} and {long['deliveries']:,} deliveries; "
                  f"{short['ir']:,} and {long['ir']:,} Ir).", "", "```", short["server"], short["load"], "```", "",
                  "| Ir / delivery | function (own cost) |", "|---:|---|"]
        lines += [f"| {cost:,.1f} | `{name}` |" for cost, name in top]
        lines.append("")
    text = "\n".join(lines)
    (work / "hub-callgrind.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
