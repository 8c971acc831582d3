#!/usr/bin/python3
"""Smoke test for the benchmark's echo servers: each must echo text and binary messages of
16 B, 64 KiB and 16 MiB, and fragmented messages, unchanged and with the same type.

Uses Debian's python3-websockets as the client. Run by `bench/build-peers.sh --check`;
`--servers wshub,...` tests wshub's release build the same way.
"""
import argparse
import asyncio
import sys
import time

from peers import servers

try:
    import websockets
except ImportError:
    sys.exit("smoke_peers: python3-websockets is missing: apt-get install python3-websockets "
             "(and run this with /usr/bin/python3)")

SIZES = [16, 64 << 10, 16 << 20]


def text_payload(size):
    pattern = "wshub-bench-0123456789abcdefghijklmnopqrstuvwxyz\n"
    return (pattern * (size // len(pattern) + 1))[:size]


def binary_payload(size):
    return bytes((i * 31 + 7) & 0xFF for i in range(min(size, 4096))) * (size // 4096) + \
        bytes((i * 31 + 7) & 0xFF for i in range(size % 4096))


def cases():
    for size in SIZES:
        yield f"text {size} B", text_payload(size)
        yield f"binary {size} B", binary_payload(size)
    yield "text non-ASCII", "héllo wörld € 𝄞"
    yield "binary empty", b""
    yield "binary fragmented 3 x 100 KiB", [binary_payload(100 << 10)] * 3
    yield "text fragmented 3 parts", ["première partie, ", "zweiter Teil € ", "𝄞 third"]


async def check_server(url):
    """Returns a list of failure sentences; empty when every case echoed correctly."""
    failures = []
    async with websockets.connect(url, max_size=64 << 20, compression=None, ping_interval=None,
                                  open_timeout=10, close_timeout=5) as ws:
        for label, payload in cases():
            expected = payload
            if isinstance(payload, list):
                expected = payload[0][:0].join(payload)
            started = time.monotonic()
            try:
                await ws.send(payload)
                got = await asyncio.wait_for(ws.recv(), timeout=60)
            except Exception as error:  # report, then stop: the connection is unusable
                failures.append(f"{label}: {type(error).__name__}: {error}")
                return failures
            if type(got) is not type(expected):
                failures.append(f"{label}: sent {type(expected).__name__}, got {type(got).__name__}")
            elif got != expected:
                failures.append(f"{label}: echo differs (sent {len(expected)}, got {len(got)})")
            elapsed = time.monotonic() - started
            if elapsed > 10:
                failures.append(f"{label}: took {elapsed:.1f} s")
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", default=",".join(servers.PEERS),
                        help=f"comma-separated subset of {','.join(servers.ALL_SERVERS)}")
    parser.add_argument("--peers-dir", default=str(servers.PEERS_DIR))
    parser.add_argument("--wshub", default=str(servers.WSHUB))
    parser.add_argument("--path", default="/echo")
    args = parser.parse_args()

    failed = 0
    for name in args.servers.split(","):
        port = servers.free_port()
        server = servers.ServerProcess(name, port, peers_dir=args.peers_dir, wshub=args.wshub)
        started = time.monotonic()
        try:
            with server:
                failures = asyncio.run(check_server(f"ws://127.0.0.1:{port}{args.path}"))
                if not server.alive():
                    failures.append(f"server exited with {server.process.returncode}")
        except Exception as error:
            failures = [f"{type(error).__name__}: {error}"]
        elapsed = time.monotonic() - started
        if failures:
            failed += 1
            print(f"FAIL {name:12s} ({elapsed:.1f} s)")
            for failure in failures:
                print(f"     {failure}")
        else:
            print(f"ok   {name:12s} ({elapsed:.1f} s)")
        sys.stdout.flush()
    total = len(args.servers.split(","))
    print(f"{total - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
