# The durable device inbox against the real binary: /api/send -> msg push -> ack, the window of
# unacked pushes, pushes again after ack_timeout and at the next connect, a restart that keeps
# what is unacked and forgets what was acked, the epoch check of connect's `inbox`, collapse_key,
# ttl expiry, idempotency_key, a user's fan-out to each of their devices, receipts through
# GET /api/messages/{id} and webhooks (inbox.delivered, .acked, .expired, .undelivered), 115
# when a device's inbox is full, and the pending numbers of /api/info and /metrics.

import asyncio
import os
import time
import unittest

from store_support import ApiClient, main, start_durable
from wshubtest.api_support import make_config, read_metrics, wait_until
from wshubtest.harness import toml_table
from wshubtest.hook_backend import HookBackend
from wshubtest.hub_client import HubClient, run

NAMESPACES = [{"name": "", "subscribe": "authenticated", "publish": "subscribers", "history_size": 100}]
INBOX_EVENTS = ["inbox.delivered", "inbox.acked", "inbox.expired", "inbox.undelivered"]


def inbox_config(webhook_url=None, **inbox):
    settings = {"ack_timeout_s": 1, "fallback_after_s": 0, **inbox}
    hooks = [{"url": webhook_url, "events": INBOX_EVENTS, "timeout_ms": 5000}] if webhook_url else []
    return (make_config(namespaces=NAMESPACES, webhooks=hooks) + '\n[store]\npath = "hub.db"\n' +
            toml_table("[inbox]", settings))


class InboxCase(unittest.TestCase):
    inbox = {}
    with_webhooks = False

    def setUp(self):
        url = None
        if self.with_webhooks:
            self.backend = HookBackend()
            self.addCleanup(self.backend.close)
            url = self.backend.url
        self.server = start_durable(self, inbox_config(url, **self.inbox))
        self.addCleanup(self.assert_clean_exit)
        self.api = ApiClient(self.server.api_port)
        self.addCleanup(lambda: self.api.close())

    def assert_clean_exit(self):
        """SIGTERM ends it with 0, and (under the sanitizers) nothing was reported."""
        code = self.server.stop()
        log = self.server.log()
        self.assertEqual(code, 0, log)
        for report in ("AddressSanitizer", "LeakSanitizer", "runtime error"):
            self.assertNotIn(report, log)

    def send(self, status=200, **body):
        answer = self.api.post("/api/send", body)
        self.assertEqual(answer.status, status, answer)
        return answer.json

    def info(self, device):
        answer = self.api.get(f"/api/info?device={device}")
        self.assertEqual(answer.status, 200, answer)
        return answer.json["inbox"]

    def states(self, message_id):
        answer = self.api.get(f"/api/messages/{message_id}")
        self.assertEqual(answer.status, 200, answer)
        return answer.json["states"]

    async def connect(self, device, user="ann", inbox=None):
        client = await HubClient.open(self.server, user=user, device=device, inbox={} if inbox is None else inbox)
        self.assertEqual(client.connected.get("t"), "ok", client.connected)
        return client

    async def msgs(self, client, count):
        return [await client.push("msg") for _ in range(count)]


