#!/usr/bin/env python3
"""Durable API publishes per second through group commit, against Redis with appendfsync always.

Starts wshub (release build) with one namespace that keeps history, in a fresh directory, once
per durability mode; drives POST /api/publish with wrk (publish.lua) at 1, 16 and 128 keep-alive
connections; reads wshub_store_commits_total, _syncs_total and _appends_total from /metrics
before and after each run. Then starts redis-server on loopback with appendonly yes and
appendfsync always in a directory on the same disk, and runs redis-benchmark (SET and, as the
closest to a history append, XADD) at the same client counts. Every server is stopped by its PID.

Usage: bench/store/run_store_bench.py [--duration 10] [--threads 2] [--wshub build/release/wshub]
Prints a Markdown table; raw numbers as JSON with --json FILE.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
KEY = "bench-key"
CONNECTIONS = [1, 16, 128]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def metrics(port):
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    out = {}
    for name in ("appends", "commits", "syncs"):
        m = re.search(rf"^wshub_store_{name}_total (\d+)", text, re.M)
        out[name] = int(m.group(1)) if m else 0
    return out


def wait_port(port, process, what):
    deadline = time.time() + 20
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port}")


def stop(process):
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()


def run_wrk(port, connections, duration, wrk_threads):
    env = dict(os.environ, WSHUB_API_KEY=KEY)
    done = subprocess.run(["wrk", "-t", str(min(wrk_threads, connections)), "-c", str(connections),
                           "-d", f"{duration}s", "--latency", "-s", os.path.join(HERE, "publish.lua"),
                           f"http://127.0.0.1:{port}/api/publish"], capture_output=True, text=True, env=env,
                          timeout=duration + 60)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", done.stdout).group(1))
    distribution = done.stdout[done.stdout.index("Latency Distribution"):]
    p50 = re.search(r"50%\s+(\S+)", distribution).group(1)
    p99 = re.search(r"99%\s+(\S+)", distribution).group(1)
    bad = int(re.search(r"non200 (\d+)", done.stdout).group(1))
    return {"rate": rate, "p50": p50, "p99": p99, "non200": bad}


def bench_wshub(binary, durability, duration, threads, work):
    directory = tempfile.mkdtemp(prefix=f"wshub-store-{durability}-", dir=work)
    api_port, ws_port = free_port(), free_port()
    config = os.path.join(directory, "wshub.toml")
    with open(config, "w") as f:
        f.write(f"""[hub]
allow_anonymous = true
[[hub.namespace]]
name = ""
subscribe = "anyone"
history_size = 1000
[api]
listen = "127.0.0.1:{api_port}"
key = "{KEY}"
[store]
path = "hub.db"
durability = "{durability}"
""")
    log = open(os.path.join(directory, "stderr.log"), "wb")
    process = subprocess.Popen([binary, "--config", config, "--listen", f"127.0.0.1:{ws_port}",
                                "--threads", str(threads)], stdout=subprocess.DEVNULL, stderr=log)
    rows = []
    try:
        wait_port(api_port, process, "wshub")
        for connections in CONNECTIONS:
            before = metrics(api_port)
            started = time.time()
            result = run_wrk(api_port, connections, duration, 2)
            elapsed = time.time() - started
            after = metrics(api_port)
            delta = {k: after[k] - before[k] for k in after}
            result.update(connections=connections, commits_per_s=delta["commits"] / elapsed,
                          syncs_per_s=delta["syncs"] / elapsed,
                          appends_per_commit=delta["appends"] / max(1, delta["commits"]))
            rows.append(result)
    finally:
        stop(process)
        log.close()
        shutil.rmtree(directory, ignore_errors=True)
    return rows


def bench_redis(duration, work):
    directory = tempfile.mkdtemp(prefix="redis-aof-", dir=work)
    port = free_port()
    process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", directory,
                                "--appendonly", "yes", "--appendfsync", "always", "--save", "",
                                "--daemonize", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rows = []
    try:
        wait_port(port, process, "redis-server")
        for connections in CONNECTIONS:
            for test, command in (("SET", ["-t", "set"]), ("XADD", ["XADD", "bench", "*", "n", "1", "text", "x" * 40])):
                requests = max(2000, int(duration * 4000 * min(connections, 16)))
                args = ["redis-benchmark", "-p", str(port), "-c", str(connections), "-n", str(requests), "-q"]
                args += command if test == "SET" else command
                done = subprocess.run(args, capture_output=True, text=True, timeout=duration * 20 + 120)
                m = re.findall(r"([\d.]+) requests per second", done.stdout)
                rows.append({"test": test, "connections": connections, "rate": float(m[-1]) if m else 0.0})
    finally:
        stop(process)
        shutil.rmtree(directory, ignore_errors=True)
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--wshub", default=os.path.join(ROOT, "build/release/wshub"))
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json")
    args = parser.parse_args()
    work = os.path.join(ROOT, "build", "bench-store")
    os.makedirs(work, exist_ok=True)
    results = {mode: bench_wshub(args.wshub, mode, args.duration, args.threads, work) for mode in ("sync", "fast")}
    results["redis"] = bench_redis(args.duration, work)
    print("| connections | wshub sync publishes/s | fsyncs/s | publishes per commit | p99 | wshub fast publishes/s "
          "| redis SET (always) /s | redis XADD (always) /s | sync / redis XADD |")
    print("|---|---|---|---|---|---|---|---|---|")
    for i, connections in enumerate(CONNECTIONS):
        sync, fast = results["sync"][i], results["fast"][i]
        redis = {r["test"]: r["rate"] for r in results["redis"] if r["connections"] == connections}
        ratio = sync["rate"] / redis["XADD"] if redis.get("XADD") else float("nan")
        print(f"| {connections} | {sync['rate']:,.0f} | {sync['syncs_per_s']:,.0f} | {sync['appends_per_commit']:.1f} "
              f"| {sync['p99']} | {fast['rate']:,.0f} | {redis.get('SET', 0):,.0f} | {redis.get('XADD', 0):,.0f} "
              f"| {ratio:.2f} |")
    bad = sum(r["non200"] for mode in ("sync", "fast") for r in results[mode])
    if bad:
        print(f"\n{bad} requests were not answered 200", file=sys.stderr)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
