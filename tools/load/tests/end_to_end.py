#!/usr/bin/python3
"""End-to-end check of wshub-load against the real wshub binary.

Starts wshub on an ephemeral loopback port with wshubtest.harness (which reads the port from
its log line "listening on 127.0.0.1:PORT"), then runs wshub-load in echo, idle, connect and
(when the server accepts a broadcast route) fanout mode with --json, then fanout on a hub
route with publications from a hub client and from the HTTP API, and checks the one JSON
object each prints. Exit status 0 means every check passed.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

from wshubtest import harness

LISTENING = re.compile(r"listening on 127\.0\.0\.1:(\d+)")
API_LISTENING = re.compile(r"listening on 127\.0\.0\.1:(\d+) \(API")

HUB_CONFIG = """
[[listen]]
address = "127.0.0.1:0"
[api]
listen = "127.0.0.1:0"
key = "end-to-end-key"
[hub]
personal_channels = false
[[hub.namespace]]
name = ""
publish = "subscribers"
[hub.jwt]
keys = [{ alg = "HS256", secret = "end-to-end-secret-end-to-end-secret-0123" }]
[[route]]
path = "/hub"
handler = "hub"
"""


def start_hub_server(wshub, config):
    """Starts wshub with a hub route and the API; returns (server, ws port, API port)."""
    server = subprocess.Popen([wshub, "--config", config, "--threads", "2"], stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 10
    ws_port = api_port = None
    log = []
    while time.monotonic() < deadline and (ws_port is None or api_port is None):
        line = server.stderr.readline()
        if not line:
            break
        log.append(line)
        api = API_LISTENING.search(line)
        plain = LISTENING.search(line)
        if api:
            api_port = int(api.group(1))
        elif plain:
            ws_port = int(plain.group(1))
    if ws_port is None or api_port is None:
        server.kill()
        raise SystemExit("wshub did not report its listening ports:\n" + "".join(log))
    return server, ws_port, api_port


def check_hub_fanout(wshub, load):
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as config:
        config.write(HUB_CONFIG)
    try:
        token = subprocess.run([wshub, "token", "--config", config.name, "--user", "load", "--ttl", "600"],
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
        server, port, api_port = start_hub_server(wshub, config.name)
        try:
            common = ["fanout", "--url", f"ws://127.0.0.1:{port}/hub", "--protocol", "hub", "--token", token,
                      "--subscribers", "40", "--messages", "20", "--interval-ms", "5", "--duration", "5",
                      "--server-pid", str(server.pid)]
            for publish in (["--publish", "ws", "--channels-per-connection", "3"],
                            ["--publish", "api", "--api-url", f"http://127.0.0.1:{api_port}",
                             "--api-key", "end-to-end-key"]):
                hub = run_load(load, common + publish)
                check(hub["errors"] == 0 and hub["lost"] == 0 and hub["duplicates"] == 0,
                      "hub fanout delivers everything once", hub)
                check(hub["deliveries"] == 40 * 20 and hub["messages"] == 20, "hub fanout deliveries", hub)
                check(hub["delivery_us"]["p50"] > 0 and hub["last_delivery_us"]["max"] >= hub["delivery_us"]["p50"],
                      "hub fanout latencies", hub)
            # A wrong API key is a failed publish, reported as an error with the API's answer.
            wrong = run_load(load, common + ["--publish", "api", "--api-url", f"http://127.0.0.1:{api_port}",
                                             "--api-key", "wrong"], expect_exit=2)
            check(wrong["errors"] > 0 and "401" in wrong["first_error"], "a refused API publish is an error", wrong)
        finally:
            harness.stop_process(server)
    finally:
        os.unlink(config.name)


def start_server(config=None):
    """wshub on 127.0.0.1:0 with one worker (on the config's listener when there is one)."""
    server = harness.Wshub(config=config, threads=1, listen=None if config else "127.0.0.1:0")
    server.start()
    return server


def run_load(load, args, expect_exit=0):
    command = [load, *args, "--json"]
    result = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    if result.returncode != expect_exit:
        raise AssertionError(f"{' '.join(command)} exited {result.returncode}, expected {expect_exit}\n"
                             f"stdout: {result.stdout}\nstderr: {result.stderr}")
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    if len(lines) != 1:
        raise AssertionError(f"expected exactly one JSON line on stdout, got: {result.stdout!r}")
    report = json.loads(lines[0])
    print(f"ok  {' '.join(args[:1])}: {lines[0]}")
    return report


def check(condition, what, report):
    if not condition:
        raise AssertionError(f"{what}: {json.dumps(report)}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--wshub", required=True)
    parser.add_argument("--load", required=True)
    options = parser.parse_args()
    os.environ["WSHUB_BIN"] = options.wshub  # what harness.Wshub runs

    server = start_server()
    pid = str(server.process.pid)
    try:
        url = f"ws://127.0.0.1:{server.port}"
        echo = run_load(options.load, ["echo", "--url", f"{url}/echo", "--duration", "2", "--warmup", "0",
                                       "--connections", "4", "--server-pid", pid])
        check(echo["mode"] == "echo", "mode", echo)
        check(echo["msgs_per_sec"] > 0, "echo msgs_per_sec > 0", echo)
        check(echo["errors"] == 0, "echo errors == 0", echo)
        check(echo["connections_open"] == 4, "echo opened 4 connections", echo)
        check(echo["latency_us"]["p50"] > 0 and echo["latency_us"]["max"] >= echo["latency_us"]["p99"],
              "echo latency percentiles", echo)
        check("server_cpu_us_per_msg" in echo and "client_cpu_us_per_msg" in echo, "echo CPU figures", echo)

        pipelined = run_load(options.load, ["echo", "--url", f"{url}/echo", "--duration", "1", "--warmup", "0",
                                            "--connections", "8", "--depth", "8", "--size", "3000", "--binary",
                                            "--threads", "2", "--source-ips", "127.0.0.1-127.0.0.3"])
        check(pipelined["msgs_per_sec"] > 0 and pipelined["errors"] == 0, "pipelined binary echo", pipelined)

        idle = run_load(options.load, ["idle", "--url", f"{url}/echo", "--connections", "200", "--hold", "1",
                                       "--server-pid", pid])
        check(idle["errors"] == 0, "idle errors == 0", idle)
        check(idle["connections_open"] == 200, "idle held 200 connections", idle)
        check("server_rss_kib_before" in idle and "server_rss_kib_after" in idle, "idle RSS figures", idle)
        check(all(f in idle for f in ("rss_per_conn_kib", "anon_per_conn_kib", "pss_per_conn_kib",
                                      "private_per_conn_kib")), "idle memory per connection, four ways", idle)
        check(idle["server_pss_kib_after"] <= idle["server_rss_kib_after"]
              and idle["server_private_kib_after"] <= idle["server_rss_kib_after"], "Pss and Private within Rss", idle)

        connect = run_load(options.load, ["connect", "--url", f"{url}/echo", "--duration", "1", "--warmup", "0",
                                          "--concurrency", "4"])
        check(connect["handshakes_per_sec"] > 0 and connect["errors"] == 0, "connect handshakes", connect)

        # The reply route answers "reply" to everything: echo mode must count every one as an error.
        wrong = run_load(options.load, ["echo", "--url", f"{url}/login", "--duration", "0.5", "--warmup", "0",
                                        "--connections", "1"], expect_exit=2)
        check(wrong["errors"] > 0 and wrong["errors"] == wrong["messages"], "echo checks payloads", wrong)

        refused = run_load(options.load, ["echo", "--url", "ws://192.0.2.1:9/echo", "--duration", "1"], expect_exit=1)
        check("loopback" in refused.get("error", ""), "non-loopback targets are refused", refused)
    finally:
        server.close()

    # Fanout needs a broadcast route, which only a config file declares.
    fanout_config = ('[server]\nthreads = 1\n[[listen]]\naddress = "127.0.0.1:0"\n'
                     '[[route]]\npath = "/broadcast"\nhandler = "broadcast"\n')
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as config:
        config.write(fanout_config)
    try:
        accepted = subprocess.run([options.wshub, "check-config", config.name], capture_output=True, timeout=10)
        if accepted.returncode != 0:
            print("skip fanout: this wshub has no broadcast route")
            return 0
        server = start_server(fanout_config)
        try:
            fanout = run_load(options.load, ["fanout", "--url", f"ws://127.0.0.1:{server.port}/broadcast",
                                             "--subscribers", "50", "--messages", "20", "--interval-ms", "5",
                                             "--duration", "5", "--server-pid", str(server.process.pid)])
            check(fanout["errors"] == 0 and fanout["lost"] == 0 and fanout["duplicates"] == 0,
                  "fanout delivers everything once", fanout)
            check(fanout["deliveries"] == 50 * 20, "fanout deliveries", fanout)
            check(fanout["last_delivery_us"]["max"] > 0, "fanout last delivery latency", fanout)
            check("rss_per_conn_kib" in fanout and "anon_per_conn_kib" in fanout
                  and fanout["server_rss_kib_after"] >= fanout["server_anon_kib_after"], "fanout memory figures", fanout)
        finally:
            server.close()
    finally:
        os.unlink(config.name)
    check_hub_fanout(options.wshub, options.load)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except AssertionError as failure:
        print(f"FAIL {failure}", file=sys.stderr)
        sys.exit(1)
