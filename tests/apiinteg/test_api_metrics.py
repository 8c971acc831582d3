#!/usr/bin/python3
# /metrics after traffic of every kind (API requests and their errors, HTTP errors on the API
# listener, hub requests and errors, webhook calls of every outcome the running server can
# produce): `promtool check metrics` accepts it, and the counters moved by what was done.
# Also /ready and /health, and what a load balancer sees when the server shuts down.

import asyncio
import shutil
import signal
import socket
import subprocess
import time
import unittest

from wshubtest.api_support import (ApiClient, closed_by_peer, harness, make_config, main,
                                   raw_connect, read_metrics, read_response, request_bytes,
                                   start_server, wait_until)
from wshubtest.hook_backend import DROP, HookBackend, default_answer
from wshubtest.hub_client import HubClient, run

PROMTOOL = shutil.which("promtool")


RPC_ANSWERS = {"ok": (200, {"data": 1}), "big": (200, {"data": "x" * 5000}), "status4xx": (404, {}),
               "status5xx": (500, {}), "drop": DROP}


class MetricsAfterTraffic(unittest.TestCase):

    def setUp(self):
        self.backend = HookBackend()
        self.addCleanup(self.backend.close)
        self.backend.answer = self.answer
        # A bound socket that never listens: connecting to it is refused.
        self.dead = socket.socket()
        self.dead.bind(("127.0.0.1", 0))
        self.addCleanup(self.dead.close)
        hooks = [
            {"name": "backend", "url": self.backend.url, "events": ["rpc"], "timeout_ms": 1000,
             "max_response_bytes": 1024, "max_concurrent": 1, "max_queued": 1,
             "breaker_failure_threshold": 3, "breaker_open_ms": 600000},
            {"name": "dead", "url": f"http://127.0.0.1:{self.dead.getsockname()[1]}/hook",
             "events": ["disconnect"], "retry_max_attempts": 1},
        ]
        config = make_config(api={"max_body_bytes": 2048}, hub={"max_data_bytes": 1024},
                             limits={"handshake_timeout_ms": 3000}, webhooks=hooks)
        self.server = start_server(self, config)
        self.api = ApiClient(self.server.api_port)
        self.addCleanup(self.api.close)

    def answer(self, call):
        if call.type != "rpc":
            return default_answer(call)
        if call.body["m"] == "hang":
            return self.backend.hang()
        if call.body["m"] == "slow":  # past the call's timeout
            time.sleep(2)
            return 200, {"data": "late"}
        return RPC_ANSWERS[call.body["m"]]

    def api_traffic(self):
        api = self.api
        for n in range(3):
            self.assertEqual(api.post("/api/publish", {"channel": "m", "data": n}).status, 200)
        self.assertEqual(api.post("/api/publish", b"{").status, 400)
        self.assertEqual(api.post("/api/publish", {"channel": "nowhere:x", "data": 1}).status, 404)
        self.assertEqual(api.post("/api/publish", {"channel": "m", "data": "x" * 1100}).status, 413)
        self.assertEqual(api.post("/api/publish", {"channel": "m", "data": 1}, key="bad").status, 401)
        self.assertEqual(api.get("/api/publish").status, 405)
        self.assertEqual(api.get("/nothing/here").status, 404)
        self.assertEqual(api.post("/api/send", {"user": "u", "data": 1}).status, 404)  # u has no device
        self.assertEqual(api.get("/api/presence?channel=quiet:x").status, 400)
        # HTTP errors the API listener answers before the API sees a request.
        smuggling = ["Content-Length: 5", "Transfer-Encoding: chunked"]
        for wire, status in (
                (request_bytes("POST", "/api/publish", headers=["Content-Length: 99999"]), 413),
                (request_bytes("POST", "/api/publish", b"0\r\n\r\n", headers=smuggling), 400),
                (b"NOT HTTP AT ALL\r\n\r\n", 400),
                (request_bytes("POST", "/api/publish", b"{}", headers=["Content-Length: 50"]), 408)):
            with raw_connect(self.server.api_port) as sock:
                sock.sendall(wire)
                self.assertEqual(read_response(sock)[0].status, status)

    async def hub_traffic(self):
        client = await HubClient.open(self.server, user="metrics")
        await client.ok("subscribe", ch="m")
        await client.ok("publish", ch="m", data=1)
        self.assertEqual((await client.request("subscribe", ch="bad name"))["code"], 107)
        self.assertEqual((await client.request("subscribe", ch="nowhere:x"))["code"], 102)
        self.assertEqual((await client.request("bogus"))["code"], 104)
        bad_token = await HubClient.open(self.server, token="not.a.token")
        self.assertEqual((await bad_token.closed())[0], 3500)
        garbage = await HubClient.open(self.server, user="garbage")
        await garbage.ws.send("{not json")
        self.assertEqual((await garbage.closed())[0], 3501)
        return client

    async def webhook_traffic(self, client):
        """Every outcome: ok, response_too_large, http_status_error (4xx: not a failure),
        three calls at once for one slot and one queue place (a timeout in flight, one refused
        with queue_full, the third either), ok again, then http_status_error (5xx),
        transport_error and timeout: three failures in a row open the breaker: circuit_open."""
        self.assertEqual((await client.ok("rpc", m="ok"))["data"], 1)
        for method in ("big", "status4xx"):
            self.assertEqual((await client.request("rpc", m=method))["code"], 116)
        answers = await asyncio.gather(*(client.request("rpc", m="hang") for _ in range(3)))
        self.assertEqual([a["code"] for a in answers], [116] * 3)
        self.backend.release.set()
        self.assertEqual((await client.ok("rpc", m="ok"))["data"], 1)
        for method in ("status5xx", "drop", "slow", "ok"):
            self.assertEqual((await client.request("rpc", m=method))["code"], 116, method)
        await client.close()

    def test_promtool_accepts_metrics_after_every_kind_of_traffic_and_counters_moved(self):
        before = read_metrics(self.server.api_port)
        self.api_traffic()

        async def go():
            await self.webhook_traffic(await self.hub_traffic())
        run(go())
        # The disconnect notices of the two connected clients go to the dead endpoint.
        wait_until(lambda: read_metrics(self.server.api_port).get(
            "wshub_webhook_calls_total", endpoint="dead", outcome="connect_failed") == 2,
            what="the disconnect notices failing to connect")
        after = read_metrics(self.server.api_port)

        def moved(name, **labels):
            return after.get(name, **labels) - before.get(name, **labels)

        for endpoint, status, count in (("publish", "2xx", 3), ("publish", "4xx", 2), ("publish", "413", 1),
                                        ("publish", "401", 1), ("unknown", "4xx", 2), ("send", "4xx", 1),
                                        ("presence", "4xx", 1)):
            self.assertEqual(moved("wshub_api_requests_total", endpoint=endpoint, status=status), count,
                             (endpoint, status))
        for kind, count in (("connect", 3), ("subscribe", 3), ("publish", 1), ("rpc", 11)):
            self.assertEqual(moved("wshub_hub_messages_in_total", type=kind), count, kind)
        for code, count in (("107", 1), ("102", 1), ("104", 1), ("116", 9)):
            self.assertEqual(moved("wshub_hub_errors_total", code=code), count, code)
        self.assertEqual(moved("wshub_hub_rejected_frames_total", reason="not_json"), 1)
        self.assertEqual(moved("wshub_hub_closes_total", code="3500"), 1)
        self.assertEqual(moved("wshub_hub_closes_total", code="3501"), 1)

        outcomes = {o: moved("wshub_webhook_calls_total", endpoint="backend", outcome=o)
                    for o in ("ok", "response_too_large", "http_status_error", "timeout", "queue_full",
                              "transport_error", "circuit_open")}
        self.assertEqual(outcomes["ok"], 2, outcomes)
        self.assertEqual(outcomes["response_too_large"], 1, outcomes)
        self.assertEqual(outcomes["http_status_error"], 2, outcomes)
        self.assertEqual(outcomes["transport_error"], 1, outcomes)
        self.assertEqual(outcomes["circuit_open"], 1, outcomes)
        # The three held calls: the one in flight times out; the third always finds the queue
        # place taken (queue_full); the second is refused too unless the first was already in
        # flight when it came, and then times out waiting. Plus the slow call's timeout.
        self.assertEqual(outcomes["timeout"] + outcomes["queue_full"], 4, outcomes)
        self.assertIn(outcomes["queue_full"], (1, 2), outcomes)
        self.assertEqual(after.value("wshub_webhook_breaker_open", endpoint="backend"), 1)

        attempts = moved("wshub_webhook_latency_seconds_count", endpoint="backend")
        self.assertGreaterEqual(attempts, 8)  # ok, big, 4xx, a hang, ok, 5xx, drop, slow
        buckets = sorted((float(dict(labels)["le"]), value)
                         for (name, labels), value in after.samples.items()
                         if name == "wshub_webhook_latency_seconds_bucket"
                         and ("endpoint", "backend") in labels)
        self.assertEqual([v for _, v in buckets], sorted(v for _, v in buckets), "buckets not cumulative")
        self.assertEqual(buckets[-1], (float("inf"), after.value("wshub_webhook_latency_seconds_count",
                                                                 endpoint="backend")))
        self.assertGreaterEqual(after.value("wshub_webhook_latency_seconds_sum", endpoint="backend"), 1.0)
        self.assertEqual(moved("wshub_webhook_calls_total", endpoint="dead", outcome="connect_failed"), 2)

        self.assertEqual(moved("wshub_rejections_total", kind="limit", reason="handshake_timeout"), 1)
        self.assertEqual(moved("wshub_rejections_total", kind="message", reason="body_too_large"), 1)
        self.assertEqual(moved("wshub_rejections_total", kind="message",
                               reason="content_length_with_transfer_encoding"), 1)
        self.assertEqual(moved("wshub_rejections_total", kind="head", reason="bad_request_line"), 1)
        self.assertGreaterEqual(moved("wshub_connections_accepted_total"), 10)

        if not PROMTOOL:
            self.skipTest("promtool is not installed (Debian package prometheus): the exposition "
                          "format was not checked")
        check = subprocess.run([PROMTOOL, "check", "metrics"], input=after.text.encode(),
                               capture_output=True, timeout=60)
        self.assertEqual(check.returncode, 0, check.stdout.decode() + check.stderr.decode())
        self.assertEqual(check.stdout + check.stderr, b"", "promtool found problems")

    def test_ws_listener_rejections_are_counted(self):
        before = read_metrics(self.server.api_port)
        with harness.connect(self.server.port) as sock:
            sock.sendall(b"GET /hub HTTP/1.1\r\nHost: x\r\n\r\n")
            harness.read_until_close(sock)
        with harness.connect(self.server.port) as sock:
            sock.sendall(b"GARBAGE\r\n\r\n")
            harness.read_until_close(sock)
        after = read_metrics(self.server.api_port)
        rejections = {dict(labels)["reason"]: value - before.get(name, **dict(labels))
                      for (name, labels), value in after.samples.items()
                      if name == "wshub_rejections_total" and value - before.get(name, **dict(labels))}
        self.assertEqual(rejections, {"plain_http_request": 1, "bad_request_line": 1}, rejections)


