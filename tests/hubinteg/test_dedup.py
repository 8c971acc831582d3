#!/usr/bin/python3
# Deduplication by `mid` against the real binary (docs/hub-protocol.md, Deduplication): a publish
# repeated with its mid answers the first offset with dup true, and neither the publish webhook
# nor the subscribers see it again; an rpc repeated answers the first data and the backend is
# called once; a failed rpc is not remembered; a repeat while the first is in flight gets 111;
# users are independent, one user's connections share their mids; an anonymous connection
# without a device is not deduplicated; a mid over 128 bytes is refused with 107.

import json

from wshubtest import hubtest
from wshubtest.hubtest import EPOCH, Between, err, ok, subscribed

IN_FLIGHT = "a request with this mid is still in progress; retry after its answer"


def pub(channel, off, data):
    return {"t": "pub", "ch": channel, "off": off, "data": data, "ts": Between(1e12, 1e13)}


class PublishDedup(hubtest.HubTestCase):

    async def test_a_repeated_publish_answers_the_first_offset_and_is_neither_checked_nor_delivered_again(self):
        backend = self.start_backend([{"type": "publish", "body": {}}, {"type": "subscribe", "body": {}}])
        self.start_hub(webhook_url=backend.url, webhook_events=["publish", "subscribe"])
        alice, _ = await self.connect(user="alice")
        bob, _ = await self.connect(user="bob")
        self.assertEqual(await alice.call("subscribe", ch="hook:a"), ok(2, **subscribed()))
        self.assertEqual(await bob.call("subscribe", ch="hook:a"), ok(2, **subscribed()))
        self.assertEqual(await alice.call("publish", ch="hook:a", data={"n": 1}, mid="m-1"),
                         ok(3, off=1, ep=EPOCH, dup=False))
        # The repeat (a client retrying after a lost answer) may carry anything: the first wins.
        self.assertEqual(await alice.call("publish", ch="hook:a", data={"n": 1}, mid="m-1"),
                         ok(4, off=1, ep=EPOCH, dup=True))
        # Another connection of the same user shares its mids.
        alice2, _ = await self.connect(user="alice")
        self.assertEqual(await alice2.call("publish", ch="hook:a", data={"n": 1}, mid="m-1"),
                         ok(2, off=1, ep=EPOCH, dup=True))
        self.assertEqual(await alice.call("publish", ch="hook:a", data={"n": 2}, mid="m-2"),
                         ok(5, off=2, ep=EPOCH, dup=False))
        # Bob's m-1 is his own.
        self.assertEqual(await bob.call("publish", ch="hook:a", data={"n": 3}, mid="m-1"),
                         ok(3, off=3, ep=EPOCH, dup=False))
        for client in (alice, bob):
            self.assertEqual([await client.push("pub") for _ in range(3)],
                             [pub("hook:a", 1, {"n": 1}), pub("hook:a", 2, {"n": 2}), pub("hook:a", 3, {"n": 3})])
            await client.barrier()
            self.assertEqual([m for m in client.messages if m.get("t") == "pub"], [])
        self.assertEqual([(c["body"]["user"], c["body"]["mid"]) for c in backend.calls("publish")],
                         [("alice", "m-1"), ("alice", "m-2"), ("bob", "m-1")])
        self.assertEqual(self.metric("wshub_hub_mid_duplicates_total"), 2)

    async def test_a_repeat_while_the_first_publish_waits_for_its_webhook_gets_111(self):
        backend = self.start_backend([{"type": "publish", "delay": 0.5, "body": {}}, {"type": "subscribe", "body": {}}])
        self.start_hub(webhook_url=backend.url, webhook_events=["publish", "subscribe"])
        alice, _ = await self.connect()
        self.assertEqual(await alice.call("subscribe", ch="hook:a"), ok(2, **subscribed()))
        first = await alice.request("publish", ch="hook:a", data=1, mid="m")
        second = await alice.request("publish", ch="hook:a", data=1, mid="m")
        # Publish answers keep request order: the refusal waits behind the first's answer.
        self.assertEqual(await alice.answer(first), ok(first, off=1, ep=EPOCH, dup=False))
        self.assertEqual(await alice.answer(second), err(second, 111, IN_FLIGHT, retry=True))
        self.assertEqual(await alice.call("publish", ch="hook:a", data=1, mid="m"), ok(5, off=1, ep=EPOCH, dup=True))
        self.assertEqual(await alice.push("pub"), pub("hook:a", 1, 1))
        await alice.barrier()
        self.assertEqual([m for m in alice.messages if m.get("t") == "pub"], [])
        self.assertEqual(len(backend.calls("publish")), 1)

    async def test_a_refused_publish_is_not_remembered(self):
        backend = self.start_backend([
            {"type": "publish", "body": {"error": {"code": 4031, "message": "moderated"}}},
            {"type": "subscribe", "body": {}}])
        self.start_hub(webhook_url=backend.url, webhook_events=["publish", "subscribe"])
        alice, _ = await self.connect()
        self.assertEqual(await alice.call("subscribe", ch="hook:a"), ok(2, **subscribed()))
        self.assertEqual(await alice.call("publish", ch="hook:a", data=1, mid="m"), err(3, 4031, "moderated"))
        backend.set_rules([{"type": "publish", "body": {}}])
        self.assertEqual(await alice.call("publish", ch="hook:a", data=1, mid="m"), ok(4, off=1, ep=EPOCH, dup=False))
        self.assertEqual(len(backend.calls("publish")), 2)

    async def test_an_anonymous_connection_without_a_device_is_not_deduplicated(self):
        self.start_hub(hub={"allow_anonymous": True})
        anon = await self.open()
        self.assertEqual((await anon.call("connect"))["t"], "ok")
        self.assertEqual(await anon.call("subscribe", ch="anyone:x"), ok(2, **subscribed()))
        self.assertEqual(await anon.call("publish", ch="anyone:x", data=1, mid="m"), ok(3, off=1, ep=EPOCH, dup=False))
        self.assertEqual(await anon.call("publish", ch="anyone:x", data=1, mid="m"), ok(4, off=2, ep=EPOCH, dup=False))

    async def test_a_device_without_a_user_is_deduplicated_by_its_device(self):
        # The connect webhook gives identities without a user; a JWT always names one (sub).
        backend = self.start_backend([{"type": "connect", "action": "token"}])
        self.start_hub(jwt_keys=[], webhook_url=backend.url, webhook_events=["connect"])
        clients = []
        for device in ("d-1", "d-2"):
            client = await self.open()
            answer = await client.call("connect", token=json.dumps({"user": "", "device": device}))
            self.assertEqual((answer["t"], answer["user"], answer["device"]), ("ok", "", device))
            self.assertEqual(await client.call("subscribe", ch="anyone:x"), ok(2, **subscribed()))
            clients.append(client)
        first, other = clients
        self.assertEqual(await first.call("publish", ch="anyone:x", data=1, mid="m"), ok(3, off=1, ep=EPOCH, dup=False))
        self.assertEqual(await first.call("publish", ch="anyone:x", data=1, mid="m"), ok(4, off=1, ep=EPOCH, dup=True))
        self.assertEqual(await other.call("publish", ch="anyone:x", data=1, mid="m"), ok(3, off=2, ep=EPOCH, dup=False))

    async def test_mid_longer_than_128_bytes_is_refused(self):
        self.start_hub()
        alice, _ = await self.connect()
        self.assertEqual(await alice.call("subscribe", ch="room"), ok(2, **subscribed()))
        self.assertEqual(await alice.call("publish", ch="room", data=1, mid="m" * 129),
                         err(3, 107, "mid must be a short string"))
        self.assertEqual(await alice.call("rpc", m="x", mid="m" * 129), err(4, 107, "mid must be a short string"))
        self.assertEqual(await alice.call("publish", ch="room", data=1, mid="m" * 128), ok(5, off=1, ep=EPOCH, dup=False))

    async def test_mid_ttl_zero_turns_deduplication_off(self):
        self.start_hub(hub={"mid_ttl_s": 0})
        alice, _ = await self.connect()
        self.assertEqual(await alice.call("subscribe", ch="room"), ok(2, **subscribed()))
        self.assertEqual(await alice.call("publish", ch="room", data=1, mid="m"), ok(3, off=1, ep=EPOCH, dup=False))
        self.assertEqual(await alice.call("publish", ch="room", data=1, mid="m"), ok(4, off=2, ep=EPOCH, dup=False))