class Delivery(InboxCase):
    with_webhooks = True

    def test_send_then_msg_then_ack_with_receipts_and_webhooks(self):
        async def body():
            client = await self.connect("phone-1")
            first = client.connected["inbox"]
            self.assertEqual((first["head"], first["pending"]), (0, 0))
            self.assertTrue(first["ep"])
            sent = self.send(device="phone-1", data={"n": 1})
            self.assertEqual(sent["seq"], 1)
            msg = await client.push("msg")
            self.assertEqual((msg["seq"], msg["id"], msg["data"]), (1, sent["id"], {"n": 1}))
            self.assertIn("ts", msg)
            self.assertIn("exp", msg)  # inbox.default_ttl_s applies
            wait_until(lambda: self.states(sent["id"]) == {"phone-1": "delivered"}, what="delivered receipt")
            self.assertEqual(self.info("phone-1")["device"]["pending"], 1)
            await client.ws.send('{"t":"ack","upto":1}')
            await client.round_trip()
            wait_until(lambda: self.states(sent["id"]) == {"phone-1": "acked"}, what="acked receipt")
            device = self.info("phone-1")["device"]
            self.assertEqual((device["acked"], device["pending"], device["head"]), (1, 0, 1))
            answer = self.api.get(f"/api/messages/{sent['id']}")
            self.assertEqual(answer.json["id"], sent["id"])
            self.assertGreater(answer.json["created"], 0)
            delivered = self.backend.wait_for("inbox.delivered")[0].body
            acked = self.backend.wait_for("inbox.acked")[0].body
            for call in (delivered, acked):
                self.assertEqual((call["user"], call["device"], call["id"], call["seq"]),
                                 ("ann", "phone-1", sent["id"], 1))
            self.assertEqual(self.api.get("/api/messages/m-nothing").status, 404)
        run(body())

    def test_the_window_holds_at_most_32_unacked(self):
        ids = [self.send(device="tab-1", data=n)["id"] for n in range(40)]

        async def body():
            client = await self.connect("tab-1")
            self.assertEqual(client.connected["inbox"]["pending"], 40)
            got = await self.msgs(client, 32)
            self.assertEqual([m["seq"] for m in got], list(range(1, 33)))
            self.assertEqual([m["id"] for m in got], ids[:32])
            await asyncio.sleep(0.5)
            await client.round_trip()
            self.assertLessEqual(max(p["seq"] for p in client.all_pushes if p["t"] == "msg"), 32)
            await client.ws.send('{"t":"ack","upto":32}')
            rest = []
            while len(rest) < 8:
                push = await client.push("msg")
                if push["seq"] > 32:
                    rest.append(push["seq"])
            self.assertEqual(rest, list(range(33, 41)))
        run(body())

    def test_an_unacked_msg_is_pushed_again_after_ack_timeout_and_at_the_next_connect(self):
        async def body():
            client = await self.connect("watch-1")
            sent = self.send(device="watch-1", data="again")
            first = await client.push("msg")
            started = time.monotonic()
            second = await client.push("msg", timeout=5)
            self.assertEqual((second["seq"], second["id"]), (first["seq"], sent["id"]))
            self.assertGreater(time.monotonic() - started, 0.5)  # ack_timeout_s = 1
            ep = client.connected["inbox"]["ep"]
            await client.close()
            again = await self.connect("watch-1", inbox={"ep": ep, "acked": 0})
            self.assertEqual(again.connected["inbox"]["pending"], 1)
            self.assertEqual((await again.push("msg"))["id"], sent["id"])
        run(body())

    def test_an_ack_past_what_was_sent_is_refused_with_107(self):
        async def body():
            client = await self.connect("pad-1")
            self.send(device="pad-1", data=1)
            await client.push("msg")
            await client.ws.send('{"t":"ack","upto":5}')
            refusal = await client.push("err")
            self.assertEqual(refusal["code"], 107)
            self.assertIn("past the last msg sent", refusal["msg"])
            self.assertEqual(self.info("pad-1")["device"]["acked"], 0)
        run(body())

    def test_a_connect_in_another_epoch_gets_every_unacked_message(self):
        self.send(device="old-1", data="a")
        self.send(device="old-1", data="b")

        async def body():
            client = await self.connect("old-1", inbox={"ep": "not-the-epoch", "acked": 2})
            self.assertEqual(client.connected["inbox"]["pending"], 2)
            self.assertEqual([m["data"] for m in await self.msgs(client, 2)], ["a", "b"])
            self.assertEqual(self.info("old-1")["device"]["acked"], 0)
        run(body())

    def test_collapse_key_replaces_a_message_never_sent(self):
        first = self.send(device="col-1", data="old", collapse_key="score")
        second = self.send(device="col-1", data="new", collapse_key="score")
        self.assertEqual(self.states(first["id"]), {"col-1": "replaced"})
        self.assertEqual(self.info("col-1")["device"]["pending"], 1)

        async def body():
            client = await self.connect("col-1")
            msg = await client.push("msg")
            self.assertEqual((msg["id"], msg["data"], msg["seq"]), (second["id"], "new", 2))
            # Once pushed, a message is not replaced any more.
            third = self.send(device="col-1", data="newer", collapse_key="score")
            self.assertEqual((await client.push("msg"))["id"], third["id"])
            wait_until(lambda: self.states(second["id"]) == {"col-1": "delivered"}, what="delivered receipt")
        run(body())

    def test_a_message_past_its_ttl_is_dropped_and_reported_expired(self):
        sent = self.send(device="ttl-1", data="soon gone", ttl=1)
        wait_until(lambda: self.states(sent["id"]) == {"ttl-1": "expired"}, timeout=10, what="expired receipt")
        call = self.backend.wait_for("inbox.expired")[0].body
        self.assertEqual((call["device"], call["id"], call["seq"]), ("ttl-1", sent["id"], 1))
        self.assertEqual(self.info("ttl-1")["device"]["pending"], 0)

        async def body():
            client = await self.connect("ttl-1")
            self.assertEqual(client.connected["inbox"]["pending"], 0)
            await asyncio.sleep(0.3)
            await client.no_push("msg", client.round_trip())
        run(body())

    def test_an_idempotency_key_repeated_gets_the_first_answer_and_stores_nothing(self):
        first = self.send(device="idem-1", data=1, idempotency_key="order-7")
        again = self.send(device="idem-1", data=2, idempotency_key="order-7")
        self.assertEqual(first, again)
        self.assertEqual(self.info("idem-1")["device"]["pending"], 1)
        other = self.send(device="idem-1", data=3, idempotency_key="order-8")
        self.assertEqual(other["seq"], 2)
        metrics = read_metrics(self.server.api_port)
        self.assertEqual(metrics.value("wshub_inbox_duplicates_total"), 1)

    def test_an_idempotency_key_on_publish_gets_the_first_answer_and_publishes_once(self):
        async def body():
            client = await HubClient.open(self.server, user="reader")
            await client.ok("subscribe", ch="orders")
            first = self.api.post("/api/publish", {"channel": "orders", "data": 1, "idempotency_key": "p-1"})
            self.assertEqual(first.status, 200, first)
            again = self.api.post("/api/publish", {"channel": "orders", "data": 2, "idempotency_key": "p-1"})
            self.assertEqual((again.status, again.json), (200, first.json))
            other = self.api.post("/api/publish", {"channel": "orders", "data": 3, "idempotency_key": "p-2"})
            self.assertEqual(other.json["offset"], first.json["offset"] + 1)
            self.assertEqual([(await client.push("pub"))["data"] for _ in range(2)], [1, 3])
            await client.round_trip()
            self.assertEqual([p["data"] for p in client.all_pushes if p["t"] == "pub"], [1, 3])
        run(body())
        # The answer was stored with the publication: a restart keeps it.
        self.api.close()
        self.server.restart()
        self.api = ApiClient(self.server.api_port)
        repeat = self.api.post("/api/publish", {"channel": "orders", "data": 9, "idempotency_key": "p-1"})
        self.assertEqual((repeat.status, repeat.json["offset"]), (200, 1))
        bad = self.api.post("/api/publish", {"channel": "orders", "data": 9, "idempotency_key": 7})
        self.assertEqual((bad.status, bad.error_code), (400, 107))

    def test_a_send_to_a_user_reaches_each_of_their_devices(self):
        missing = self.api.post("/api/send", {"user": "nobody", "data": 1})
        self.assertEqual((missing.status, missing.error_code), (404, 102), missing)
        self.assertIn("nobody", missing.json["error"]["message"])

        async def body():
            for device in ("bob-phone", "bob-laptop"):
                client = await self.connect(device, user="bob")
                await client.close()
            sent = self.send(user="bob", data={"hi": "bob"})
            self.assertEqual(sorted((c["device"], c["seq"]) for c in sent["copies"]),
                             [("bob-laptop", 1), ("bob-phone", 1)])
            for device in ("bob-phone", "bob-laptop"):
                client = await self.connect(device, user="bob")
                msg = await client.push("msg")
                self.assertEqual((msg["id"], msg["data"]), (sent["id"], {"hi": "bob"}))
            # The delivery receipt is written after the push.
            wait_until(lambda: self.states(sent["id"]) == {"bob-laptop": "delivered", "bob-phone": "delivered"},
                       what="both delivered receipts")
        run(body())

    def test_pending_counts_in_info_and_metrics(self):
        for n in range(3):
            self.send(device="cnt-1", data=n)
        self.send(device="cnt-2", data=0)
        inbox = self.api.get("/api/info").json["inbox"]
        self.assertEqual((inbox["available"], inbox["pending"], inbox["devices_with_pending"]), (True, 4, 2))
        self.assertNotIn("device", inbox)
        self.assertIsNone(self.info("nobody-here")["device"])
        metrics = read_metrics(self.server.api_port)
        self.assertEqual(metrics.value("wshub_inbox_pending"), 4)
        self.assertEqual(metrics.value("wshub_inbox_sent_total"), 4)

    def test_bad_sends_get_a_precise_400(self):
        for body, words in (({"data": 1}, "exactly one of user or device"),
                            ({"user": "a", "device": "b", "data": 1}, "exactly one of user or device"),
                            ({"device": "d"}, "data is required"),
                            ({"device": "d", "data": 1, "ttl": 0}, "ttl must be"),
                            ({"device": "d", "data": 1, "ttl": 10 ** 9}, "inbox.max_ttl_s"),
                            ({"device": "d", "data": 1, "collapse_key": 5}, "collapse_key")):
            answer = self.api.post("/api/send", body)
            with self.subTest(body=body):
                self.assertEqual((answer.status, answer.error_code), (400, 107), answer)
                self.assertIn(words, answer.json["error"]["message"])


