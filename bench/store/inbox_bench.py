#!/usr/bin/python3
"""Inbox delivery rate to --devices (10,000) devices reconnecting at once, each with --per-device
(10) pending messages.

For each durability ("sync", then "fast"), in a fresh directory under build/bench-store/:
  fill       wrk (inbox_send.lua, --wrk-connections keep-alive connections) POSTs /api/send
             until every device holds --per-device messages: the send rate.
  reconnect  --processes client processes (asyncio, a minimal WebSocket client; process k binds
             to the source address 127.0.0.(k+2) and holds at most a few thousand sockets, far
             under the 20,000 open files of a process) mint their devices' tokens, open their
             sockets, then at one signal all send `connect` with `inbox {}` and ack every `msg`
             (`ack {upto: seq}`) as it comes. Timed from the signal until /metrics says nothing
             is pending (every ack stored; /metrics polled every 20 ms); also the last ack sent by any
             client. Server CPU seconds (/proc/PID/stat) over that window per 1,000 messages, and
             the clients' CPU seconds from their signal to their last device done.
  size       the database file and WAL after the fill and after the drain.
The server is pinned to --server-cpus and the load (wrk, clients) to --load-cpus with taskset.

  bench/store/inbox_bench.py [--devices 10000 --per-device 10] [--smoke]
--smoke: 200 devices x 3 messages, both durabilities, unpinned, in seconds (the ctest
`bench.inbox_bench_smoke`); it checks that every message was acked and measures nothing.
"""

import argparse
import asyncio
import base64
import json
import os
import shlex
import signal
import subprocess
import sys
import time
import urllib.request

import jwt  # python3-jwt

from store_figures import KEY, ROOT, Server

JWT_SECRET = "inbox-bench-secret-of-at-least-32-bytes"
INBOX_CONFIG = f"""
[hub.jwt]
keys = [{{ alg = "HS256", secret = "{JWT_SECRET}" }}]
[inbox]
ack_timeout_s = 300
fallback_after_s = 0
"""


def device_name(n):
    return f"bench-dev-{n}"


# ---- the client processes -------------------------------------------------------------------

