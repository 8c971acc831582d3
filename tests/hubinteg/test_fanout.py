#!/usr/bin/python3
# Fan-out and presence: API publications reach subscribers on every worker (--threads 2, many
# clients), each channel's order holds under several concurrent API publishers (every
# subscriber sees offsets 1, 2, 3, ... with no gap or repeat), presence answers and join/leave
# pushes, and presence where it is off or not allowed.

import asyncio
import time

from wshubtest import hubtest
from wshubtest.hubtest import CID, Between, err, namespace, ok, subscribed

SUBSCRIBERS = 40
PUBLISHERS = 4
PER_PUBLISHER = 50


class Fanout(hubtest.HubTestCase):

    async def subscribers(self, count, channel):
        clients = []
        for i in range(count):
            client, answer = await self.connect(user=f"user-{i}")
            self.assertEqual(await client.call("subscribe", ch=channel), ok(2, **subscribed()))
            clients.append((client, answer["cid"]))
        return clients

    async def test_api_publish_reaches_subscribers_on_every_worker_in_order(self):
        self.start_hub(threads=2)
        clients = await self.subscribers(SUBSCRIBERS, "room")
        workers = {cid.split("-")[0] for _, cid in clients}
        self.assertEqual(workers, {"0", "1"}, "the clients did not land on both workers")

        def publisher(p):
            offsets = []
            for seq in range(PER_PUBLISHER):
                status, answer = self.hub.api("POST", "/api/publish",
                                              {"channel": "room", "data": {"p": p, "seq": seq}})
                self.assertEqual(status, 200, answer)
                self.assertEqual(answer, {"epoch": hubtest.EPOCH, "offset": Between(1, PUBLISHERS * PER_PUBLISHER)})
                offsets.append(answer["offset"])
            return offsets

        started = time.monotonic()
        results = await asyncio.gather(*(asyncio.to_thread(publisher, p) for p in range(PUBLISHERS)))
        total = PUBLISHERS * PER_PUBLISHER
        self.assertEqual(sorted(o for offsets in results for o in offsets), list(range(1, total + 1)))
        for offsets in results:
            self.assertEqual(offsets, sorted(offsets), "one publisher's offsets went backwards")
        for client, cid in clients:
            pubs = [await client.push("pub") for _ in range(total)]
            self.assertEqual([p["off"] for p in pubs], list(range(1, total + 1)), cid)
            for p in range(PUBLISHERS):
                mine = [pub for pub in pubs if pub["data"]["p"] == p]
                self.assertEqual([pub["data"]["seq"] for pub in mine], list(range(PER_PUBLISHER)), cid)
                self.assertEqual([pub["off"] for pub in mine], results[p], cid)
            self.assertEqual(set(pubs[0]), {"t", "ch", "off", "data", "ts"})
        self.assertLess(time.monotonic() - started, 120)
        self.assertEqual(self.metric("wshub_hub_messages_out_total", type="pub"), total * SUBSCRIBERS)
        for client, _ in clients:
            await client.barrier()
            self.assertEqual(client.messages, [])

    async def test_client_publishers_on_two_workers_share_one_sequence(self):
        self.start_hub(threads=2)
        clients = await self.subscribers(8, "room")
        ids = []
        for k in range(25):
            ids.append([await c.request("publish", ch="room", data={"from": cid, "k": k}) for c, cid in clients])
        offsets = []
        for round_ids in ids:
            for (client, _), id_ in zip(clients, round_ids):
                answer = await client.answer(id_)
                self.assertEqual(answer, ok(id_, off=Between(1, 200), ep=hubtest.EPOCH, dup=False))
                offsets.append(answer["off"])
        self.assertEqual(sorted(offsets), list(range(1, 201)))
        for client, cid in clients:
            pubs = [await client.push("pub") for _ in range(200)]
            self.assertEqual([p["off"] for p in pubs], list(range(1, 201)), cid)
            for _, sender in clients:
                self.assertEqual([p["data"]["k"] for p in pubs if p["data"]["from"] == sender], list(range(25)))

    async def test_broadcast_reaches_each_channel(self):
        self.start_hub(threads=2)
        room = await self.subscribers(3, "room")
        hall = await self.subscribers(3, "hall")
        status, answer = self.hub.api("POST", "/api/broadcast", {"channels": ["room", "bad name"], "data": "x"})
        self.assertEqual((status, answer["error"]["code"]), (400, 107))
        status, answer = self.hub.api("POST", "/api/broadcast", {"channels": ["room", "hall", "empty"], "data": "b"})
        self.assertEqual(status, 200, answer)
        self.assertEqual(answer, {"results": [
            {"channel": "room", "epoch": hubtest.EPOCH, "offset": 1},
            {"channel": "hall", "epoch": hubtest.EPOCH, "offset": 1},
            {"channel": "empty", "epoch": hubtest.EPOCH, "offset": 1}]})
        for client, _ in room + hall:
            push = await client.push("pub")
            self.assertEqual(push, {"t": "pub", "ch": push["ch"], "off": 1, "data": "b", "ts": Between(1e12, 1e13)})
            await client.barrier()
            self.assertEqual(client.messages, [])


