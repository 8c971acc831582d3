#!/usr/bin/python3
"""The backend side of the hub, measured: API publishes per second from `wrk` (keep-alive, a Lua
body, 1/16/128 connections) and the rpc round trip through a webhook to a small local backend.

    bench/hub_api.py                  both; markdown to build/bench/hub-api.md
    bench/hub_api.py --only wrk --connections 1,16,128 --duration 10 --workers 1
    bench/hub_api.py --only rpc --calls 3000

wshub (bench/hub/wshub-bench.toml, plus a [[webhook]] for rpc) runs on CPU 0, wrk and the rpc
client on CPU 1, the rpc backend on CPU 1 too (it is the backend's cost, not wshub's). Server
CPU per request is wshub's utime+stime from /proc/PID/stat over the run divided by requests.
The rpc backend is Python's http.server (HTTP/1.1 keep-alive) answering {"data":…}; wshub's
added latency is the rpc round trip minus the same client's direct POST round trip to that
backend, both measured here one call at a time.
"""
import argparse
import asyncio
import datetime
import http.client
import http.server
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from peers import servers

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "bench" / "hub" / "wshub-bench.toml"
LUA = ROOT / "bench" / "hub" / "publish.lua"
API_KEY = "bench-api-key"
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def start_wshub(wshub, config, threads, log_dir, cpu):
    port, api_port = servers.free_port(), servers.free_port()
    argv = [str(wshub), "--config", str(config), "--listen", f"127.0.0.1:{port}",
            "--api-listen", f"127.0.0.1:{api_port}", "--threads", str(threads)]
    server = servers.ServerProcess("wshub", api_port, cpu=cpu, log_path=log_dir / "hub-api.log", command=argv)
    server.start()
    time.sleep(0.3)
    return server, port, api_port


def parse_wrk(text):
    def number(pattern, scale=None):
        match = re.search(pattern, text)
        if not match:
            return None
        value = float(match.group(1))
        unit = match.group(2) if match.lastindex and match.lastindex >= 2 else ""
        return value * {"us": 1, "ms": 1e3, "s": 1e6, "": 1}[unit] if scale else value
    return {
        "requests_per_sec": number(r"Requests/sec:\s+([\d.]+)"),
        "requests": number(r"(\d+) requests in"),
        "p50_us": number(r"\s50%\s+([\d.]+)(us|ms|s)\b", True),
        "p99_us": number(r"\s99%\s+([\d.]+)(us|ms|s)\b", True),
        "non_2xx": number(r"Non-2xx or 3xx responses:\s+(\d+)") or 0,
        "socket_errors": bool(re.search(r"Socket errors", text)),
    }


def run_wrk(options, wshub, log_dir):
    rows = []
    for workers in [int(w) for w in options.workers.split(",")]:
        for connections in [int(c) for c in options.connections.split(",")]:
            for round_no in range(options.rounds):
                server, _, api_port = start_wshub(wshub, CONFIG, workers, log_dir, options.server_cpu)
                try:
                    command = ["taskset", "-c", str(options.load_cpu), "wrk", "-t1", f"-c{connections}",
                               f"-d{options.duration}s", "--latency", "-s", str(LUA),
                               f"http://127.0.0.1:{api_port}/api/publish"]
                    before = cpu_seconds(server.pid)
                    done = subprocess.run(command, capture_output=True, text=True, timeout=options.duration + 30)
                    used = cpu_seconds(server.pid) - before
                finally:
                    server.stop()
                result = parse_wrk(done.stdout)
                result["server_cpu_us_per_request"] = (used * 1e6 / result["requests"]) if result["requests"] else None
                result.update(workers=workers, connections=connections, round=round_no + 1,
                              command=" ".join(command).replace(str(api_port), "API_PORT"))
                print(f"wrk {workers} worker(s) {connections} connection(s): {result}", flush=True)
                rows.append(result)
    return rows


class RpcBackend(http.server.BaseHTTPRequestHandler):
    """Answers every webhook POST with {"data": …}: what an rpc handler that does nothing costs."""
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        # http.server writes the head and the body separately: without this, Nagle holds the
        # body back until the client's delayed ACK (40 ms), which would be all we measure.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        answer = json.dumps({"data": {"ok": True, "bytes": len(body)}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


async def rpc_client(port, token, calls):
    import websockets  # Debian's python3-websockets
    latencies = []
    async with websockets.connect(f"ws://127.0.0.1:{port}/hub", max_size=None) as ws:
        await ws.send(json.dumps({"t": "connect", "id": 1, "token": token}))
        answer = json.loads(await ws.recv())
        if answer.get("t") != "ok":
            raise RuntimeError(f"connect refused: {answer}")
        for i in range(calls):
            started = time.perf_counter_ns()
            await ws.send(json.dumps({"t": "rpc", "id": i + 2, "m": "ping", "data": {"n": i}}))
            while True:
                answer = json.loads(await ws.recv())
                if answer.get("id") == i + 2:
                    break
            latencies.append((time.perf_counter_ns() - started) / 1e3)
            if answer.get("t") != "ok":
                raise RuntimeError(f"rpc failed: {answer}")
    return latencies


def direct_calls(port, calls):
    """The same client process POSTing straight to the backend, one call at a time, keep-alive."""
    connection = http.client.HTTPConnection("127.0.0.1", port)
    connection.connect()
    connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # head and body go apart
    latencies = []
    for i in range(calls):
        body = json.dumps({"type": "rpc", "cid": "0-1", "user": "bench", "device": "", "m": "ping", "data": {"n": i}})
        started = time.perf_counter_ns()
        connection.request("POST", "/hooks/wshub", body, {"Content-Type": "application/json"})
        connection.getresponse().read()
        latencies.append((time.perf_counter_ns() - started) / 1e3)
    connection.close()
    return latencies


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


