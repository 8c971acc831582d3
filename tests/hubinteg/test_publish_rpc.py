#!/usr/bin/python3
# Publishing from clients (each namespace rule, the publish webhook's veto and rewrite, sizes,
# offsets across publishers) and rpc answered by a real backend process: data, the backend's own
# error codes, no rpc webhook, a backend that hangs, answers 500 or garbage or closes
# mid-answer, and a duplicate pending id.

import asyncio
import time

from wshubtest import hubtest
from wshubtest.hubtest import EPOCH, Between, err, ok, subscribed

RETRY = {"retry": True}


def pub(channel, off, data):
    return {"t": "pub", "ch": channel, "off": off, "data": data, "ts": Between(1e12, 1e13)}


def published(id_, off):
    return ok(id_, off=off, ep=EPOCH, dup=False)


class Publish(hubtest.HubTestCase):

    async def test_namespace_rules(self):
        self.start_hub()
        alice, _ = await self.connect(user="alice")
        bob, _ = await self.connect(user="bob")
        self.assertEqual(await alice.call("publish", ch="news:today", data=1),
                         err(2, 103, 'clients may not publish to this namespace (publish = "backend")'))
        self.assertEqual(await alice.call("publish", ch="room", data=1),
                         err(3, 103, "subscribe before publishing here"))
        self.assertEqual(await alice.call("publish", ch="nowhere:x", data=1),
                         err(4, 102, "no namespace 'nowhere' is configured"))
        self.assertEqual(await alice.call("publish", ch="bad name", data=1),
                         err(5, 107, "the channel name has a character outside A-Z a-z 0-9 - _ . : @ = / # , $"))
        self.assertEqual(await alice.call("publish", ch="room"), err(6, 107, "data is required"))
        self.assertEqual(await alice.call("publish", ch="hook:x", data=1),
                         err(7, 108, "the namespace asks a publish webhook and none is configured"))
        self.assertEqual(await alice.call("subscribe", ch="room"), ok(8, **subscribed()))
        self.assertEqual(await bob.call("subscribe", ch="room"), ok(2, **subscribed()))
        data = {"text": "h\u00e9llo", "n": [1, 2.5, None, True], "nested": {"a": {"b": "c"}}}
        self.assertEqual(await alice.call("publish", ch="room", data=data), published(9, 1))
        # Every subscriber gets it, the publisher too.
        self.assertEqual(await alice.push("pub"), pub("room", 1, data))
        self.assertEqual(await bob.push("pub"), pub("room", 1, data))
        self.assertEqual(self.metric("wshub_hub_errors_total", code="103"), 2)

    async def test_offsets_increase_by_one_across_publishers(self):
        self.start_hub()
        clients = []
        for user in ("alice", "bob", "carol"):
            client, _ = await self.connect(user=user)
            self.assertEqual(await client.call("subscribe", ch="room"), ok(2, **subscribed()))
            clients.append(client)
        ids = []
        for k in range(20):  # every client publishes without waiting for its answers
            ids.append([await c.request("publish", ch="room", data={"from": i, "k": k}) for i, c in enumerate(clients)])
        offsets = []
        for round_ids in ids:
            for client, id_ in zip(clients, round_ids):
                answer = await client.answer(id_)
                self.assertEqual(answer, published(id_, answer.get("off")))
                offsets.append(answer["off"])
                epoch = answer["ep"]
        self.assertEqual(sorted(offsets), list(range(1, 61)))
        for client in clients:
            pubs = [await client.push("pub") for _ in range(60)]
            self.assertEqual([p["off"] for p in pubs], list(range(1, 61)))
            # Each publisher's own publications keep their order.
            for i in range(3):
                self.assertEqual([p["data"]["k"] for p in pubs if p["data"]["from"] == i], list(range(20)))
        status, position = self.hub.api("POST", "/api/publish", {"channel": "room", "data": "api"})
        self.assertEqual((status, position), (200, {"epoch": epoch, "offset": 61}))

    async def test_publish_webhook_allows_vetoes_and_rewrites(self):
        backend = self.start_backend([
            {"type": "publish", "match": {"ch": "hook:veto"}, "body": {"error": {"code": 4031, "message": "moderated"}}},
            {"type": "publish", "match": {"ch": "hook:rewrite"}, "body": {"result": {"data": {"clean": True}}}},
            {"type": "publish", "match": {"ch": "hook:down"}, "status": 503, "body": {}},
            {"type": "subscribe", "body": {}},
        ])
        self.start_hub(webhook_url=backend.url, webhook_events=["publish", "subscribe"])
        alice, answer = await self.connect(device="d1")
        for i, ch in enumerate(("hook:allow", "hook:veto", "hook:rewrite", "hook:down")):
            self.assertEqual(await alice.call("subscribe", ch=ch), ok(2 + i, **subscribed()))
        self.assertEqual(await alice.call("publish", ch="hook:allow", data={"m": 1}, mid="m-1"), published(6, 1))
        self.assertEqual(await alice.push("pub"), pub("hook:allow", 1, {"m": 1}))
        self.assertEqual(await alice.call("publish", ch="hook:veto", data={"m": 2}), err(7, 4031, "moderated"))
        self.assertEqual(await alice.call("publish", ch="hook:rewrite", data={"m": "rude"}), published(8, 1))
        self.assertEqual(await alice.push("pub"), pub("hook:rewrite", 1, {"clean": True}))
        self.assertEqual(await alice.call("publish", ch="hook:down", data=3), err(9, 116, "backend unavailable", **RETRY))
        await alice.barrier()
        self.assertEqual(alice.messages, [])
        calls = backend.calls("publish")
        self.assertTrue(all(c["sig_ok"] for c in calls), calls)
        head = {"type": "publish", "cid": answer["cid"], "user": "alice", "device": "d1"}
        self.assertEqual([c["body"] for c in calls], [
            dict(head, ch="hook:allow", data={"m": 1}, mid="m-1"), dict(head, ch="hook:veto", data={"m": 2}),
            dict(head, ch="hook:rewrite", data={"m": "rude"}), dict(head, ch="hook:down", data=3)])
        self.assert_log(r"hub: publish webhook failed: http_status_error \(HTTP 503\)")

    async def test_duplicate_id_of_a_publish_waiting_for_its_webhook(self):
        backend = self.start_backend([{"type": "publish", "delay": 0.5, "body": {}}, {"type": "subscribe", "body": {}}])
        self.start_hub(webhook_url=backend.url, webhook_events=["publish", "subscribe"])
        alice, _ = await self.connect()
        self.assertEqual(await alice.call("subscribe", ch="hook:slow"), ok(2, **subscribed()))
        await alice.send({"t": "publish", "id": 9, "ch": "hook:slow", "data": "x"})
        await alice.send({"t": "ping", "id": 9})
        # Answers keep request order: the publish's, then the duplicate's refusal.
        self.assertEqual(await alice.next(lambda m: m.get("id") == 9), published(9, 1))
        self.assertEqual(await alice.next(lambda m: m.get("id") == 9),
                         err(9, 107, "duplicate id: a request with this id is still pending"))
        self.assertEqual(await alice.push("pub"), pub("hook:slow", 1, "x"))

    async def test_data_size_limit(self):
        self.start_hub(hub={"max_data_bytes": 1000})
        alice, _ = await self.connect()
        self.assertEqual(await alice.call("subscribe", ch="room"), ok(2, **subscribed()))
        fits = "x" * 998  # with its quotes, exactly 1000 bytes of JSON
        self.assertEqual(await alice.call("publish", ch="room", data=fits), published(3, 1))
        self.assertEqual(await alice.push("pub"), pub("room", 1, fits))
        self.assertEqual(await alice.call("publish", ch="room", data=fits + "x"),
                         err(4, 114, "data is larger than hub.max_data_bytes"))
        self.assertEqual(self.metric("wshub_hub_errors_total", code="114"), 1)
        status, answer = self.hub.api("POST", "/api/publish", {"channel": "room", "data": fits + "x"})
        self.assertEqual(status, 413, answer)
        await alice.barrier()
        self.assertEqual(alice.messages, [])


