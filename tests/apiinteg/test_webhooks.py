#!/usr/bin/python3
# Webhooks as the running server makes them, against a Python backend that checks
# X-Wshub-Signature itself: the bodies of connect, rpc, publish, subscribe and disconnect, how
# their answers reach the client, keep-alive connections to the backend (counted by the
# backend), the disconnect notice retried with the same delivery id when the backend first
# fails, and the circuit breaker: failing fast with 116 after N failures, then recovering.

import asyncio
import re
import threading
import time
import unittest

from wshubtest.api_support import (DEFAULT_NAMESPACES, make_config, main, read_metrics,
                                   start_server, wait_until)
from wshubtest.hook_backend import DROP, HookBackend, default_answer
from wshubtest.hub_client import HubClient, run

EVENTS = ["connect", "rpc", "publish", "subscribe", "disconnect"]
HOOKED = {"name": "hooked", "subscribe": "webhook", "publish": "webhook"}


class WebhookCase(unittest.TestCase):
    """A backend and a server whose identities come from the connect webhook (no JWT keys):
    the token a client sends is the user id the backend answers."""

    hook_settings = {}
    threads = 1

    def setUp(self):
        self.backend = HookBackend()
        self.addCleanup(self.backend.close)
        hook = {"url": self.backend.url, "events": EVENTS, "timeout_ms": 5000, **self.hook_settings}
        # The server is stopped (and its notices end) before the backend closes.
        self.server = start_server(self, make_config(namespaces=DEFAULT_NAMESPACES + [HOOKED],
                                                     jwt_keys=False, webhooks=[hook]),
                                   threads=self.threads)

    async def open(self, user, **fields):
        client = await HubClient.open(self.server, token=user, **fields)
        self.assertEqual(client.connected["t"], "ok", client.connected)
        return client

    def metric(self, name, **labels):
        return read_metrics(self.server.api_port).value(name, endpoint="backend", **labels)


class Bodies(WebhookCase):

    def assert_signed(self, call, attempt=1):
        self.assertEqual(call.signature, "valid", call)
        self.assertEqual(call.path, "/hook")
        self.assertEqual(call.headers["content-type"], "application/json")
        self.assertTrue(call.headers["user-agent"].startswith("wshub/"), call.headers)
        self.assertRegex(call.headers["x-wshub-delivery"], r"^[0-9a-f]{16}$")
        self.assertEqual(call.headers["x-wshub-attempt"], str(attempt))
        self.assertRegex(call.headers["x-wshub-signature"], r"^t=\d+,v1=[0-9a-f]{64}$")

    def test_every_event_body_as_the_backend_sees_it(self):
        async def go():
            client = await self.open("ursula", client={"sdk": "py", "version": "1.0"})
            cid = client.connected["cid"]
            self.assertEqual((client.connected["user"], client.connected["device"]), ("ursula", ""))
            (connect,) = self.backend.wait_for("connect")
            self.assertEqual(connect.body, {"type": "connect", "cid": cid, "token": "ursula",
                                            "client": {"sdk": "py", "version": "1.0"}})

            answer = await client.ok("rpc", m="echo", data={"x": [1, 2]}, mid="m-1")
            self.assertEqual(answer["data"], {"echo": {"x": [1, 2]}, "m": "echo"})
            await client.ok("rpc", m="bare")
            rpc, bare = self.backend.wait_for("rpc", 2)
            head = {"cid": cid, "user": "ursula", "device": ""}
            self.assertEqual(rpc.body, {"type": "rpc", **head, "m": "echo", "data": {"x": [1, 2]},
                                        "mid": "m-1"})
            self.assertEqual(bare.body, {"type": "rpc", **head, "m": "bare", "data": None})

            await client.ok("subscribe", ch="hooked:room")
            (subscribe,) = self.backend.wait_for("subscribe")
            self.assertEqual(subscribe.body, {"type": "subscribe", **head, "ch": "hooked:room"})

            await client.ok("publish", ch="hooked:room", data={"said": "hi"})
            (publish,) = self.backend.wait_for("publish")
            self.assertEqual(publish.body, {"type": "publish", **head, "ch": "hooked:room",
                                            "data": {"said": "hi"}})
            self.assertEqual((await client.push("pub"))["data"], {"said": "hi"})

            await client.close()
            (disconnect,) = self.backend.wait_for("disconnect")
            self.assertEqual(disconnect.body, {"type": "disconnect", **head})
            for call in (connect, rpc, bare, subscribe, publish, disconnect):
                self.assert_signed(call)
            ids = {c.headers["x-wshub-delivery"] for c in self.backend.calls}
            self.assertEqual(len(ids), len(self.backend.calls), "delivery ids are reused across calls")
        run(go())

    def test_the_answers_decide(self):
        def answer(call):
            if call.type == "connect" and call.body["token"] == "banned":
                return 200, {"error": {"code": 4403, "message": "banned user"}}
            if call.type == "connect" and call.body["token"] == "device-user":
                return 200, {"result": {"user": "dee", "device": "dev-9", "info": {"a": 1}}}
            if call.type == "rpc":
                return 200, {"error": {"code": 4100, "message": "no such method"}}
            if call.type == "subscribe" and call.body["ch"] == "hooked:secret":
                return 200, {"error": {"code": 103, "message": "not yours"}}
            if call.type == "publish":
                return 200, {"result": {"data": {"rewritten": call.body["data"]}}}
            return default_answer(call)
        self.backend.answer = answer

        async def go():
            banned = await HubClient.open(self.server, token="banned")
            self.assertEqual((banned.connected["t"], banned.connected["code"]), ("err", 4403))
            self.assertEqual(banned.connected["msg"], "banned user")
            self.assertEqual((await banned.closed())[0], 3502)

            dee = await self.open("device-user")
            self.assertEqual((dee.connected["user"], dee.connected["device"]), ("dee", "dev-9"))
            err = await dee.request("rpc", m="nope")
            self.assertEqual((err["t"], err["code"], err["msg"]), ("err", 4100, "no such method"))
            refused = await dee.request("subscribe", ch="hooked:secret")
            self.assertEqual((refused["t"], refused["code"]), ("err", 103))
            await dee.ok("subscribe", ch="hooked:open")
            await dee.ok("publish", ch="hooked:open", data=5)
            self.assertEqual((await dee.push("pub"))["data"], {"rewritten": 5})
        run(go())

    def test_a_backend_that_fails_answers_116_with_retry(self):
        modes = {"status": (500, {"oops": 1}), "drop": DROP, "garbage": (200, b"not json"),
                 "array": (200, b"[1]"), "empty": (200, {})}
        self.backend.answer = (lambda call: modes[call.body["m"]] if call.type == "rpc"
                               else default_answer(call))

        async def go():
            client = await self.open("vic")
            for method in ("status", "drop", "garbage", "array"):
                err = await client.request("rpc", m=method)
                self.assertEqual((err["t"], err.get("code"), err.get("retry")), ("err", 116, True),
                                 (method, err))
            # An answer with neither data nor error is data null.
            self.assertEqual((await client.ok("rpc", m="empty"))["data"], None)
        run(go())

