#!/usr/bin/python3
"""Idle-connection cost curve for docs/capacity.md.

For each I/O backend and each connection count, starts a fresh wshub (1 worker), opens the
connections with wshub-load idle, and records the server's anonymous RSS (user-space memory that
grows with connections; code pages and the kernel are not in it), its total RSS, the kernel slab
growth (both ends of every loopback connection live on this machine, so half is the server's) and
the server CPU per connection opened. Prints a Markdown table.

usage: bench/capacity_curve.py [--build build/release] [--counts 1000,5000,10000,19000]
"""
import argparse, json, os, re, signal, subprocess, sys, time


def meminfo_kib(key):
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def smaps_kib(pid, key):
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def start_server(build, io):
    log = open("/tmp/capacity_server.log", "w+")
    server = subprocess.Popen([f"{build}/wshub", "--listen", "127.0.0.1:0", "--threads", "1", "--io", io],
                              stderr=log)
    deadline = time.time() + 10
    while time.time() < deadline:
        log.seek(0)
        match = re.search(r"listening on 127\.0\.0\.1:(\d+)", log.read())
        if match:
            return server, int(match.group(1))
        time.sleep(0.05)
    server.kill()
    sys.exit("the server did not report its port")


def measure(build, io, count, hold):
    server, port = start_server(build, io)
    time.sleep(0.3)
    anon0, rss0, slab0 = smaps_kib(server.pid, "Anonymous"), smaps_kib(server.pid, "Rss"), meminfo_kib("Slab")
    load = subprocess.Popen([f"{build}/wshub-load", "idle", "--url", f"ws://127.0.0.1:{port}/echo",
                             "--connections", str(count), "--hold", str(hold), "--threads", "2",
                             "--source-ips", "127.0.0.1-127.0.0.4", "--server-pid", str(server.pid), "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    time.sleep(hold * 0.6 + count / 8000)
    anon1, rss1, slab1 = smaps_kib(server.pid, "Anonymous"), smaps_kib(server.pid, "Rss"), meminfo_kib("Slab")
    out, _ = load.communicate(timeout=120)
    report = json.loads(out) if out.strip() else {}
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=30)
    return {
        "io": io, "count": count, "opened": report.get("connections_open", 0),
        "anon_per_conn": (anon1 - anon0) / count, "rss_per_conn": (rss1 - rss0) / count,
        "anon_kib": anon1, "kernel_per_pair": (slab1 - slab0) / count,
        "cpu_us_per_conn": report.get("server_cpu_us_per_msg"),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default="build/release")
    parser.add_argument("--counts", default="1000,5000,10000,19000")
    parser.add_argument("--io", default="epoll,io_uring")
    parser.add_argument("--hold", type=int, default=6)
    args = parser.parse_args()
    counts = [int(c) for c in args.counts.split(",")]
    print("| backend | connections | opened | anon KiB/conn | total RSS KiB/conn | server anon KiB | kernel slab KiB per loopback pair | server CPU µs/conn |")
    print("|---|---|---|---|---|---|---|---|")
    rows = []
    for io in args.io.split(","):
        for count in counts:
            row = measure(args.build, io, count, args.hold)
            rows.append(row)
            cpu = f"{row['cpu_us_per_conn']:.1f}" if row["cpu_us_per_conn"] else "-"
            print(f"| {io} | {count} | {row['opened']} | {row['anon_per_conn']:.3f} | {row['rss_per_conn']:.3f} | "
                  f"{row['anon_kib']} | {row['kernel_per_pair']:.2f} | {cpu} |", flush=True)
    for io in args.io.split(","):
        mine = [r for r in rows if r["io"] == io]
        if len(mine) >= 2:
            first, last = mine[0], mine[-1]
            slope = (last["anon_per_conn"] * last["count"] - first["anon_per_conn"] * first["count"]) / (last["count"] - first["count"])
            print(f"\n{io}: anonymous RSS slope from {first['count']} to {last['count']} connections: {slope:.3f} KiB per connection")


if __name__ == "__main__":
    main()
