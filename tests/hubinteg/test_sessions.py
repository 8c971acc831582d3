#!/usr/bin/python3
# A hub session's life: the JSON heartbeat at the route's ping_interval_ms (no pong: disconnect
# push then 3012; pongs keep it open; a ping with an id is answered), a newer connection of the
# same device replacing the older (3520, on one worker or across two), the backend ending
# sessions (POST /api/disconnect), the disconnect webhook, and SIGTERM (3001 after the
# disconnect push).

import asyncio
import signal
import time

from wshubtest import hubtest
from wshubtest.hubtest import ok

INTERVAL_S = 1.0


def disconnect(code, reason):
    return {"t": "disconnect", "code": code, "reason": reason}


class Heartbeat(hubtest.HubTestCase):

    def start(self, **args):
        return self.start_hub(ping_interval_ms=int(INTERVAL_S * 1000), pong_timeout_ms=int(INTERVAL_S * 1000),
                              **args)

    async def connect_at(self, auto_pong, **claims):
        """(client, connect answer, the time the connect was sent: before the server's clock starts)."""
        client = await self.open(auto_pong=auto_pong)
        sent = time.monotonic()
        answer = await client.call("connect", token=hubtest.token(claims.pop("user", "alice"), **claims))
        return client, answer, sent

    async def test_no_pong_closes_3012_after_the_disconnect_push(self):
        self.start()
        silent, answer, connected = await self.connect_at(auto_pong=False)
        self.assertEqual(answer["hb"], {"iv": 1000, "to": 1000})
        self.assertEqual(await silent.next(lambda m: m.get("t") == "ping", what="a server ping"), {"t": "ping"})
        pinged = silent.pings[0]
        self.assertGreaterEqual(pinged - connected, INTERVAL_S)
        code, reason = await silent.wait_closed()
        self.assertEqual((code, reason), (3012, "no pong: the client did not answer the heartbeat"))
        # Not before the pong timeout (less the ping's own way to the client).
        self.assertGreaterEqual(time.monotonic() - pinged, INTERVAL_S * 0.5)
        self.assertEqual(silent.messages, [disconnect(3012, "no pong: the client did not answer the heartbeat")])
        self.assertEqual(silent.texts[-2:], ['{"t":"ping"}', '{"t":"disconnect","code":3012,'
                                             '"reason":"no pong: the client did not answer the heartbeat"}'])
        self.assertEqual(self.metric("wshub_hub_closes_total", code="3012"), 1)

    async def test_pongs_keep_the_session_open(self):
        self.start()
        ponging, _, connected = await self.connect_at(auto_pong=True)
        silent, _, _ = await self.connect_at(auto_pong=False, user="bob")
        # By the time the silent client is closed, the ponging one has answered a ping.
        self.assertEqual(await silent.wait_closed(), (3012, hubtest.Regex("no pong: .*")))
        await ponging.wait_pings(3)
        # One ping per interval, not more (arrival times jitter by the way each takes).
        self.assertGreaterEqual(ponging.pings[0] - connected, INTERVAL_S)
        for earlier, later in zip(ponging.pings, ponging.pings[1:]):
            self.assertGreaterEqual(later - earlier, INTERVAL_S * 0.5)
        await ponging.barrier()
        self.assertFalse(ponging.closed.is_set())
        self.assertEqual(ponging.messages, [])

    async def test_client_ping_with_id_is_answered(self):
        self.start_hub()
        client, _ = await self.connect()
        self.assertEqual(await client.call("ping"), ok(2))
        await client.send({"t": "ping", "id": 9007199254740991})
        self.assertEqual(await client.answer(9007199254740991), ok(9007199254740991))
        # A pong needs no ping before it and is never answered; a ping without id neither.
        await client.send({"t": "pong"})
        await client.send({"t": "ping"})
        self.assertEqual(await client.call("ping"), ok(3))
        self.assertEqual(client.messages, [])


