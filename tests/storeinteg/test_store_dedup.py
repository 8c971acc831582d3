#!/usr/bin/python3
# Deduplication by `mid` with the SQLite store, across a restart: a publish to a channel with
# history is remembered in the commit of its publication, so its repeat after a restart answers
# the same {ep, off} with dup true and stores nothing; an rpc's data is remembered in the store
# too, so its repeat after a restart does not reach the backend.

import unittest

from store_support import HISTORY_NAMESPACES, main, make_config, start_durable, store_config, whole_history
from wshubtest import hubtest
from wshubtest.hub_client import HubClient, run


class DedupAcrossRestarts(unittest.TestCase):
    def test_a_stored_publications_mid_survives_a_restart(self):
        server = start_durable(self, store_config())

        async def before():
            client = await HubClient.open(server, user="ann")
            await client.ok("subscribe", ch="news")
            first = await client.ok("publish", ch="news", data={"n": 1}, mid="m-1")
            again = await client.ok("publish", ch="news", data={"n": 1}, mid="m-1")
            await client.push("pub")
            await client.round_trip()
            self.assertEqual([p for p in client.all_pushes if p.get("t") == "pub"][1:], [])
            return first, again

        first, again = run(before())
        self.assertEqual((first["off"], first["dup"]), (1, False))
        self.assertEqual((again["off"], again["ep"], again["dup"]), (1, first["ep"], True))
        self.assertEqual(server.stop(), 0, server.log()[-4000:])
        server.restart()

        async def after():
            client = await HubClient.open(server, user="ann")
            await client.ok("subscribe", ch="news")
            repeat = await client.ok("publish", ch="news", data={"n": 1}, mid="m-1")
            other = await client.ok("publish", ch="news", data={"n": 2}, mid="m-2")
            bob = await HubClient.open(server, user="bob")
            await bob.ok("subscribe", ch="news")
            bobs = await bob.ok("publish", ch="news", data={"n": 3}, mid="m-1")
            return repeat, other, bobs

        repeat, other, bobs = run(after())
        self.assertEqual((repeat["off"], repeat["ep"], repeat["dup"]), (1, first["ep"], True))
        self.assertEqual((other["off"], other["dup"]), (2, False))
        self.assertEqual((bobs["off"], bobs["dup"]), (3, False))
        history, _ = whole_history(server.api_port, "news", first["ep"])
        self.assertEqual([(p["offset"], p["data"]) for p in history], [(1, {"n": 1}), (2, {"n": 2}), (3, {"n": 3})])
        self.assertEqual(server.stop(), 0, server.log()[-4000:])  # under ASan: no leak, no error

    def test_a_channel_without_history_forgets_its_mids_at_a_restart(self):
        server = start_durable(self, store_config())

        async def publish_twice():
            client = await HubClient.open(server, user="ann")
            await client.ok("subscribe", ch="none:x")
            one = await client.ok("publish", ch="none:x", data=1, mid="m-1")
            two = await client.ok("publish", ch="none:x", data=1, mid="m-1")
            return one, two

        one, two = run(publish_twice())
        self.assertEqual((one["off"], one["dup"], two["off"], two["dup"]), (1, False, 1, True))
        server.restart()
        one, two = run(publish_twice())
        self.assertEqual((one["off"], one["dup"], two["off"], two["dup"]), (1, False, 1, True))

    def test_an_rpc_answer_survives_a_restart(self):
        backend = hubtest.Backend([{"type": "rpc", "body": {"data": {"v": 1}}}])
        self.addCleanup(backend.close)
        hook = {"url": backend.url, "secret": hubtest.WEBHOOK_SECRET, "events": ["rpc"]}
        config = make_config(namespaces=HISTORY_NAMESPACES, webhooks=[hook]) + '\n[store]\npath = "hub.db"\n'
        server = start_durable(self, config)

        async def call():
            client = await HubClient.open(server, user="ann")
            return await client.ok("rpc", m="order", mid="r-1")

        self.assertEqual(run(call())["data"], {"v": 1})
        backend.set_rules([{"type": "rpc", "body": {"data": {"v": 2}}}])
        self.assertEqual(server.stop(), 0, server.log()[-4000:])
        server.restart()
        answer = run(call())
        self.assertEqual((answer["data"], answer["dup"]), ({"v": 1}, True))
        self.assertEqual(len(backend.calls("rpc")), 1)
        self.assertEqual(server.stop(), 0, server.log()[-4000:])


if __name__ == "__main__":
    main()