class Fallback(InboxCase):
    with_webhooks = True
    inbox = {"fallback_after_s": 1, "max_pending": 3}

    def test_undelivered_is_raised_once_for_a_message_left_unacked(self):
        sent = self.send(device="off-1", data="x")
        call = self.backend.wait_for("inbox.undelivered", timeout=10)[0].body
        self.assertEqual((call["type"], call["device"], call["id"], call["seq"]),
                         ("inbox.undelivered", "off-1", sent["id"], 1))
        time.sleep(2.5)
        self.assertEqual(len(self.backend.of_type("inbox.undelivered")), 1)

    def test_a_full_inbox_refuses_with_115_and_queues_nothing(self):
        for n in range(3):
            self.send(device="full-1", data=n)
        answer = self.api.post("/api/send", {"device": "full-1", "data": 3})
        self.assertEqual((answer.status, answer.error_code), (429, 115), answer)
        self.assertIn("inbox.max_pending", answer.json["error"]["message"])
        self.assertEqual(self.info("full-1")["device"]["pending"], 3)


class Restart(InboxCase):
    def test_a_send_to_a_deleted_database_is_refused_with_503_like_a_publish(self):
        self.assertEqual(self.send(device="gone-1", data=1)["seq"], 1)
        database = self.server.database()
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(database + suffix):
                os.unlink(database + suffix)
        for n in range(2):
            answer = self.api.post("/api/send", {"device": "gone-1", "data": n})
            self.assertEqual((answer.status, answer.error_code), (503, 100), answer)
            self.assertIn("the store could not keep the message", answer.json["error"]["message"])
            self.assertIn("was deleted", answer.json["error"]["message"])
        self.assertEqual(self.api.post("/api/send", {"device": "gone-1", "data": 3,
                                                     "idempotency_key": "k"}).status, 503)

    def test_a_restart_keeps_unacked_messages_and_acked_stays_acked(self):
        ids = [self.send(device="keep-1", data=n)["id"] for n in range(3)]

        async def first_life():
            client = await self.connect("keep-1")
            got = await self.msgs(client, 3)
            await client.ws.send('{"t":"ack","upto":1}')
            await client.round_trip()
            wait_until(lambda: self.info("keep-1")["device"]["acked"] == 1, what="the ack stored")
            return client.connected["inbox"]["ep"], [m["id"] for m in got]
        ep, seen = run(first_life())
        self.assertEqual(seen, ids)
        self.api.close()
        self.server.restart()
        self.api = ApiClient(self.server.api_port)

        async def second_life():
            client = await self.connect("keep-1", inbox={"ep": ep, "acked": 1})
            self.assertEqual(client.connected["inbox"], {"ep": ep, "head": 3, "pending": 2})
            got = await self.msgs(client, 2)
            self.assertEqual([(m["seq"], m["id"]) for m in got], [(2, ids[1]), (3, ids[2])])
            self.assertEqual(self.send(device="keep-1", data="after")["seq"], 4)
        run(second_life())
        self.assertEqual(self.states(ids[0]), {"keep-1": "acked"})


if __name__ == "__main__":
    main()