class RpcDedup(hubtest.HubTestCase):

    def start(self, rules):
        backend = self.start_backend(rules)
        self.start_hub(webhook_url=backend.url, webhook_events=["rpc"])
        return backend

    async def test_a_repeated_rpc_answers_the_first_data_and_the_backend_is_called_once(self):
        backend = self.start([{"type": "rpc", "body": {"data": {"v": 1}}}])
        alice, _ = await self.connect(user="alice")
        self.assertEqual(await alice.call("rpc", m="order", data={"item": 7}, mid="r-1"), ok(2, data={"v": 1}))
        backend.set_rules([{"type": "rpc", "body": {"data": {"v": 2}}}])
        self.assertEqual(await alice.call("rpc", m="order", data={"item": 7}, mid="r-1"),
                         ok(3, data={"v": 1}, dup=True))
        self.assertEqual(await alice.call("rpc", m="order", data={"item": 7}), ok(4, data={"v": 2}))
        bob, _ = await self.connect(user="bob")
        self.assertEqual(await bob.call("rpc", m="order", data={"item": 7}, mid="r-1"), ok(2, data={"v": 2}))
        self.assertEqual([(c["body"]["user"], c["body"].get("mid")) for c in backend.calls("rpc")],
                         [("alice", "r-1"), ("alice", None), ("bob", "r-1")])
        self.assertEqual(self.metric("wshub_hub_mid_duplicates_total"), 1)

    async def test_an_rpc_error_is_not_remembered(self):
        backend = self.start([{"type": "rpc", "body": {"error": {"code": 4004, "message": "no such order"}}}])
        alice, _ = await self.connect()
        self.assertEqual(await alice.call("rpc", m="order", mid="r-2"), err(2, 4004, "no such order"))
        backend.set_rules([{"type": "rpc", "status": 503, "body": {}}])
        self.assertEqual(await alice.call("rpc", m="order", mid="r-2"), err(3, 116, "backend unavailable", retry=True))
        backend.set_rules([{"type": "rpc", "body": {"data": "done"}}])
        self.assertEqual(await alice.call("rpc", m="order", mid="r-2"), ok(4, data="done"))
        self.assertEqual(await alice.call("rpc", m="order", mid="r-2"), ok(5, data="done", dup=True))
        self.assertEqual(len(backend.calls("rpc")), 3)

    async def test_a_repeat_while_the_first_is_in_flight_gets_111_and_calls_nothing(self):
        backend = self.start([{"type": "rpc", "delay": 0.5, "body": {"data": "slow"}}])
        alice, _ = await self.connect()
        first = await alice.request("rpc", m="order", mid="r-3")
        second = await alice.request("rpc", m="order", mid="r-3")
        self.assertEqual(await alice.answer(second), err(second, 111, IN_FLIGHT, retry=True))
        self.assertEqual(await alice.answer(first), ok(first, data="slow"))
        self.assertEqual(await alice.call("rpc", m="order", mid="r-3"), ok(alice._next_id, data="slow", dup=True))
        self.assertEqual(len(backend.calls("rpc")), 1)


if __name__ == "__main__":
    hubtest.main()
