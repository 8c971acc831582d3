#!/usr/bin/python3
"""Idle-connection cost curve for docs/capacity.md.

For each I/O backend and each connection count, starts a fresh wshub (1 worker), opens the
connections with wshub-load idle, and records the server's memory growth per connection as
wshub-load reads it from /proc/PID/smaps_rollup at the end of the hold: total RSS (Rss, the same
as VmRSS: what users and most benchmarks measure), anonymous (heap and stacks), Pss and private
(Private_Clean + Private_Dirty); also the kernel slab growth (both ends of every loopback
connection live on this machine, so half is the server's) and the server CPU per connection
opened. Prints a Markdown table.

usage: bench/capacity_curve.py [--build build/release] [--counts 1000,5000,10000,19000]
"""
import argparse, json, os, re, signal, subprocess, sys, time


def meminfo_kib(key):
    with open("/proc/meminfo") as f:
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
    slab0 = meminfo_kib("Slab")
    load = subprocess.Popen([f"{build}/wshub-load", "idle", "--url", f"ws://127.0.0.1:{port}/echo",
                             "--connections", str(count), "--hold", str(hold), "--threads", "2",
                             "--source-ips", "127.0.0.1-127.0.0.4", "--server-pid", str(server.pid), "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    time.sleep(hold * 0.6 + count / 8000)
    slab1 = meminfo_kib("Slab")
    out, _ = load.communicate(timeout=120)
    report = json.loads(out) if out.strip() else {}
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=30)
    return {
        "io": io, "count": count, "opened": report.get("connections_open", 0),
        "rss_per_conn": report.get("rss_per_conn_kib"), "anon_per_conn": report.get("anon_per_conn_kib"),
        "pss_per_conn": report.get("pss_per_conn_kib"), "private_per_conn": report.get("private_per_conn_kib"),
        "rss_kib": report.get("server_rss_kib_after"), "anon_kib": report.get("server_anon_kib_after"),
        "kernel_per_pair": (slab1 - slab0) / count, "cpu_us_per_conn": report.get("server_cpu_us_per_msg"),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default="build/release")
    parser.add_argument("--counts", default="1000,5000,10000,19000")
    parser.add_argument("--io", default="epoll,io_uring")
    parser.add_argument("--hold", type=int, default=6)
    args = parser.parse_args()
    counts = [int(c) for c in args.counts.split(",")]
    print("| backend | connections | opened | total RSS KiB/conn | anonymous KiB/conn | Pss KiB/conn | private KiB/conn "
          "| server RSS KiB | server anonymous KiB | kernel slab KiB per loopback pair | server CPU µs/conn |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    per = lambda value: f"{value:.3f}" if value is not None else "-"
    rows = []
    for io in args.io.split(","):
        for count in counts:
            row = measure(args.build, io, count, args.hold)
            rows.append(row)
            cpu = f"{row['cpu_us_per_conn']:.1f}" if row["cpu_us_per_conn"] else "-"
            print(f"| {io} | {count:,} | {row['opened']:,} | {per(row['rss_per_conn'])} | {per(row['anon_per_conn'])} | "
                  f"{per(row['pss_per_conn'])} | {per(row['private_per_conn'])} | {row['rss_kib']:,} | "
                  f"{row['anon_kib']:,} | {row['kernel_per_pair']:.2f} | {cpu} |", flush=True)
    for io in args.io.split(","):
        mine = [r for r in rows if r["io"] == io]
        if len(mine) >= 2 and all(r["rss_per_conn"] is not None for r in mine):
            first, last = mine[0], mine[-1]
            def slope(key):
                return (last[key] * last["count"] - first[key] * first["count"]) / (last["count"] - first["count"])
            print(f"\n{io}: slope from {first['count']:,} to {last['count']:,} connections: total RSS "
                  f"{slope('rss_per_conn'):.3f}, anonymous {slope('anon_per_conn'):.3f} KiB per connection")


if __name__ == "__main__":
    main()
