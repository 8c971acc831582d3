#!/usr/bin/python3
# What the API does to connected hub clients (python3-websockets), on a server with two
# workers and clients on both: publish and broadcast reach every subscriber once with the
# offsets the API answered, personal channels reach their owner only, subscribe/unsubscribe
# change subscriptions with a push, disconnect closes with the code and reason asked, and
# presence and channels report what the clients did.

import asyncio
import unittest

from wshubtest.api_support import ApiClient, make_config, main, start_server, wait_until
from wshubtest.hub_client import HubClient, run


def worker_of(client):
    return client.connected["cid"].split("-")[0]


class Effects(unittest.TestCase):

    def setUp(self):
        self.server = start_server(self, make_config(), threads=2)
        self.api = ApiClient(self.server.api_port)
        self.addCleanup(self.api.close)

    async def api_call(self, method, path, body=None):
        return await asyncio.to_thread(self.api.request, method, path, body)

    async def clients_on_both_workers(self, user, count=2, **kwargs):
        """`count` connected clients of `user`, on both workers (the kernel spreads connections
        between the two workers' listeners; connections that do not help are closed)."""
        kept = []
        for _ in range(60):
            client = await HubClient.open(self.server, user=user, **kwargs)
            self.assertEqual(client.connected["t"], "ok", client.connected)
            workers = {worker_of(c) for c in kept + [client]}
            if len(kept) < count - 1 or len(workers) == 2:
                kept.append(client)
            else:
                await client.close()
            if len(kept) == count:
                return kept
        self.skipTest("60 connections all landed on one worker")

    def test_publish_reaches_every_subscriber_on_both_workers_once_in_order(self):
        async def go():
            readers = await self.clients_on_both_workers("reader", count=4)
            outsider = await HubClient.open(self.server, user="outsider")
            for client in readers:
                await client.ok("subscribe", ch="news")
            answers = []
            for n in range(5):
                answer = await self.api_call("POST", "/api/publish",
                                             {"channel": "news", "data": {"n": n, "text": "héllo"}})
                self.assertEqual(answer.status, 200, answer)
                answers.append(answer.json)
            self.assertEqual([a["offset"] for a in answers], [1, 2, 3, 4, 5])
            for client in readers:
                for n in range(5):
                    push = await client.push("pub")
                    self.assertEqual(push["ch"], "news")
                    self.assertEqual(push["off"], answers[n]["offset"])
                    self.assertEqual(push["data"], {"n": n, "text": "héllo"})
                    self.assertIsInstance(push["ts"], int)
            for client in readers:
                await client.round_trip()
                self.assertEqual(len([p for p in client.all_pushes if p["t"] == "pub"]), 5)
            await outsider.no_push("pub", outsider.round_trip())
            channels = (await self.api_call("GET", "/api/channels")).json["channels"]
            self.assertIn({"channel": "news", "subscribers": 4, "offset": 5}, channels)
        run(go())

    def test_broadcast_reaches_each_channel_with_its_offset(self):
        async def go():
            a, b = await self.clients_on_both_workers("bc")
            await a.ok("subscribe", ch="left")
            await b.ok("subscribe", ch="right")
            await b.ok("subscribe", ch="quiet:both")
            await a.ok("subscribe", ch="quiet:both")
            answer = await self.api_call("POST", "/api/broadcast",
                                         {"channels": ["left", "right", "quiet:both"], "data": [1, 2]})
            results = {r["channel"]: r["offset"] for r in answer.json["results"]}
            got_a = [await a.push("pub") for _ in range(2)]
            got_b = [await b.push("pub") for _ in range(2)]
            self.assertEqual(sorted((p["ch"], p["off"]) for p in got_a),
                             [("left", results["left"]), ("quiet:both", results["quiet:both"])])
            self.assertEqual(sorted((p["ch"], p["off"]) for p in got_b),
                             [("quiet:both", results["quiet:both"]), ("right", results["right"])])
            for push in got_a + got_b:
                self.assertEqual(push["data"], [1, 2])
        run(go())

    def test_personal_channels_reach_their_owner_only(self):
        async def go():
            alice = await self.clients_on_both_workers("alice")
            phone = await HubClient.open(self.server, user="alice", device="phone-1")
            bob = await HubClient.open(self.server, user="bob", device="phone-2")
            await self.api_call("POST", "/api/publish", {"channel": "$user:alice", "data": "for alice"})
            for client in alice + [phone]:
                push = await client.push("pub")
                self.assertEqual((push["ch"], push["data"]), ("$user:alice", "for alice"))
            await self.api_call("POST", "/api/publish",
                                {"channel": "$device:phone-1", "data": "for the phone"})
            push = await phone.push("pub")
            self.assertEqual((push["ch"], push["data"]), ("$device:phone-1", "for the phone"))
            await self.api_call("POST", "/api/publish", {"channel": "$user:bob", "data": "barrier"})
            self.assertEqual((await bob.push("pub"))["data"], "barrier")
            self.assertEqual([p["data"] for p in bob.all_pushes if p["t"] == "pub"], ["barrier"])
            for client in alice:
                await client.round_trip()
                pubs = [p["data"] for p in client.all_pushes if p["t"] == "pub"]
                self.assertEqual(pubs, ["for alice"])
        run(go())

    def test_api_subscribe_and_unsubscribe_change_every_connection_of_the_user(self):
        async def go():
            carol = await self.clients_on_both_workers("carol", count=3)
            other = await HubClient.open(self.server, user="dave")
            answer = await self.api_call("POST", "/api/subscribe", {"user": "carol", "channel": "quiet:ops"})
            self.assertEqual((answer.status, answer.json), (200, {"subscribed": 3}))
            for client in carol:
                push = await client.push("sub")
                self.assertEqual(push["ch"], "quiet:ops")
                self.assertRegex(push["ep"], r"^[0-9a-f]{8}$")
                self.assertEqual(push["off"], 0)
            again = await self.api_call("POST", "/api/subscribe", {"user": "carol", "channel": "quiet:ops"})
            self.assertEqual(again.json, {"subscribed": 0})
            self.assertEqual((await self.api_call("POST", "/api/subscribe",
                                                  {"user": "nobody", "channel": "quiet:ops"})).json,
                             {"subscribed": 0})
            await self.api_call("POST", "/api/publish", {"channel": "quiet:ops", "data": "first"})
            for client in carol:
                self.assertEqual((await client.push("pub"))["data"], "first")
            # Publishing from a client needs the subscription the API made.
            self.assertEqual((await carol[0].request("publish", ch="quiet:ops", data=1))["t"], "ok")

            answer = await self.api_call("POST", "/api/unsubscribe",
                                         {"user": "carol", "channel": "quiet:ops"})
            self.assertEqual(answer.json, {"unsubscribed": 3})
            for client in carol:
                push = await client.push("unsub")
                self.assertEqual((push["ch"], push["code"]), ("quiet:ops", 3000))
            self.assertEqual((await self.api_call("POST", "/api/unsubscribe",
                                                  {"user": "carol", "channel": "quiet:ops"})).json,
                             {"unsubscribed": 0})
            await self.api_call("POST", "/api/publish", {"channel": "quiet:ops", "data": "second"})
            await self.api_call("POST", "/api/publish", {"channel": "$user:carol", "data": "barrier"})
            for client in carol:
                while (await client.push("pub"))["data"] != "barrier":
                    pass
                data = [p["data"] for p in client.all_pushes if p["t"] == "pub"]
                self.assertNotIn("second", data)
            denied = await carol[0].request("publish", ch="quiet:ops", data=1)
            self.assertEqual((denied["t"], denied["code"]), ("err", 103))
            await other.no_push("sub", other.round_trip())
        run(go())

    def test_disconnect_by_user_closes_all_of_its_connections_with_the_code(self):
        async def go():
            eve = await self.clients_on_both_workers("eve", count=3)
            frank = await HubClient.open(self.server, user="frank")
            answer = await self.api_call("POST", "/api/disconnect",
                                         {"user": "eve", "code": 4321, "reason": "go away"})
            self.assertEqual(answer.json, {"disconnected": 3})
            for client in eve:
                push = await client.push("disconnect")
                self.assertEqual((push["code"], push["reason"]), (4321, "go away"))
                self.assertEqual(await client.closed(), (4321, "go away"))
            await frank.round_trip()
            self.assertEqual((await self.api_call("POST", "/api/disconnect", {"user": "eve"})).json,
                             {"disconnected": 0})
        run(go())

    def test_disconnect_by_device_closes_that_device_only(self):
        async def go():
            tablet = await HubClient.open(self.server, user="gina", device="tablet")
            laptop = await HubClient.open(self.server, user="gina", device="laptop")
            answer = await self.api_call("POST", "/api/disconnect", {"device": "tablet"})
            self.assertEqual(answer.json, {"disconnected": 1})
            push = await tablet.push("disconnect")
            self.assertEqual((push["code"], push["reason"]), (3000, "disconnected by the backend"))
            self.assertEqual(await tablet.closed(), (3000, "disconnected by the backend"))
            await laptop.round_trip()
            self.assertIsNone(laptop.close_code)
        run(go())

    def test_presence_lists_subscribers_with_their_info_across_workers(self):
        async def go():
            clients = await self.clients_on_both_workers("pres", info={"role": "viewer"})
            for client in clients:
                await client.ok("subscribe", ch="room")
            answer = await self.api_call("GET", "/api/presence?channel=room")
            self.assertEqual(answer.status, 200, answer)
            self.assertEqual(answer.json["total"], 2)
            expected = {c.connected["cid"]: {"user": "pres", "device": "", "info": {"role": "viewer"}}
                        for c in clients}
            self.assertEqual(answer.json["clients"], expected)
            await clients[0].close()

            def left():
                now = self.api.get("/api/presence?channel=room").json
                return now if now["total"] == 1 else None
            now = await asyncio.to_thread(wait_until, left, 20, "the closed client leaving presence")
            self.assertEqual(list(now["clients"]), [clients[1].connected["cid"]])
        run(go())

    def test_presence_of_a_personal_channel_lists_the_connections_on_every_worker(self):
        async def go():
            clients = await self.clients_on_both_workers("ivy", count=3, info={"n": 1})
            phone = await HubClient.open(self.server, user="ivy", device="ivy-phone")
            answer = await self.api_call("GET", "/api/presence?channel=%24user%3Aivy")
            self.assertEqual(answer.status, 200, answer)
            self.assertEqual(answer.json["total"], 4)
            expected = {c.connected["cid"]: {"user": "ivy", "device": "", "info": {"n": 1}}
                        for c in clients}
            expected[phone.connected["cid"]] = {"user": "ivy", "device": "ivy-phone"}
            self.assertEqual(answer.json["clients"], expected)
            device = await self.api_call("GET", "/api/presence?channel=$device:ivy-phone")
            only_phone = {phone.connected["cid"]: {"user": "ivy", "device": "ivy-phone"}}
            self.assertEqual(device.json, {"clients": only_phone, "total": 1})
            nobody = await self.api_call("GET", "/api/presence?channel=$user:nobody")
            self.assertEqual(nobody.json, {"clients": {}, "total": 0})
        run(go())


if __name__ == "__main__":
    main()