def run_rpc(options, wshub, log_dir):
    os.sched_setaffinity(0, {options.load_cpu})  # client and backend thread on the load CPU
    backend = http.server.HTTPServer(("127.0.0.1", 0), RpcBackend)
    backend_port = backend.server_address[1]
    threading.Thread(target=backend.serve_forever, daemon=True).start()
    config_text = CONFIG.read_text() + (
        f'\n[[webhook]]\nname = "backend"\nurl = "http://127.0.0.1:{backend_port}/hooks/wshub"\n'
        'secret = "bench-webhook-secret-bench-webhook-secret"\nevents = ["rpc"]\ntimeout_ms = 3000\n')
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as config:
        config.write(config_text)
    rows = []
    try:
        token = subprocess.run([str(wshub), "token", "--config", config.name, "--user", "bench", "--ttl", "3600"],
                               capture_output=True, text=True, check=True).stdout.strip()
        for round_no in range(options.rounds):
            direct_calls(backend_port, 200)  # warm the backend
            direct = direct_calls(backend_port, options.calls)
            server, port, _ = start_wshub(wshub, Path(config.name), 1, log_dir, options.server_cpu)
            try:
                asyncio.run(rpc_client(port, token, 200))  # warm wshub's pool and the backend
                before = cpu_seconds(server.pid)
                through = asyncio.run(rpc_client(port, token, options.calls))
                used = cpu_seconds(server.pid) - before
            finally:
                server.stop()
            row = {
                "round": round_no + 1,
                "calls": options.calls,
                "rpc_p50_us": statistics.median(through),
                "rpc_p99_us": percentile(through, 99),
                "direct_p50_us": statistics.median(direct),
                "direct_p99_us": percentile(direct, 99),
                "server_cpu_us_per_call": used * 1e6 / options.calls,
            }
            row["added_p50_us"] = row["rpc_p50_us"] - row["direct_p50_us"]
            print(f"rpc round {round_no + 1}: {row}", flush=True)
            rows.append(row)
    finally:
        os.unlink(config.name)
        backend.shutdown()
    return rows


def median(rows, key):
    values = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(values) if values else None


def markdown(options, wrk_rows, rpc_rows, started):
    out = [f"Measured {started:%Y-%m-%d %H:%M} UTC by `{options.command_line}`; wshub on CPU {options.server_cpu}, "
           f"the client on CPU {options.load_cpu}; medians over {options.rounds} round(s); load average before: "
           f"{options.load_before}.", ""]
    if wrk_rows:
        out += ["| workers | wrk connections | publishes/s | server CPU µs/publish | p50 / p99 latency µs | non-200 |",
                "|---:|---:|---:|---:|---:|---:|"]
        for workers in sorted({r["workers"] for r in wrk_rows}):
            for connections in sorted({r["connections"] for r in wrk_rows}):
                rows = [r for r in wrk_rows if r["workers"] == workers and r["connections"] == connections]
                out.append(f"| {workers} | {connections} | {median(rows, 'requests_per_sec'):,.0f} "
                           f"| {median(rows, 'server_cpu_us_per_request'):.2f} | {median(rows, 'p50_us'):,.0f} / "
                           f"{median(rows, 'p99_us'):,.0f} | {sum(int(r['non_2xx']) for r in rows)} |")
        out += ["", "```", *sorted({r["command"] for r in wrk_rows}), "```", ""]
    if rpc_rows:
        out += [f"rpc: {options.calls} calls one at a time from one hub connection (Python websockets), the backend "
                "answering `{\"data\":…}`.", "",
                "| rpc round trip p50 / p99 µs | direct POST to the backend p50 / p99 µs | added by wshub (p50) µs "
                "| wshub CPU µs per rpc |", "|---:|---:|---:|---:|",
                f"| {median(rpc_rows, 'rpc_p50_us'):,.0f} / {median(rpc_rows, 'rpc_p99_us'):,.0f} "
                f"| {median(rpc_rows, 'direct_p50_us'):,.0f} / {median(rpc_rows, 'direct_p99_us'):,.0f} "
                f"| {median(rpc_rows, 'added_p50_us'):,.0f} | {median(rpc_rows, 'server_cpu_us_per_call'):.1f} |", ""]
    return "\n".join(out)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["wrk", "rpc"])
    parser.add_argument("--connections", default="1,16,128")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--load-cpu", type=int, default=1)
    parser.add_argument("--output", type=Path, default=ROOT / "build" / "bench" / "hub-api.md")
    options = parser.parse_args(argv)
    options.command_line = "bench/hub_api.py" + ("" if not argv else " " + " ".join(argv))
    options.load_before = os.getloadavg()
    wshub = ROOT / "build" / "release" / "wshub"
    if not wshub.exists():
        sys.exit(f"{wshub} is missing: cmake --build --preset release --target wshub")
    # Measured from copies: a rebuild during the run cannot change them.
    wshub = servers.frozen_copies([wshub], ROOT / "build" / "bench")[0]
    log_dir = ROOT / "build" / "bench" / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    started = datetime.datetime.now(datetime.timezone.utc)
    wrk_rows = run_wrk(options, wshub, log_dir) if options.only in (None, "wrk") else []
    rpc_rows = run_rpc(options, wshub, log_dir) if options.only in (None, "rpc") else []
    text = markdown(options, wrk_rows, rpc_rows, started)
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(text)
    (options.output.with_suffix(".json")).write_text(json.dumps({"wrk": wrk_rows, "rpc": rpc_rows}))
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