class Sessions(hubtest.HubTestCase):

    async def test_newer_connection_of_a_device_replaces_the_older(self):
        self.start_hub()
        old, _ = await self.connect(device="phone")
        new, _ = await self.connect(device="phone")
        reason = "replaced by a newer connection of the same device"
        self.assertEqual(await old.wait_closed(), (3520, reason))
        self.assertEqual(old.messages, [disconnect(3520, reason)])
        self.hub.api("POST", "/api/publish", {"channel": "$device:phone", "data": "for the new one"})
        self.assertEqual((await new.push("pub"))["data"], "for the new one")
        # Another device of the same user is not affected.
        other, _ = await self.connect(device="laptop")
        await new.barrier()
        self.assertFalse(new.closed.is_set())
        self.assertEqual(self.metric("wshub_hub_closes_total", code="3520"), 1)

    async def test_replacement_across_workers(self):
        self.start_hub(threads=2)
        previous, answer = await self.connect(device="tablet")
        workers = {answer["cid"].split("-")[0]}
        replaced = 0
        while len(workers) < 2 or replaced < 4:
            self.assertLess(replaced, 64, "64 connections all landed on one worker")
            current, answer = await self.connect(device="tablet")
            workers.add(answer["cid"].split("-")[0])
            self.assertEqual(await previous.wait_closed(),
                             (3520, "replaced by a newer connection of the same device"))
            replaced += 1
            previous = current
        await previous.barrier()
        self.assertFalse(previous.closed.is_set())
        self.assertEqual(self.metric("wshub_hub_connected"), 1)

    async def test_backend_disconnects_a_user(self):
        self.start_hub(threads=2)
        phone, _ = await self.connect(device="p")
        laptop, _ = await self.connect(device="l")
        bob, _ = await self.connect(user="bob")
        status, answer = self.hub.api("POST", "/api/disconnect", {"user": "alice", "code": 4001, "reason": "banned"})
        self.assertEqual((status, answer), (200, {"disconnected": 2}))
        for client in (phone, laptop):
            self.assertEqual(await client.wait_closed(), (4001, "banned"))
            self.assertEqual(client.messages, [disconnect(4001, "banned")])
        status, answer = self.hub.api("POST", "/api/disconnect", {"device": "nothing"})
        self.assertEqual((status, answer), (200, {"disconnected": 0}))
        await bob.barrier()

    async def test_disconnect_webhook_is_told(self):
        backend = self.start_backend()
        self.start_hub(webhook_url=backend.url, webhook_events=["disconnect"])
        alice, answer = await self.connect(device="d1")
        await alice.close()
        [call] = await backend.wait_calls("disconnect")
        self.assertTrue(call["sig_ok"], call["sig_problem"])
        self.assertEqual(call["body"], {"type": "disconnect", "cid": answer["cid"], "user": "alice", "device": "d1"})
        self.assertEqual(call["attempt"], "1")
        self.assertRegex(call["delivery"], "^[0-9a-f]{16}$")
        # A connection that never connected is not reported.
        never = await self.open()
        await never.close()
        bob, _ = await self.connect(user="bob")
        await bob.close()
        calls = await backend.wait_calls("disconnect", 2)
        self.assertEqual([c["body"]["user"] for c in calls], ["alice", "bob"])

    async def test_sigterm_sends_disconnect_3001_with_a_spread_retry_after_before_the_close(self):
        self.start_hub(threads=2, hub={"retry_after_min_ms": 2000, "retry_after_max_ms": 9000})
        clients = []
        for i in range(12):
            client, _ = await self.connect(user=f"u{i}")
            self.assertEqual(await client.call("subscribe", ch="room"), ok(2, **hubtest.subscribed()))
            clients.append(client)
        waiting = await self.open()  # not connected yet: closed without a disconnect push
        self.hub.process.send_signal(signal.SIGTERM)
        waits = []
        for client in clients:
            self.assertEqual(await client.wait_closed(), (3001, "server shutting down"))
            self.assertEqual(client.messages, [dict(disconnect(3001, "server shutting down"),
                                                    retry_after=hubtest.Between(2000, 9000))])
            self.assertIsInstance(client.messages[0]["retry_after"], int)
            waits.append(client.messages[0]["retry_after"])
        # Drawn per connection: twelve draws over 7001 values are not all one.
        self.assertGreater(len(set(waits)), 1, waits)
        self.assertEqual(await waiting.wait_closed(), (3001, "server shutting down"))
        self.assertEqual(waiting.messages, [])
        self.assertEqual(await asyncio.to_thread(self.hub.stop), 0, self.hub.log()[-4000:])

    async def test_no_retry_after_when_both_bounds_are_zero(self):
        self.start_hub(hub={"retry_after_min_ms": 0, "retry_after_max_ms": 0})
        client, _ = await self.connect()
        self.hub.process.send_signal(signal.SIGTERM)
        self.assertEqual(await client.wait_closed(), (3001, "server shutting down"))
        self.assertEqual(client.messages, [disconnect(3001, "server shutting down")])
        self.assertEqual(await asyncio.to_thread(self.hub.stop), 0, self.hub.log()[-4000:])

if __name__ == "__main__":
    hubtest.main()
