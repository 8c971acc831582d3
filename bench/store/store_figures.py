#!/usr/bin/python3
"""The store's figures beyond publish rates: resume time, database bytes per publication, and the
database file's size under a steady load with bounded history.

Each mode starts the release wshub in a fresh directory under build/bench-store/ (stopped by its
PID), prints the command it was run with and a Markdown table:

  resume     fills one channel with --resume-fill publications (--data, 64 B, of data each) through
             POST /api/publish, then a client subscribes with `since` 1,000 and 100,000 behind and
             re-subscribes from the last offset of each `more: true` page (docs/hub-protocol.md)
             until the subscription is live. Times the subscribe request to the last missed
             publication, and reads the server's CPU (/proc/PID/stat) and the client's (getrusage)
             around it.
  size       stores --size-count publications with 64 B and with 1 KiB of data (--sizes), then
             divides the database file (+ WAL) by the publications stored, live and after a clean
             stop (SIGTERM checkpoints the WAL into the file).
  retention  publishes at --rate per second for --duration seconds to 100 channels of a namespace
             keeping --retention-kept (1,000) per channel, for at most --retention-ttl seconds when
             given, and samples the file's size every --every seconds.

Run with Debian's python3 (/usr/bin/python3, which has python3-websockets):
  bench/store/store_figures.py resume|size|retention|all [--smoke]
--smoke runs each mode for seconds with small counts (the ctest `bench.store_figures_smoke`).
"""

import argparse
import asyncio
import http.client
import json
import os
import resource
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import websockets

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
KEY = "bench-key"
TICK = os.sysconf("SC_CLK_TCK")
KEEP_DIRECTORIES = False  # --keep: leave each server's directory (config, database, log) for a look


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def data_of(size):
    """A JSON string whose encoding (quotes included) is exactly `size` bytes."""
    return "x" * (size - 2)