class ReadyAndShutdown(unittest.TestCase):

    def test_ready_and_health_while_serving(self):
        server = start_server(self, make_config())
        client = ApiClient(server.api_port, key=None)
        self.addCleanup(client.close)
        ready = client.get("/ready")
        self.assertEqual((ready.status, ready.json), (200, {"ready": True}))
        health = client.get("/health")
        self.assertEqual(health.status, 200)
        self.assertEqual(health.json["status"], "ok")
        self.assertEqual(health.json["workers"], 1)
        self.assertLessEqual({"sessions", "connected", "subscriptions"}, set(health.json["hub"]))

    def test_on_sigterm_the_api_stops_at_once_while_clients_drain(self):
        # The API listener closes with the ws listeners, and idle keep-alive connections are
        # closed: a load balancer's /ready sees a refused connection, not a 503.
        server = start_server(self, make_config(limits={"shutdown_grace_ms": 60000,
                                                        "close_timeout_ms": 600000}))
        keep_alive = raw_connect(server.api_port)
        self.addCleanup(keep_alive.close)
        keep_alive.sendall(request_bytes("GET", "/ready"))
        self.assertEqual(read_response(keep_alive)[0].status, 200)
        silent = raw_connect(server.port)  # a ws client that never answers the close
        self.addCleanup(silent.close)
        silent.sendall(harness.upgrade_request("/hub"))
        self.assertIn(b" 101 ", harness.read_head(silent))

        server.process.send_signal(signal.SIGTERM)
        self.assertIsNotNone(server.wait_for_log(r"SIGTERM: closing connections", 10))
        self.assertIs(closed_by_peer(keep_alive), True)

        def refused():
            try:
                socket.create_connection(("127.0.0.1", server.api_port), timeout=5).close()
                return False
            except ConnectionRefusedError:
                return True
        wait_until(refused, 10, "the API listener closing")
        self.assertIsNone(server.process.poll(), "wshub exited while a client was still draining")
        silent.close()  # the last client gone, the server stops without waiting for the grace
        self.assertEqual(server.process.wait(30), 0, server.log())


if __name__ == "__main__":
    main()