class KeepAliveToTheBackend(WebhookCase):
    hook_settings = {"max_concurrent": 4}

    def test_sequential_calls_share_one_connection(self):
        async def go():
            client = await self.open("walt")
            for n in range(30):
                self.assertEqual((await client.ok("rpc", m="n", data=n))["data"]["echo"], n)
            self.assertEqual(len(self.backend.of_type("rpc")), 30)
            self.assertEqual(self.backend.connections, 1, "31 calls, one after another")
        run(go())

    def test_concurrent_calls_open_max_concurrent_connections_and_keep_them(self):
        # Each round's four calls are held until all four are in: four connections at once.
        barrier = threading.Barrier(4)
        self.backend.answer = lambda call: (barrier.wait(20), default_answer(call))[1] \
            if call.type == "rpc" else default_answer(call)

        async def go():
            client = await self.open("xena")
            for _ in range(3):
                answers = await asyncio.gather(*(client.ok("rpc", m="r", data=i) for i in range(4)))
                self.assertEqual(sorted(a["data"]["echo"] for a in answers), [0, 1, 2, 3])
            self.assertEqual(len(self.backend.of_type("rpc")), 12)
            self.assertEqual(self.backend.connections, 4, "connections were not reused across rounds")
        run(go())


class DisconnectNotice(WebhookCase):
    hook_settings = {"retry_max_attempts": 4}

    def test_a_failed_notice_is_retried_with_the_same_delivery_id(self):
        failures = iter([(503, {}), (500, {})])
        self.backend.answer = (lambda call: next(failures, (200, {})) if call.type == "disconnect"
                               else default_answer(call))

        async def go():
            client = await self.open("yara")
            cid = client.connected["cid"]
            await client.close()
            return cid
        cid = run(go())
        calls = self.backend.wait_for("disconnect", 3)
        self.assertEqual([c.headers["x-wshub-attempt"] for c in calls], ["1", "2", "3"])
        self.assertEqual(len({c.headers["x-wshub-delivery"] for c in calls}), 1)
        self.assertEqual({c.raw for c in calls}, {calls[0].raw})
        self.assertEqual(calls[0].body, {"type": "disconnect", "cid": cid, "user": "yara", "device": ""})
        for call in calls:
            self.assertEqual(call.signature, "valid", call)
        wait_until(lambda: self.metric("wshub_webhook_calls_total", outcome="ok") == 2,
                   what="the notice counted as ok (the connect and the notice)")
        self.assertEqual(self.metric("wshub_webhook_retries_total"), 2)
        self.assertEqual(len(self.backend.of_type("disconnect")), 3, "retried after success")

    def test_a_notice_whose_connection_is_dropped_arrives(self):
        # libcurl itself sends a request again once when a reused connection closes without an
        # answer, so the backend may see an attempt twice (same delivery id and attempt).
        drops = iter([DROP, DROP])
        self.backend.answer = (lambda call: next(drops, (200, {})) if call.type == "disconnect"
                               else default_answer(call))

        async def go():
            await (await self.open("drop")).close()
        run(go())
        wait_until(lambda: self.metric("wshub_webhook_calls_total", outcome="ok") == 2,
                   what="the dropped notice delivered")
        calls = self.backend.of_type("disconnect")
        self.assertGreaterEqual(len(calls), 3)
        self.assertEqual(len({c.headers["x-wshub-delivery"] for c in calls}), 1)
        attempts = [int(c.headers["x-wshub-attempt"]) for c in calls]
        self.assertEqual(attempts, sorted(attempts))
        self.assertGreaterEqual(attempts[-1], 2)

    def test_a_notice_is_given_up_after_retry_max_attempts(self):
        self.backend.answer = lambda call: (503, {}) if call.type == "disconnect" else default_answer(call)

        async def go():
            await (await self.open("zed")).close()
        run(go())
        self.backend.wait_for("disconnect", 4)
        self.assertIsNotNone(self.server.wait_for_log(r"gave up on a notice after 4 attempts", 30),
                             self.server.log())
        self.assertEqual(len(self.backend.of_type("disconnect")), 4)
        self.assertEqual(self.metric("wshub_webhook_calls_total", outcome="http_status_error"), 1)
        self.assertEqual(self.metric("wshub_webhook_retries_total"), 3)