def presence_entry(user, device="", info=None):
    entry = {"user": user, "device": device}
    if info is not None:
        entry["info"] = info
    return entry


def presence_push(t, channel, cid, user, device=""):
    return {"t": t, "ch": channel, "cid": cid, "user": user, "device": device}


class Presence(hubtest.HubTestCase):

    async def test_presence_and_join_leave(self):
        self.start_hub(threads=2)
        alice, a = await self.connect(user="alice", device="a-phone", info={"name": "Alice"})
        bob, b = await self.connect(user="bob")
        carol, _ = await self.connect(user="carol")
        ch = "pres:room"
        self.assertEqual(await alice.call("subscribe", ch=ch), ok(2, **subscribed()))
        self.assertEqual(await bob.call("subscribe", ch=ch), ok(2, **subscribed()))
        # Others hear of a join; the one who joined does not hear of its own.
        self.assertEqual(await alice.push("join"), presence_push("join", ch, b["cid"], "bob"))
        await bob.barrier()
        self.assertEqual([m for m in bob.take_all() if m.get("t") in ("join", "leave")], [])
        # Presence needs permission to subscribe, not a subscription.
        expected = {a["cid"]: presence_entry("alice", "a-phone", {"name": "Alice"}), b["cid"]: presence_entry("bob")}
        self.assertEqual(await carol.call("presence", ch=ch), ok(2, clients=expected, total=2))
        self.assertEqual(self.hub.api("GET", "/api/presence?channel=pres:room"),
                         (200, {"clients": expected, "total": 2}))
        self.assertEqual(await bob.call("unsubscribe", ch=ch), ok(4))  # 3 was the barrier's ping
        self.assertEqual(await alice.push("leave"), presence_push("leave", ch, b["cid"], "bob"))
        self.assertEqual(await alice.call("presence", ch=ch),
                         ok(3, clients={a["cid"]: presence_entry("alice", "a-phone", {"name": "Alice"})}, total=1))
        # A connection that ends leaves every channel.
        self.assertEqual(await bob.call("subscribe", ch=ch), ok(5, **subscribed()))
        self.assertEqual(await alice.push("join"), presence_push("join", ch, b["cid"], "bob"))
        await bob.close()
        self.assertEqual(await alice.push("leave"), presence_push("leave", ch, b["cid"], "bob"))
        await alice.barrier()
        self.assertEqual(alice.messages, [])

    async def test_presence_without_join_leave(self):
        self.start_hub()
        alice, a = await self.connect(user="alice")
        bob, b = await self.connect(user="bob")
        for client in (alice, bob):
            self.assertEqual(await client.call("subscribe", ch="seen:room"), ok(2, **subscribed()))
        self.assertEqual(await alice.call("presence", ch="seen:room"),
                         ok(3, clients={a["cid"]: presence_entry("alice"), b["cid"]: presence_entry("bob")}, total=2))
        await bob.close()
        await alice.barrier()
        self.assertEqual(alice.messages, [])
        self.assertEqual(await alice.call("presence", ch="seen:room"),
                         ok(5, clients={a["cid"]: presence_entry("alice")}, total=1))

    async def test_presence_refusals(self):
        self.start_hub(namespaces=hubtest.DEFAULT_NAMESPACES + [
            namespace("secret", subscribe="token", presence=True)])
        alice, _ = await self.connect(channels=["secret:a"])
        self.assertEqual(await alice.call("presence", ch="room"), err(2, 108, "presence is off in this namespace"))
        self.assertEqual(await alice.call("presence", ch="nowhere:x"), err(3, 102, "unknown channel"))
        self.assertEqual(await alice.call("presence", ch="secret:b"), err(4, 103, "permission denied"))
        self.assertEqual(await alice.call("presence", ch="secret:a"), ok(5, clients={}, total=0))
        self.assertEqual(await alice.call("presence", ch="bad name"),
                         err(6, 107, "the channel name has a character outside A-Z a-z 0-9 - _ . : @ = / # , $"))
        self.assertEqual(self.metric("wshub_hub_errors_total", code="108"), 1)

    async def test_presence_lists_at_most_max_presence_clients(self):
        self.start_hub(hub={"max_presence_clients": 3})
        clients = []
        for i in range(5):
            client, answer = await self.connect(user=f"u{i}")
            self.assertEqual(await client.call("subscribe", ch="seen:big"), ok(2, **subscribed()))
            clients.append(client)
        answer = await clients[0].call("presence", ch="seen:big")
        self.assertEqual(answer, ok(3, clients=answer.get("clients"), total=5))
        self.assertEqual(len(answer["clients"]), 3)
        for cid, entry in answer["clients"].items():
            self.assertEqual(cid, CID)
            self.assertEqual(entry, presence_entry(hubtest.Regex("u[0-4]")))


if __name__ == "__main__":
    hubtest.main()