class Rpc(hubtest.HubTestCase):

    RULES = [
        {"type": "rpc", "match": {"m": "echo"}, "action": "echo"},
        {"type": "rpc", "match": {"m": "fail"}, "body": {"error": {"code": 4004, "message": "no such order"}}},
        {"type": "rpc", "match": {"m": "hang"}, "action": "hang"},
        {"type": "rpc", "match": {"m": "slow"}, "action": "echo", "delay": 0.5},
        {"type": "rpc", "match": {"m": "500"}, "status": 500, "body": {"data": "ignored"}},
        {"type": "rpc", "match": {"m": "garbage"}, "action": "raw", "text": "\x00not json"},
        {"type": "rpc", "match": {"m": "close"}, "action": "close"},
        {"type": "rpc", "match": {"m": "nodata"}, "body": {}},
    ]

    def start(self, **webhook):
        backend = self.start_backend(self.RULES)
        self.start_hub(webhook_url=backend.url, webhook_events=["rpc"], webhook=webhook or None)
        return backend

    async def test_answered_with_the_backends_data(self):
        backend = self.start()
        alice, answer = await self.connect(device="d1")
        data = {"order": 42, "items": ["a", "b"], "price": 9.5, "note": "\u00fc\u20ac"}
        self.assertEqual(await alice.call("rpc", m="echo", data=data, mid="r-1"), ok(2, data=data))
        self.assertEqual(await alice.call("rpc", m="echo"), ok(3, data=None))
        self.assertEqual(await alice.call("rpc", m="nodata", data=1), ok(4, data=None))
        calls = backend.calls("rpc")
        self.assertTrue(all(c["sig_ok"] for c in calls), calls)
        head = {"type": "rpc", "cid": answer["cid"], "user": "alice", "device": "d1"}
        self.assertEqual([c["body"] for c in calls], [dict(head, m="echo", data=data, mid="r-1"),
                                                      dict(head, m="echo", data=None),
                                                      dict(head, m="nodata", data=1)])

    async def test_backend_error_code_is_passed_through(self):
        self.start()
        alice, _ = await self.connect()
        self.assertEqual(await alice.call("rpc", m="fail", data={}), err(2, 4004, "no such order"))
        self.assertEqual(await alice.call("rpc", m="echo", data=1), ok(3, data=1))

    async def test_no_rpc_webhook(self):
        self.start_hub()
        alice, _ = await self.connect()
        self.assertEqual(await alice.call("rpc", m="echo", data=1), err(2, 108, "no rpc webhook is configured"))
        self.assertEqual(await alice.call("rpc", data=1), err(3, 107, "m is required"))
        self.assertEqual(self.metric("wshub_hub_errors_total", code="108"), 1)

    async def test_backend_that_hangs_gives_116_in_time_and_pings_still_answered(self):
        self.start(timeout_ms=1500)
        alice, _ = await self.connect()
        started = time.monotonic()
        rpc_id = await alice.request("rpc", m="hang", data=1)
        # The connection is served while the rpc waits; its answer comes when the backend's does.
        for _ in range(3):
            self.assertEqual(await alice.call("ping"), ok(alice._next_id))
            self.assertIsNone(next((m for m in alice.messages if m.get("id") == rpc_id), None))
        self.assertEqual(await alice.answer(rpc_id), err(rpc_id, 116, "backend unavailable", **RETRY))
        elapsed = time.monotonic() - started
        self.assertGreaterEqual(elapsed, 1.4)
        self.assertLess(elapsed, 1.5 + 5.0)
        self.assert_log(r"hub: rpc webhook failed: timeout")
        self.assertEqual(self.metric("wshub_hub_errors_total", code="116"), 1)

    async def test_rpc_answers_come_when_the_backend_answers(self):
        self.start()
        alice, _ = await self.connect()
        slow = await alice.request("rpc", m="slow", data="s")
        fast = await alice.request("rpc", m="echo", data="f")
        ping = await alice.request("ping")
        first = await alice.next()
        self.assertIn(first, (ok(fast, data="f"), ok(ping)))
        self.assertEqual(await alice.answer(slow), ok(slow, data="s"))
        self.assertEqual(alice.texts[-1], '{"t":"ok","id":%d,"data":"s"}' % slow)

    async def test_backend_failures_give_116(self):
        backend = self.start()
        alice, _ = await self.connect()
        for i, method in enumerate(("500", "garbage", "close"), start=2):
            self.assertEqual(await alice.call("rpc", m=method, data=i), err(i, 116, "backend unavailable", **RETRY),
                             method)
        self.assertEqual(len(backend.calls("rpc")), 3)
        self.assert_log(r"hub: rpc webhook failed: http_status_error \(HTTP 500\)")
        self.assert_log(r"hub: rpc webhook failed: the answer is not JSON")
        self.assert_log(r"hub: rpc webhook failed: transport_error")
        self.assertEqual(self.metric("wshub_hub_errors_total", code="116"), 3)
        # The backend is fine again for the next call.
        self.assertEqual(await alice.call("rpc", m="echo", data="ok"), ok(5, data="ok"))

    async def test_backend_down_gives_116(self):
        self.start_hub(webhook_url=hubtest.refused_url(), webhook_events=["rpc"])
        alice, _ = await self.connect()
        self.assertEqual(await alice.call("rpc", m="echo", data=1), err(2, 116, "backend unavailable", **RETRY))
        self.assert_log(r"hub: rpc webhook failed: connect_failed")

    async def test_duplicate_pending_id(self):
        self.start(timeout_ms=1000)
        alice, _ = await self.connect()
        await alice.send({"t": "rpc", "id": 7, "m": "hang", "data": 1})
        await alice.send({"t": "rpc", "id": 7, "m": "echo", "data": 2})
        self.assertEqual(await alice.next(), err(7, 107, "duplicate id: a request with this id is still pending"))
        self.assertEqual(await alice.next(), err(7, 116, "backend unavailable", **RETRY))
        # Once answered, the id may be used again.
        await alice.send({"t": "rpc", "id": 7, "m": "echo", "data": 3})
        self.assertEqual(await alice.next(), ok(7, data=3))

    async def test_too_many_pending_requests(self):
        backend = self.start_backend([{"type": "rpc", "action": "hang"}])
        self.start_hub(webhook_url=backend.url, webhook_events=["rpc"], webhook={"timeout_ms": 60000},
                       hub={"max_pending_requests": 3})
        alice, _ = await self.connect()
        for _ in range(3):
            await alice.request("rpc", m="hang", data=0)
        self.assertEqual(await alice.call("rpc", m="more", data=0), err(5, 111, "too many requests", **RETRY))
        await backend.wait_calls("rpc", 3)


if __name__ == "__main__":
    hubtest.main()