class CircuitBreaker(WebhookCase):
    # The open period is long enough for the fast-fail checks on a slow machine.
    TIMEOUT_MS = 3000
    hook_settings = {"breaker_failure_threshold": 3, "breaker_open_ms": 6000, "timeout_ms": TIMEOUT_MS}

    def test_the_breaker_opens_fails_fast_and_recovers(self):
        healthy = False
        self.backend.answer = lambda call: (default_answer(call) if healthy or call.type != "rpc"
                                            else self.backend.hang())

        async def go():
            nonlocal healthy
            client = await self.open("breaker")
            # Three calls the backend never answers: three timeouts open the breaker.
            failed = await asyncio.gather(*(client.request("rpc", m="f") for _ in range(3)))
            self.assertEqual([a.get("code") for a in failed], [116] * 3)
            self.assertEqual(len(self.backend.wait_for("rpc", 3)), 3)
            self.assertIsNotNone(self.server.wait_for_log(r"circuit opened after 3 consecutive", 10))
            self.assertEqual(self.metric("wshub_webhook_breaker_open"), 1)

            # Open: answered 116 without a call, well before the call's timeout would end.
            started = time.monotonic()
            fast = await client.request("rpc", m="fast")
            self.assertEqual((fast["t"], fast["code"], fast["retry"]), ("err", 116, True))
            self.assertLess(time.monotonic() - started, self.TIMEOUT_MS / 1000)
            self.assertEqual(len(self.backend.of_type("rpc")), 3, "the open breaker let a call through")
            self.assertGreaterEqual(self.metric("wshub_webhook_calls_total", outcome="circuit_open"), 1)

            # Healthy again: after the cool-down one probe passes and closes the breaker.
            healthy = True
            self.backend.release.set()
            deadline = time.monotonic() + 30
            while True:
                answer = await client.request("rpc", m="probe")
                if answer["t"] == "ok":
                    break
                self.assertEqual(answer["code"], 116)
                self.assertLess(time.monotonic(), deadline, "the breaker never closed")
                await asyncio.sleep(0.1)
            self.assertEqual(len(self.backend.of_type("rpc")), 4, "calls reached the backend while open")
            self.assertIsNotNone(self.server.wait_for_log(r"probe succeeded; circuit closed", 10))
            self.assertEqual(self.metric("wshub_webhook_breaker_open"), 0)
            for n in range(3):
                self.assertEqual((await client.ok("rpc", m="after", data=n))["data"]["echo"], n)
        run(go(), timeout=90)

    def test_answers_the_backend_chose_do_not_open_the_breaker(self):
        self.backend.answer = lambda call: (404, {}) if call.type == "rpc" else default_answer(call)

        async def go():
            client = await self.open("fourxx")
            for _ in range(6):
                self.assertEqual((await client.request("rpc", m="x"))["code"], 116)
            self.assertEqual(len(self.backend.of_type("rpc")), 6)
            self.assertEqual(self.metric("wshub_webhook_breaker_open"), 0)
            self.assertEqual(self.metric("wshub_webhook_calls_total", outcome="circuit_open"), 0)
        run(go())
        self.assertNotRegex(self.server.log(), re.compile("circuit opened"))


if __name__ == "__main__":
    main()