class Server:
    """A release wshub with one namespace keeping `history_size` per channel, in its own directory."""

    def __init__(self, binary, work, history_size, durability, threads=2, ttl_s=0, extra_config="", cpus=None):
        """`extra_config`: TOML appended to the config (more tables); `cpus`: a taskset CPU list
        the server is pinned to."""
        self.dir = tempfile.mkdtemp(prefix="wshub-figures-", dir=work)
        self.api_port, self.ws_port = free_port(), free_port()
        self.config = os.path.join(self.dir, "wshub.toml")
        with open(self.config, "w") as f:
            f.write(f"""[hub]
allow_anonymous = true
[[hub.namespace]]
name = ""
subscribe = "anyone"
history_size = {history_size}
history_ttl_s = {ttl_s}
[api]
listen = "127.0.0.1:{self.api_port}"
key = "{KEY}"
[store]
path = "hub.db"
durability = "{durability}"
[[route]]
path = "/hub"
handler = "hub"
""" + extra_config)
        self.log = open(os.path.join(self.dir, "stderr.log"), "wb")
        pin = ["taskset", "-c", cpus] if cpus else []
        self.process = subprocess.Popen(pin + [binary, "--config", self.config, "--listen", f"127.0.0.1:{self.ws_port}",
                                         "--threads", str(threads)], stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.time() + 20
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"wshub exited with {self.process.returncode}; see {self.log.name}")
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{self.api_port}/ready", timeout=2).status == 200:
                    break
            except OSError:
                pass
            if time.time() > deadline:
                raise RuntimeError("wshub did not become ready")
            time.sleep(0.05)

    def cpu_seconds(self):
        fields = open(f"/proc/{self.process.pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime

    def file_bytes(self):
        """(database file, WAL) sizes in bytes."""
        def size(name):
            path = os.path.join(self.dir, name)
            return os.path.getsize(path) if os.path.exists(path) else 0
        return size("hub.db"), size("hub.db-wal")

    def stop(self):
        """SIGTERM by PID; wshub flushes, checkpoints and exits 0."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()
        return self.process.returncode

    def remove(self):
        if KEEP_DIRECTORIES:
            print(f"kept {self.dir}", file=sys.stderr)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


def publish_many(port, jobs, connections, rate=None):
    """Sends every (channel, data) of `jobs` with POST /api/publish over `connections` keep-alive
    connections, at most `rate` per second overall when given. Returns (answered 200, last answer)."""
    lock = threading.Lock()
    position = [0]
    counts = {"ok": 0, "bad": 0, "last": None}
    started = time.time()

    def worker():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
        while True:
            with lock:
                index = position[0]
                position[0] += 1
            if index >= len(jobs):
                break
            if rate:
                wait = started + index / rate - time.time()
                if wait > 0:
                    time.sleep(wait)
            channel, data = jobs[index]
            connection.request("POST", "/api/publish", json.dumps({"channel": channel, "data": data}), headers)
            response = connection.getresponse()
            body = response.read()
            with lock:
                if response.status == 200:
                    counts["ok"] += 1
                    counts["last"] = json.loads(body)
                else:
                    counts["bad"] += 1
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if counts["bad"]:
        raise RuntimeError(f"{counts['bad']} publishes were not answered 200")
    return counts["ok"], counts["last"]


async def resume(ws_port, channel, epoch, since):
    """Subscribes with `since`, following `more: true` pages. Returns (publications received,
    pages, seconds from the first subscribe to the last missed publication, client CPU seconds)."""
    async with websockets.connect(f"ws://127.0.0.1:{ws_port}/hub", subprotocols=["wshub.v1.json"],
                                  compression=None, max_size=None) as ws:
        await ws.send(json.dumps({"t": "connect", "id": 1}))
        answer = json.loads(await ws.recv())
        if answer.get("t") != "ok":
            raise RuntimeError(f"connect answered {answer}")
        cpu = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        received, pages, expected, request_id = 0, 0, since + 1, 2
        while True:
            await ws.send(json.dumps({"t": "subscribe", "id": request_id, "ch": channel,
                                      "since": {"ep": epoch, "off": since}}))
            while True:
                answer = json.loads(await ws.recv())
                if answer.get("id") == request_id:
                    break
            if answer.get("t") != "ok" or not answer["rec"]:
                raise RuntimeError(f"subscribe answered {str(answer)[:300]}")
            for publication in answer["pubs"]:
                if publication["off"] != expected:
                    raise RuntimeError(f"offset {publication['off']} where {expected} was due")
                expected += 1
            received += len(answer["pubs"])
            pages += 1
            request_id += 1
            if not answer["more"]:
                break
            since = answer["pubs"][-1]["off"]
        elapsed = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
        client_cpu = after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime
        return received, pages, elapsed, client_cpu


def median(values):
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def mode_resume(args, work):
    fill = args.resume_fill
    server = Server(args.wshub, work, history_size=fill, durability="fast", threads=args.threads)
    try:
        started = time.time()
        _, last = publish_many(server.api_port, [("resume", data_of(args.data))] * fill, 8)
        print(f"filled {fill:,} publications in {time.time() - started:.1f} s", file=sys.stderr)
        epoch, head = last["epoch"], fill
        rows = []
        for missed in args.missed:
            runs = []
            repeats = args.repeats if missed <= 10000 else max(1, args.repeats // 10)
            for _ in range(repeats):
                server_cpu = server.cpu_seconds()
                received, pages, elapsed, client_cpu = asyncio.run(resume(server.ws_port, "resume", epoch,
                                                                          head - missed))
                runs.append((elapsed, server.cpu_seconds() - server_cpu, client_cpu, pages))
                if received != missed:
                    raise RuntimeError(f"{received} received where {missed} were missed")
            rows.append((missed, repeats, runs))
    finally:
        code = server.stop()
        server.remove()
    # The first resume of a gap reads pages SQLite has not cached yet; the later ones are warm.
    print(f"| missed publications ({args.data} B data) | runs | pages | first resume | later resumes: median "
          "(min / max) | server CPU per resume (mean of all) | server CPU per publication | client CPU per "
          "resume (median) |")
    print("|---|---|---|---|---|---|---|---|")
    for missed, repeats, runs in rows:
        later = [r[0] for r in runs[1:]] or [runs[0][0]]
        server_mean = sum(r[1] for r in runs) / len(runs)
        print(f"| {missed:,} | {repeats} | {runs[0][3]} | {runs[0][0] * 1000:,.1f} ms | {median(later) * 1000:,.1f} ms "
              f"({min(later) * 1000:,.1f} / {max(later) * 1000:,.1f}) | {server_mean * 1000:,.2f} ms | "
              f"{server_mean / missed * 1e6:.2f} µs | {median([r[2] for r in runs]) * 1000:,.1f} ms |")
    return code


def mode_size(args, work):
    count = args.size_count
    rows = []
    code = 0
    for size in args.sizes:
        server = Server(args.wshub, work, history_size=count, durability="fast", threads=args.threads)
        try:
            channels = 10
            jobs = [(f"size-{n % channels}", data_of(size)) for n in range(count)]
            stored, _ = publish_many(server.api_port, jobs, 8)
            time.sleep(0.5)
            live = server.file_bytes()
            code |= server.stop()
            stopped = server.file_bytes()
        finally:
            server.remove()
        rows.append((size, stored, channels, live, stopped))
    print("| data per publication | publications stored | channels | file + WAL live | bytes per publication "
          "(live) | file after a clean stop (WAL) | bytes per publication (stopped) | overhead per publication |")
    print("|---|---|---|---|---|---|---|---|")
    for size, stored, channels, live, stopped in rows:
        per = sum(stopped) / stored
        print(f"| {size:,} B | {stored:,} | {channels} | {live[0]:,} + {live[1]:,} B | {sum(live) / stored:,.1f} | "
              f"{stopped[0]:,} B ({stopped[1]:,} B) | {per:,.1f} | {per - size:,.1f} B |")
    return code


def mode_retention(args, work):
    channels, kept = 100, args.retention_kept
    server = Server(args.wshub, work, history_size=kept, durability="sync", threads=args.threads,
                    ttl_s=args.retention_ttl)
    total = int(args.rate * args.duration)
    jobs = [(f"ret-{n % channels}", data_of(64)) for n in range(total)]
    samples = []
    done = threading.Event()

    def sampler():
        started = time.time()
        while True:
            with urllib.request.urlopen(f"http://127.0.0.1:{server.api_port}/metrics", timeout=10) as page:
                text = page.read().decode()
            appends = next((int(line.split()[-1]) for line in text.splitlines()
                            if line.startswith("wshub_store_appends_total ")), 0)
            samples.append((time.time() - started, appends, *server.file_bytes()))
            if done.wait(args.every):
                break

    watcher = threading.Thread(target=sampler)
    try:
        watcher.start()
        started = time.time()
        published, _ = publish_many(server.api_port, jobs, 8, rate=args.rate)
        elapsed = time.time() - started
        done.set()
        watcher.join()
        cpu = server.cpu_seconds()
        code = server.stop()
        stopped = server.file_bytes()
    finally:
        done.set()
        server.remove()
    steady = channels * kept
    if args.retention_ttl:
        steady = min(steady, int(args.rate * args.retention_ttl))
    age = f"{args.retention_ttl} s" if args.retention_ttl else "no age limit"
    print(f"published {published:,} in {elapsed:.1f} s ({published / elapsed:,.0f}/s); {channels} channels keeping "
          f"{kept:,} each, {age} (at most {steady:,} kept); server CPU {cpu:.1f} s; after a clean stop: "
          f"file {stopped[0]:,} B, WAL {stopped[1]:,} B")
    print()
    print("| time | publications stored so far | kept (at most) | database file | WAL | file + WAL |")
    print("|---|---|---|---|---|---|")
    for at, appends, db, wal in samples:
        print(f"| {at:,.0f} s | {appends:,} | {min(appends, steady):,} | {db / 2**20:,.2f} MiB | "
              f"{wal / 2**20:,.2f} MiB | {(db + wal) / 2**20:,.2f} MiB |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"samples": samples, "published": published, "elapsed": elapsed, "stopped": stopped}, f)
    return code


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["resume", "size", "retention", "all"])
    parser.add_argument("--wshub", default=os.path.join(ROOT, "build/release/wshub"))
    parser.add_argument("--threads", type=int, default=2, help="wshub worker threads")
    parser.add_argument("--smoke", action="store_true", help="small counts, seconds in all")
    parser.add_argument("--resume-fill", type=int, default=100000)
    parser.add_argument("--missed", type=int, nargs="+", default=[1000, 100000])
    parser.add_argument("--repeats", type=int, default=100, help="resumes per gap (a tenth for gaps above 10,000)")
    parser.add_argument("--data", type=int, default=64, help="resume: bytes of data per publication")
    parser.add_argument("--size-count", type=int, default=100000)
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 1024],
                        help="size: bytes of data per publication, one run each")
    parser.add_argument("--rate", type=float, default=2000, help="retention: publications per second")
    parser.add_argument("--duration", type=float, default=180, help="retention: seconds")
    parser.add_argument("--every", type=float, default=5, help="retention: seconds between samples")
    parser.add_argument("--retention-kept", type=int, default=1000, help="retention: history_size per channel")
    parser.add_argument("--retention-ttl", type=int, default=0, help="retention: history_ttl_s (0: none)")
    parser.add_argument("--keep", action="store_true", help="leave each server's directory behind")
    parser.add_argument("--json", help="retention: the samples as JSON")
    args = parser.parse_args()
    global KEEP_DIRECTORIES
    KEEP_DIRECTORIES = args.keep
    if args.smoke:
        args.resume_fill, args.missed, args.repeats = 2500, [1000, 2500], 2
        args.size_count, args.rate, args.duration, args.every, args.retention_kept = 500, 500, 2, 0.5, 10
    print("$ " + " ".join(shlex.quote(a) for a in [os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:]))
    work = os.path.join(ROOT, "build", "bench-store")
    os.makedirs(work, exist_ok=True)
    modes = {"resume": mode_resume, "size": mode_size, "retention": mode_retention}
    code = 0
    for name in (modes if args.mode == "all" else [args.mode]):
        print(f"\n### {name}\n")
        code |= modes[name](args, work)
    return 1 if code else 0


if __name__ == "__main__":
    sys.exit(main())
