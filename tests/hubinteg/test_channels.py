#!/usr/bin/python3
# Channels and who may subscribe: each namespace policy (anyone, authenticated, token with exact
# names and prefixes, the subscribe webhook allowing, refusing or down), bad names, unknown
# namespaces, double subscriptions, user-limited channels, the personal channels $user:U and
# $device:D, unsubscribe, and 10,000 subscriptions at once or one by one against the limit
# while another client is served.

import json
import time

from wshubtest import hubtest
from wshubtest.hubtest import Between, Regex, err, ok, subscribed, token


def pub(channel, off, data):
    return {"t": "pub", "ch": channel, "off": off, "data": data, "ts": Between(1e12, 1e13)}


class Channels(hubtest.HubTestCase):

    async def publish(self, channel, data):
        status, answer = self.hub.api("POST", "/api/publish", {"channel": channel, "data": data})
        self.assertEqual(status, 200, answer)
        return answer

    # -- namespace policies ------------------------------------------------------------------

    async def test_anyone_and_authenticated(self):
        self.start_hub(hub={"allow_anonymous": True})
        anonymous = await self.open()
        answer = await anonymous.call("connect")
        self.assertEqual(answer, ok(1, cid=hubtest.CID, user="", device="", hb={"iv": 25000, "to": 10000}, subs={}))
        self.assertEqual(await anonymous.call("subscribe", ch="anyone:hall"), ok(2, **subscribed()))
        self.assertEqual(await anonymous.call("subscribe", ch="room"), err(3, 103, "permission denied"))
        self.assertEqual(await anonymous.call("subscribe", ch="news:today"), err(4, 103, "permission denied"))
        alice, _ = await self.connect()
        self.assertEqual(await alice.call("subscribe", ch="room"), ok(2, **subscribed()))
        self.assertEqual(await alice.call("subscribe", ch="news:today"), ok(3, **subscribed()))
        self.assertEqual(await alice.call("subscribe", ch="anyone:hall"), ok(4, **subscribed()))
        await self.publish("anyone:hall", {"hello": 1})
        for client in (anonymous, alice):
            self.assertEqual(await client.push("pub"), pub("anyone:hall", 1, {"hello": 1}))
        self.assertEqual(self.metric("wshub_hub_errors_total", code="103"), 2)

    async def test_token_channels_exact_and_prefix(self):
        self.start_hub()
        alice, _ = await self.connect(channels=["tok:exact", "tok:team-*"])
        self.assertEqual(await alice.call("subscribe", ch="tok:exact"), ok(2, **subscribed()))
        self.assertEqual(await alice.call("subscribe", ch="tok:exactly"), err(3, 103, "permission denied"))
        self.assertEqual(await alice.call("subscribe", ch="tok:team-red"), ok(4, **subscribed()))
        self.assertEqual(await alice.call("subscribe", ch="tok:team-"), ok(5, **subscribed()))
        self.assertEqual(await alice.call("subscribe", ch="tok:team"), err(6, 103, "permission denied"))
        everything, _ = await self.connect(user="bob", channels=["tok:*"])
        self.assertEqual(await everything.call("subscribe", ch="tok:whatever"), ok(2, **subscribed()))
        nothing, _ = await self.connect(user="carol")
        self.assertEqual(await nothing.call("subscribe", ch="tok:exact"), err(2, 103, "permission denied"))
        # After a refresh the new token's channels count.
        self.assertEqual(await nothing.call("refresh", token=token("carol", channels=["tok:exact"])),
                         ok(3, exp=Between(1e12, 1e13)))
        self.assertEqual(await nothing.call("subscribe", ch="tok:exact"), ok(4, **subscribed()))

    async def test_subscribe_webhook_allows_refuses_and_fails(self):
        backend = self.start_backend([
            {"type": "subscribe", "match": {"ch": "hook:open"}, "body": {}},
            {"type": "subscribe", "match": {"ch": "hook:empty"}, "action": "raw", "text": ""},
            {"type": "subscribe", "match": {"ch": "hook:closed"},
             "body": {"error": {"code": 4030, "message": "members only"}}},
            {"type": "subscribe", "match": {"ch": "hook:nocode"}, "body": {"error": {"message": "no"}}},
            {"type": "subscribe", "match": {"ch": "hook:broken"}, "status": 500, "body": {}},
            {"type": "subscribe", "match": {"ch": "hook:garbage"}, "action": "raw", "text": "{nope"},
        ])
        self.start_hub(webhook_url=backend.url, webhook_events=["subscribe"])
        alice, answer = await self.connect(device="d1")
        self.assertEqual(await alice.call("subscribe", ch="hook:open"), ok(2, **subscribed()))
        self.assertEqual(await alice.call("subscribe", ch="hook:empty"), ok(3, **subscribed()))
        self.assertEqual(await alice.call("subscribe", ch="hook:closed"), err(4, 4030, "members only"))
        self.assertEqual(await alice.call("subscribe", ch="hook:nocode"),
                         err(5, 116, "backend unavailable", retry=True))
        self.assertEqual(await alice.call("subscribe", ch="hook:broken"),
                         err(6, 116, "backend unavailable", retry=True))
        self.assertEqual(await alice.call("subscribe", ch="hook:garbage"),
                         err(7, 116, "backend unavailable", retry=True))
        calls = backend.calls("subscribe")
        self.assertEqual([c["body"] for c in calls],
                         [{"type": "subscribe", "cid": answer["cid"], "user": "alice", "device": "d1", "ch": ch}
                          for ch in ("hook:open", "hook:empty", "hook:closed", "hook:nocode", "hook:broken",
                                     "hook:garbage")])
        self.assertTrue(all(c["sig_ok"] for c in calls), calls)
        self.assertEqual(self.metric("wshub_hub_errors_total", code="116"), 3)
        self.assert_log(r"hub: subscribe webhook failed: http_status_error \(HTTP 500\)")
        self.assert_log(r"hub: subscribe webhook failed: error.code must be a whole number")
        # Allowed subscriptions are live.
        await self.publish("hook:open", [1])
        self.assertEqual(await alice.push("pub"), pub("hook:open", 1, [1]))

    async def test_subscribe_webhook_down(self):
        self.start_hub(webhook_url=hubtest.refused_url(), webhook_events=["subscribe"])
        alice, _ = await self.connect()
        self.assertEqual(await alice.call("subscribe", ch="hook:x"), err(2, 116, "backend unavailable", retry=True))
        self.assert_log(r"hub: subscribe webhook failed: connect_failed")
        await alice.barrier()

    async def test_webhook_decided_subscribe_keeps_answers_in_order(self):
        backend = self.start_backend([{"type": "subscribe", "match": {"ch": "hook:slow"}, "delay": 0.5, "body": {}}])
        self.start_hub(webhook_url=backend.url, webhook_events=["subscribe"])
        alice, _ = await self.connect()
        await alice.send([{"t": "subscribe", "id": 10, "ch": "hook:slow"}, {"t": "subscribe", "id": 11, "ch": "room"},
                          {"t": "ping", "id": 12}])
        self.assertEqual(await alice.answer(12), ok(12))
        # Every answer was sent in request order, though the first waited for the backend.
        self.assertEqual([json.loads(text) for text in alice.texts[1:]],
                         [ok(10, **subscribed()), ok(11, **subscribed()), ok(12)])

    # -- names -------------------------------------------------------------------------------

    async def test_bad_names_unknown_namespaces_and_double_subscriptions(self):
        self.start_hub()
        alice, _ = await self.connect()
        bad_character = "the channel name has a character outside A-Z a-z 0-9 - _ . : @ = / # , $"
        empty_part = "the channel name has an empty namespace, name or user (as in 'ns:', '#' or 'a,,b')"
        cases = [
            ("white space", 107, bad_character),
            ("caf\u00e9", 107, bad_character),
            ("x" * 256, 107, "ch must be a channel name"),
            ("news:", 107, empty_part),
            (":name", 107, empty_part),
            ("room#", 107, empty_part),
            ("room#a,,b", 107, empty_part),
            ("$other:x", 107, "names starting with $ are personal channels ($user:ID or $device:ID) or the server's own ($admin:NAME)"),
            ("nowhere:x", 102, "no namespace 'nowhere' is configured"),
        ]
        for i, (name, code, msg) in enumerate(cases, start=2):
            self.assertEqual(await alice.call("subscribe", ch=name), err(i, code, msg), name)
        self.assertEqual(await alice.call("subscribe", ch="x" * 255), ok(11, **subscribed()))
        self.assertEqual(await alice.call("subscribe", ch="room"), ok(12, **subscribed()))
        self.assertEqual(await alice.call("subscribe", ch="room"), err(13, 105, "already subscribed"))
        self.assertEqual(await alice.call("subscribe", ch=""), err(14, 107, "ch is required"))
        self.assertEqual(self.metric("wshub_hub_errors_total", code="107"), 9)
        self.assertEqual(self.metric("wshub_hub_errors_total", code="102"), 1)
        self.assertEqual(self.metric("wshub_hub_errors_total", code="105"), 1)

    async def test_unsubscribe_stops_publications(self):
        self.start_hub()
        alice, _ = await self.connect()
        self.assertEqual(await alice.call("subscribe", ch="room"), ok(2, **subscribed()))
        await self.publish("room", "one")
        self.assertEqual(await alice.push("pub"), pub("room", 1, "one"))
        self.assertEqual(await alice.call("unsubscribe", ch="room"), ok(3))
        self.assertEqual(await alice.call("unsubscribe", ch="room"), ok(4))
        self.assertEqual(await alice.call("unsubscribe", ch="bad name"), err(5, 107, Regex("the channel name .*")))
        await self.publish("room", "two")
        await alice.barrier()
        self.assertEqual(alice.messages, [])
        # Subscribing again gives the channel's current position; without history a gap is
        # recovered only when there is none (same epoch, same offset).
        epoch = (await alice.call("subscribe", ch="room"))["ep"]
        self.assertEqual(await alice.call("unsubscribe", ch="room"), ok(8))
        self.assertEqual(await alice.call("subscribe", ch="room", since={"ep": epoch, "off": 1}),
                         ok(9, **subscribed(ep=epoch, off=2, rec=False)))
        self.assertEqual(await alice.call("unsubscribe", ch="room"), ok(10))
        self.assertEqual(await alice.call("subscribe", ch="room", since={"ep": epoch, "off": 2}),
                         ok(11, **subscribed(ep=epoch, off=2, rec=True)))
        self.assertEqual(await alice.call("unsubscribe", ch="room"), ok(12))
        self.assertEqual(await alice.call("subscribe", ch="room", since={"ep": "0badf00d", "off": 2}),
                         ok(13, **subscribed(ep=epoch, off=2, rec=False)))

    async def test_user_limited_channels(self):
        self.start_hub()
        alice, _ = await self.connect(user="alice")
        bob, _ = await self.connect(user="bob")
        carol, _ = await self.connect(user="carol")
        channel = "chat#alice,bob"
        self.assertEqual(await alice.call("subscribe", ch=channel), ok(2, **subscribed()))
        self.assertEqual(await bob.call("subscribe", ch=channel), ok(2, **subscribed()))
        self.assertEqual(await carol.call("subscribe", ch=channel), err(2, 103, "permission denied"))
        self.assertEqual(await carol.call("subscribe", ch="nowhere:chat#carol"),
                         err(3, 102, "no namespace 'nowhere' is configured"))
        # The namespace's rule is not consulted: tok: asks for the token's channels otherwise.
        self.assertEqual(await carol.call("subscribe", ch="tok:secret#carol"), ok(4, **subscribed()))
        self.assertEqual(await alice.call("publish", ch=channel, data={"m": "hi"}),
                         ok(3, off=1, ep=hubtest.EPOCH, dup=False))
        self.assertEqual(await bob.push("pub"), pub(channel, 1, {"m": "hi"}))
        self.assertEqual(await carol.call("publish", ch=channel, data={"m": "x"}), err(5, 103, "permission denied"))

    # -- personal channels -------------------------------------------------------------------

    async def test_personal_channels(self):
        self.start_hub(threads=2)
        phone, _ = await self.connect(user="alice", device="phone")
        laptop, _ = await self.connect(user="alice", device="laptop")
        bob, _ = await self.connect(user="bob", device="bobs")
        await self.publish("$user:alice", {"to": "alice"})
        for client in (phone, laptop):
            self.assertEqual(await client.push("pub"), pub("$user:alice", 1, {"to": "alice"}))
        await self.publish("$device:laptop", {"to": "laptop"})
        self.assertEqual(await laptop.push("pub"), pub("$device:laptop", 1, {"to": "laptop"}))
        for client in (phone, laptop, bob):
            await client.barrier()
            self.assertEqual(client.messages, [])
        self.assertEqual(await phone.call("subscribe", ch="$user:alice"), err(3, 105, "already subscribed"))
        self.assertEqual(await phone.call("subscribe", ch="$device:phone"), err(4, 105, "already subscribed"))
        self.assertEqual(await phone.call("subscribe", ch="$user:bob"), err(5, 103, "permission denied"))
        self.assertEqual(await phone.call("subscribe", ch="$device:bobs"), err(6, 103, "permission denied"))
        self.assertEqual(await phone.call("publish", ch="$user:alice", data=1),
                         err(7, 103, "personal channels are published to by the backend only"))
        self.assertEqual(await phone.call("publish", ch="$device:phone", data=1),
                         err(8, 103, "personal channels are published to by the backend only"))

    async def test_personal_channels_can_be_turned_off(self):
        self.start_hub(hub={"personal_channels": False})
        alice, _ = await self.connect(device="phone")
        await self.publish("$user:alice", 1)
        await alice.barrier()
        self.assertEqual(alice.messages, [])
        self.assertEqual(await alice.call("subscribe", ch="$user:alice"), ok(3, **subscribed(off=1)))

    # -- many subscriptions ------------------------------------------------------------------

    async def many_subscriptions(self, batched):
        self.start_hub(hub={"max_batch": 10000})
        greedy, _ = await self.connect(user="greedy")
        other, _ = await self.connect(user="other")
        self.assertEqual(await other.call("subscribe", ch="room"), ok(2, **subscribed()))
        requests = [{"t": "subscribe", "id": 100 + i, "ch": f"many-{i}"} for i in range(10000)]
        if batched:
            await greedy.send(requests)
        else:
            for request in requests:
                await greedy.send(request)
        # Meanwhile another client is served, and publications reach it.
        started = time.monotonic()
        self.assertEqual(await other.call("ping"), ok(3))
        await self.publish("room", "still here")
        self.assertEqual(await other.push("pub"), pub("room", 1, "still here"))
        self.assertLess(time.monotonic() - started, hubtest.TIMEOUT)
        # 1,024 subscriptions per connection, $user:greedy included: 1,023 more, then 106.
        for i in range(10000):
            answer = await greedy.answer(100 + i)
            if i < 1023:
                self.assertEqual(answer, ok(100 + i, **subscribed()), i)
            else:
                self.assertEqual(answer, err(100 + i, 106,
                                             "too many subscriptions for one connection (hub.max_subscriptions)"), i)
        self.assertEqual(self.metric("wshub_hub_errors_total", code="106"), 10000 - 1023)
        self.assertEqual(self.metric("wshub_hub_subscriptions"), 1024 + 2)
        # The connection is still usable: unsubscribing one frees a place.
        self.assertEqual(await greedy.call("unsubscribe", ch="many-0"), ok(2))
        self.assertEqual(await greedy.call("subscribe", ch="many-9999"), ok(3, **subscribed()))

    async def test_ten_thousand_subscriptions_in_one_batch(self):
        await self.many_subscriptions(batched=True)

    async def test_ten_thousand_subscriptions_one_by_one(self):
        await self.many_subscriptions(batched=False)


if __name__ == "__main__":
    hubtest.main()