class DeviceSocket(asyncio.Protocol):
    """One device: the upgrade, `connect` with `inbox {}`, an ack per `msg`. Server frames are
    unmasked and uncompressed (no extension is offered); client frames carry a zero mask key,
    which leaves the payload as it is."""

    def __init__(self, host, token, done):
        self.host, self.token, self.done = host, token, done
        self.expected = None  # the connect answer's inbox.pending
        self.buffer = b""
        self.upgraded = False
        self.acked = 0
        self.transport = None
        self.connected = asyncio.get_running_loop().create_future()

    def connection_made(self, transport):
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write((f"GET /hub HTTP/1.1\r\nHost: {self.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                         f"Sec-WebSocket-Protocol: wshub.v1.json\r\n\r\n").encode())

    def send_text(self, text):
        payload = text.encode()
        size = len(payload)
        head = bytes([0x81, 0x80 | size]) if size < 126 else bytes([0x81, 0x80 | 126]) + size.to_bytes(2, "big")
        self.transport.write(head + b"\0\0\0\0" + payload)

    def go(self):
        self.send_text(json.dumps({"t": "connect", "id": 1, "token": self.token, "inbox": {}}))

    def data_received(self, data):
        self.buffer += data
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not self.buffer.startswith(b"HTTP/1.1 101"):
                raise RuntimeError(f"upgrade refused: {self.buffer[:200]!r}")
            self.buffer = self.buffer[end + 4:]
            self.upgraded = True
            self.connected.set_result(True)
        while len(self.buffer) >= 2:
            opcode, size, at = self.buffer[0] & 0x0F, self.buffer[1] & 0x7F, 2
            if size == 126:
                size, at = int.from_bytes(self.buffer[2:4], "big"), 4
            elif size == 127:
                size, at = int.from_bytes(self.buffer[2:10], "big"), 10
            if len(self.buffer) < at + size:
                return
            payload, self.buffer = self.buffer[at:at + size], self.buffer[at + size:]
            if opcode == 0x1:
                self.take(json.loads(payload))
            elif opcode == 0x9:
                self.transport.write(bytes([0x8A, 0x80 | len(payload)]) + b"\0\0\0\0" + payload)

    def take(self, message):
        for item in message if isinstance(message, list) else [message]:
            kind = item.get("t")
            if kind == "msg":
                self.send_text(f'{{"t":"ack","upto":{item["seq"]}}}')
                self.acked += 1
                if self.acked == self.expected:
                    self.done(self)
            elif kind == "ok" and item.get("id") == 1 and "pending" in item.get("inbox", {}):
                self.expected = item["inbox"]["pending"]
                if self.expected == 0:
                    self.done(self)
            elif kind == "ping":
                self.send_text('{"t":"pong"}')
            elif kind == "err" or kind == "ok" and item.get("id") == 1:
                raise RuntimeError(f"connect answered {item}")

    def connection_lost(self, exc):
        if not self.connected.done():
            self.connected.set_exception(ConnectionError(f"closed before the upgrade: {exc}"))


async def clients_main(port, source, first, count):
    """Opens `count` devices from `first`, says "ready", waits for "go" on stdin, connects them
    all, and prints one JSON line when every device has acked as many messages as its connect
    answer said were pending."""
    loop = asyncio.get_running_loop()
    tokens = [jwt.encode({"sub": f"user-{n}", "device": device_name(n), "exp": int(time.time()) + 3600},
                         JWT_SECRET, algorithm="HS256") for n in range(first, first + count)]
    finished = loop.create_future()
    state = {"left": count, "last_ack": 0.0}

    def done(_device):
        state["left"] -= 1
        state["last_ack"] = time.time()
        if state["left"] == 0 and not finished.done():
            finished.set_result(True)
    devices = []
    for token in tokens:
        _, device = await loop.create_connection(lambda: DeviceSocket(f"127.0.0.1:{port}", token, done),
                                                 "127.0.0.1", port, local_addr=(source, 0))
        devices.append(device)
    await asyncio.gather(*(d.connected for d in devices))
    print("ready", flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)
    started, cpu_before = time.time(), os.times()
    for device in devices:
        device.go()
    await asyncio.wait_for(finished, 600)
    cpu = os.times()
    print(json.dumps({"started": started, "last_ack": state["last_ack"], "devices": count,
                      "acked": sum(d.acked for d in devices),
                      "cpu_s": cpu.user + cpu.system - cpu_before.user - cpu_before.system}), flush=True)
    await asyncio.sleep(0.5)  # the last acks leave before the sockets close
    for device in devices:
        device.transport.close()


# ---- the driver -----------------------------------------------------------------------------

def api_get(port, path):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {KEY}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def metric(port, name):
    """A sample of /metrics: polled rather than /api/info, which also counts in SQL the devices
    with pending messages, a query the benchmark would add to the server's CPU."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics", headers={"Authorization": f"Bearer {KEY}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        for line in answer.read().decode().splitlines():
            if line.startswith(name + " "):
                return int(float(line.split()[1]))
    raise RuntimeError(f"/metrics has no {name}")


def pinned(cpus):
    """The taskset prefix that pins a command to `cpus` (nothing when empty)."""
    return ["taskset", "-c", cpus] if cpus else []


def fill(server, args, load_cpus):
    """wrk until /metrics has counted every send (wrk runs for a duration, so it is stopped
    then with SIGINT, by PID, and prints its count of non-200 answers); (seconds, sends/s)."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "inbox_send.lua")
    env = dict(os.environ, WSHUB_API_KEY=KEY, WSHUB_DEVICES=str(args.devices),
               WSHUB_PER_DEVICE=str(args.per_device), WSHUB_WRK_THREADS=str(args.wrk_threads))
    command = pinned(load_cpus) + ["wrk", "-t", str(args.wrk_threads), "-c", str(args.wrk_connections),
               "-d", "600s", "-s", script, f"http://127.0.0.1:{server.api_port}/api/send"]
    total = args.devices * args.per_device
    started = time.time()
    wrk = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    while metric(server.api_port, "wshub_inbox_sent_total") < total:
        if wrk.poll() is not None:
            raise RuntimeError(f"wrk ended before the fill was done: {wrk.stdout.read()}")
        time.sleep(0.02)
    seconds = time.time() - started
    wrk.send_signal(signal.SIGINT)
    output = wrk.communicate(timeout=30)[0]
    if "non200 0" not in output:
        raise RuntimeError(f"sends not answered 200:\n{output}")
    for n in list(range(args.wrk_threads)) + [args.devices - 1]:
        device = api_get(server.api_port, f"/api/info?device={device_name(n)}")["inbox"]["device"]
        if device is None or device["pending"] != args.per_device:
            raise RuntimeError(f"after the fill {device_name(n)} holds {device}, not {args.per_device}")
    return seconds, total / seconds


def reconnect(server, args, load_cpus):
    """The client processes, all at once; a dict of the figures."""
    total = args.devices * args.per_device
    spill = api_get(server.api_port, "/api/info")["inbox"]["pending"] - total  # bench-spill's, left out
    per = -(-args.devices // args.processes)
    processes = []
    for k in range(args.processes):
        first, count = k * per, min(per, args.devices - k * per)
        if count <= 0:
            break
        command = pinned(load_cpus) + [sys.executable, os.path.abspath(__file__), "clients",
                   "--port", str(server.ws_port), "--source", f"127.0.0.{k + 2}", "--first", str(first),
                   "--count", str(count)]
        processes.append(subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
    for process in processes:
        if process.stdout.readline().strip() != "ready":
            raise RuntimeError("a client process did not get its sockets open")
    cpu_before = server.cpu_seconds()
    started = time.time()
    for process in processes:
        process.stdin.write("go\n")
        process.stdin.flush()
    while metric(server.api_port, "wshub_inbox_pending") > spill:
        if time.time() - started > 600:
            raise RuntimeError("not every message was acked within 600 s")
        time.sleep(0.02)
    stored = time.time() - started
    cpu = server.cpu_seconds() - cpu_before
    reports = [json.loads(process.stdout.readline()) for process in processes]
    for process in processes:
        process.wait(60)
    acked = sum(r["acked"] for r in reports)
    if acked != total:
        raise RuntimeError(f"the clients acked {acked} of {total}")
    return {"seconds": stored, "messages_per_s": total / stored,
            "last_ack_s": max(r["last_ack"] for r in reports) - started,
            "server_cpu_s": cpu, "cpu_per_1000": cpu * 1000 / total,
            "client_cpu_s": sum(r["cpu_s"] for r in reports)}


def run(args):
    work = os.path.join(ROOT, "build", "bench-store")
    os.makedirs(work, exist_ok=True)
    print(f"$ {' '.join(shlex.quote(a) for a in sys.argv)}")
    print(f"{args.devices} devices x {args.per_device} messages; server on CPUs {args.server_cpus}, load on "
          f"{args.load_cpus}; wrk -t {args.wrk_threads} -c {args.wrk_connections}; {args.processes} client processes\n")
    rows = []
    for durability in args.durability:
        server = Server(args.wshub, work, 0, durability, threads=args.threads, extra_config=INBOX_CONFIG,
                        cpus=args.server_cpus)
        try:
            fill_s, send_rate = fill(server, args, args.load_cpus)
            filled = sum(server.file_bytes())
            figures = reconnect(server, args, args.load_cpus)
            drained = sum(server.file_bytes())
        finally:
            server.stop()
            server.remove()
        rows.append((durability, send_rate, fill_s, figures, filled, drained))
    print("| durability | sends/s (fill) | all acked after | messages/s | last ack sent after | server CPU s "
          "| server CPU s per 1,000 msgs | client CPU s | database + WAL filled | drained |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for durability, send_rate, fill_s, f, filled, drained in rows:
        print(f"| {durability} | {send_rate:,.0f} ({fill_s:.1f} s) | {f['seconds']:.2f} s | {f['messages_per_s']:,.0f} "
              f"| {f['last_ack_s']:.2f} s | {f['server_cpu_s']:.2f} | {f['cpu_per_1000']:.3f} "
              f"| {f['client_cpu_s']:.1f} "
              f"| {filled / 2**20:.1f} MiB | {drained / 2**20:.1f} MiB |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="mode")
    clients = sub.add_parser("clients", help="(internal) one client process")
    clients.add_argument("--port", type=int, required=True)
    clients.add_argument("--source", required=True)
    clients.add_argument("--first", type=int, required=True)
    clients.add_argument("--count", type=int, required=True)
    parser.add_argument("--wshub", default=os.path.join(ROOT, "build", "release", "wshub"))
    parser.add_argument("--devices", type=int, default=10000)
    parser.add_argument("--per-device", type=int, default=10)
    parser.add_argument("--durability", nargs="+", default=["sync", "fast"])
    parser.add_argument("--threads", type=int, default=2, help="wshub worker threads")
    parser.add_argument("--processes", type=int, default=4, help="client processes")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--wrk-connections", type=int, default=64)
    parser.add_argument("--server-cpus", default="0")
    parser.add_argument("--load-cpus", default="1")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    if args.mode == "clients":
        asyncio.run(clients_main(args.port, args.source, args.first, args.count))
        return
    if args.smoke:
        # Not pinned: it measures nothing, and must run on a machine of one CPU too.
        args.devices, args.per_device, args.processes, args.wrk_connections = 200, 3, 2, 8
        args.server_cpus = args.load_cpus = ""
    run(args)


if __name__ == "__main__":
    main()
