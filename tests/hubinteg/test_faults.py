#!/usr/bin/python3
# What a hub client can do wrong and what it costs the server: frames that are not JSON,
# fields of the wrong type, unknown request types, batches past max_batch, binary frames,
# frames past the server's size limits, and a subscriber that never reads (closed as a slow
# consumer while another subscriber gets everything and the server's memory stays bounded).
# Each fault is answered precisely, counted in /metrics and logged at a limited rate.

import asyncio
import json
import socket
import time

from wshubtest import hubtest
from wshubtest.hubtest import Between, err, ok, subscribed

from wshubtest import harness


def disconnect(code, reason):
    return {"t": "disconnect", "code": code, "reason": reason}


def vm_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


class RawHubClient:
    """A hub client on a plain socket, so that it can stop reading: a small receive buffer,
    the handshake, then frames sent and read by hand."""

    def __init__(self, port, receive_buffer=4096):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.settimeout(hubtest.TIMEOUT)
        self.sock.connect(("127.0.0.1", port))
        self.sock.sendall(harness.upgrade_request("/hub", extra=["Sec-WebSocket-Protocol: wshub.v1.json"]))
        head = harness.read_head(self.sock)
        if not head.startswith(b"HTTP/1.1 101"):
            raise AssertionError(f"no upgrade: {head!r}")
        self.rest = head.partition(b"\r\n\r\n")[2]

    def call(self, request):
        self.sock.sendall(harness.client_frame(1, json.dumps(request).encode()))
        _, opcode, payload, self.rest = harness.read_server_frame(self.sock, self.rest)
        return json.loads(payload)

    def read_to_end(self):
        """Every byte until the server's FIN or reset."""
        data = self.rest
        self.sock.settimeout(hubtest.TIMEOUT)
        while True:
            try:
                chunk = self.sock.recv(1 << 20)
            except ConnectionResetError:
                return data, "reset"
            if not chunk:
                return data, "fin"
            data += chunk


class Faults(hubtest.HubTestCase):

    async def test_frames_that_are_not_json_close_3501(self):
        self.start_hub()
        waiting = await self.open()
        await waiting.send("{not json")
        self.assertEqual(await waiting.wait_closed(), (3501, "bad request"))
        self.assertEqual(waiting.messages, [])
        client, _ = await self.connect()
        await client.send('{"t":"ping","id":2}{"t":"ping","id":3}')
        self.assertEqual(await client.wait_closed(), (3501, "bad request"))
        self.assertEqual(client.messages, [disconnect(3501, "bad request")])
        self.assertEqual(self.metric("wshub_hub_rejected_frames_total", reason="not_json"), 2)
        self.assertEqual(self.metric("wshub_hub_closes_total", code="3501"), 2)
        self.assert_log(r"hub \S+: closing with 3501: not_json")

    async def test_fields_of_the_wrong_type(self):
        self.start_hub()
        client, _ = await self.connect()
        answered = [
            ({"t": "subscribe", "id": 2, "ch": 5}, err(2, 107, "ch must be a channel name")),
            ({"t": "publish", "id": 3, "ch": "room", "data": 1, "mid": 5}, err(3, 107, "mid must be a short string")),
            ({"t": "subscribe", "id": 4, "ch": "room", "since": {"ep": 1, "off": 0}},
             err(4, 107, "since.ep must be a string")),
            ({"t": "subscribe", "id": 5, "ch": "room", "since": {"ep": "x", "off": -1}},
             err(5, 107, "since.off must be a whole number")),
            ({"t": "subscribe", "id": 6, "ch": "room", "since": 7}, err(6, 107, "since must be an object")),
            ({"t": "rpc", "id": 7, "m": ["x"]}, err(7, 107, "m must be a method name")),
            ({"t": "refresh", "id": 8, "token": None}, err(8, 107, "token must be a string within the size limit")),
            ({"id": 9}, err(9, 107, "no t: every request names its type")),
            ({"t": "subscribe", "id": 10}, err(10, 107, "ch is required")),
        ]
        for request, answer in answered:
            await client.send(request)
            self.assertEqual(await client.answer(request["id"]), answer)
        await client.barrier()
        self.assertEqual(self.metric("wshub_hub_rejected_frames_total", reason="bad_field"), 7)
        self.assertEqual(self.metric("wshub_hub_rejected_frames_total", reason="missing_field"), 1)
        self.assertEqual(self.metric("wshub_hub_errors_total", code="107"), 9)
        # Without a usable id, the same mistakes close the connection.
        for request in ({"t": "subscribe", "ch": 5}, {"t": "ping", "id": "7"}, {"t": "ping", "id": 0},
                        {"t": "ping", "id": 1.5}, {"t": "ping", "id": 9007199254740992}, [1], {"t": 5},
                        {"t": "publish", "ch": "room", "data": 1}):
            client, _ = await self.connect()
            await client.send(request)
            self.assertEqual(await client.wait_closed(), (3501, "bad request"), request)
            self.assertEqual(client.messages, [disconnect(3501, "bad request")], request)
        self.assertEqual(self.metric("wshub_hub_closes_total", code="3501"), 8)

    async def test_unknown_request_types(self):
        self.start_hub()
        client, _ = await self.connect()
        self.assertEqual(await client.call("frobnicate"), err(2, 104, "unknown request type: frobnicate"))
        self.assertEqual(await client.call("history", ch="room"), err(3, 108, "history is not kept for this channel"))
        self.assertEqual(self.metric("wshub_hub_rejected_frames_total", reason="unknown_type"), 1)
        self.assertEqual(self.metric("wshub_hub_errors_total", code="104"), 1)
        await client.send({"t": "frobnicate"})
        self.assertEqual(await client.wait_closed(), (3501, "bad request"))

    async def test_batches(self):
        self.start_hub(hub={"max_batch": 10})
        client, _ = await self.connect()
        batch = [{"t": "subscribe", "id": 2, "ch": "room"}, {"t": "nope", "id": 3}, {"t": "ping", "id": 4},
                 {"t": "pong"}, {"t": "subscribe", "id": 5, "ch": "room"}]
        await client.send(batch)
        self.assertEqual([await client.next() for _ in range(4)],
                         [ok(2, **subscribed()), err(3, 104, "unknown request type: nope"), ok(4),
                          err(5, 105, "already subscribed")])
        await client.send([{"t": "ping", "id": 10 + i} for i in range(10)])
        self.assertEqual([await client.next() for _ in range(10)], [ok(10 + i) for i in range(10)])
        await client.send([{"t": "ping", "id": 100 + i} for i in range(11)])
        self.assertEqual(await client.wait_closed(), (3501, "bad request"))
        self.assertEqual(client.messages, [disconnect(3501, "bad request")])
        client, _ = await self.connect()
        await client.send("[]")
        self.assertEqual(await client.wait_closed(), (3501, "bad request"))
        # The requests before a fatal one in a batch are handled; none after it.
        client, _ = await self.connect()
        await client.send([{"t": "ping", "id": 2}, {"t": "ping", "id": "x"}, {"t": "ping", "id": 3}])
        self.assertEqual(await client.wait_closed(), (3501, "bad request"))
        self.assertEqual(client.messages, [ok(2), disconnect(3501, "bad request")])
        self.assertEqual(self.metric("wshub_hub_rejected_frames_total", reason="batch_too_large"), 1)
        self.assertEqual(self.metric("wshub_hub_rejected_frames_total", reason="empty_batch"), 1)

    async def test_binary_frame_before_connect_closes_1003(self):
        self.start_hub()
        client = await self.open()
        await client.send(b'{"t":"connect","id":1}')
        self.assertEqual(await client.wait_closed(),
                         (1003, "the hub protocol takes text frames holding JSON, not binary"))
        self.assertEqual(client.messages, [])

    async def test_binary_frame_of_a_connected_session_closes_1003_after_the_disconnect_push(self):
        backend = self.start_backend()
        self.start_hub(webhook_url=backend.url, webhook_events=["disconnect"])
        client, answer = await self.connect()
        await client.send(b"binary")
        reason = "the hub protocol takes text frames holding JSON, not binary"
        self.assertEqual(await client.wait_closed(), (1003, reason))
        self.assertEqual(client.messages, [disconnect(1003, reason)])
        [call] = await backend.wait_calls("disconnect")
        self.assertEqual(call["body"]["cid"], answer["cid"])
        self.assertEqual(self.metric("wshub_hub_connected"), 0)

    async def test_frames_past_the_servers_limits_close_1009(self):
        self.start_hub(limits={"max_frame_bytes": 65536, "max_message_bytes": 65536})
        client, _ = await self.connect()
        self.assertEqual(await client.call("ping", pad="x" * 65000), ok(2))
        await client.send(json.dumps({"t": "ping", "id": 3, "pad": "x" * 65536}))
        code, reason = await client.wait_closed()
        self.assertEqual(code, 1009)
        self.assertEqual(client.messages, [disconnect(1009, reason)])
        self.assertEqual(self.metric("wshub_rejections_total", kind="frame", reason="frame_too_large"), 1)
        self.assert_log(r"closed with 1009: .*frame_too_large")

    async def test_slow_consumer_is_closed_while_others_get_everything(self):
        self.start_hub(limits={"max_buffered_bytes": 262144})
        reader, _ = await self.connect(user="reader")
        self.assertEqual(await reader.call("subscribe", ch="room"), ok(2, **subscribed()))
        slow = RawHubClient(self.hub.port)
        self.assertEqual(slow.call({"t": "connect", "id": 1, "token": hubtest.token("slow")})["t"], "ok")
        self.assertEqual(slow.call({"t": "subscribe", "id": 2, "ch": "room"}), ok(2, **subscribed()))
        rss_before = vm_rss_kib(self.hub.process.pid)
        data = "y" * 60000
        # The reader publishes (it is subscribed) and reads everything, until the server has cut
        # the slow one: 60 kB a publication, at most 2,000 (117 MiB).
        published = 0
        while not self.metric("wshub_rejections_total", kind="limit", reason="max_buffered_bytes"):
            self.assertLess(published, 2000, "the slow consumer was not closed after 2000 publications")
            for _ in range(25):
                published += 1
                self.assertEqual(await reader.call("publish", ch="room", data=data),
                                 ok(published + 2, off=published, ep=hubtest.EPOCH, dup=False))
        rss_after = vm_rss_kib(self.hub.process.pid)
        self.assertLess(rss_after - rss_before, 64 * 1024, f"VmRSS grew from {rss_before} to {rss_after} KiB")
        # The reader got every publication, in order.
        for off in range(1, published + 1):
            self.assertEqual(await reader.push("pub"),
                             {"t": "pub", "ch": "room", "off": off, "data": data, "ts": Between(1e12, 1e13)})
        await reader.barrier()
        self.assertEqual(reader.messages, [])
        # The slow one finds its connection ended after what it had been sent.
        received, end = await asyncio.to_thread(slow.read_to_end)
        slow.sock.close()
        self.assertIn(end, ("fin", "reset"))
        self.assertLess(len(received), published * len(data))
        self.assert_log(r"closed with 3008: it does not read what is sent to it")
        self.assertEqual(self.metric("wshub_hub_connected"), 1)

    async def test_api_request_whose_body_arrives_after_its_head(self):
        self.start_hub()
        body = json.dumps({"channel": "room", "data": {"n": 1}}).encode()
        head = (f"POST /api/publish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {hubtest.API_KEY}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
        with harness.connect(self.hub.api_port) as sock:
            sock.sendall(head)
            await asyncio.sleep(0.3)  # the head must be read on its own: no event tells when
            sock.sendall(body)
            response = harness.HttpResponse(await asyncio.to_thread(harness.read_head, sock))
        self.assertEqual(response.status, 200, response.raw)


class FaultLogs(hubtest.HubTestCase):

    async def test_each_fault_leaves_a_log_line(self):
        self.start_hub(ping_interval_ms=1000, pong_timeout_ms=1000, hub={"connect_timeout_ms": 500},
                       jwt_policy={"leeway_s": 0})
        client = await self.open()
        await client.call("connect", token="garbage")
        await client.wait_closed()
        self.assert_log(r"hub \S+: connect refused: malformed")
        self.assert_log(r'hub \S+ \(user ""\): closing with 3500: malformed: ')
        client = await self.open()
        await client.call("connect", token=hubtest.token("alice", ttl=-10))
        await client.wait_closed()
        self.assert_log(r"hub \S+: connect refused: expired")
        client = await self.open()
        await client.wait_closed()
        self.assert_log(r"hub \S+: no connect within 500 ms")
        self.assert_log(r'hub \S+ \(user ""\): closing with 3501: no connect request within the connect timeout')
        # Expires 1 to 2 s from now: exp is whole seconds, so now + 1 could lapse before the
        # connect is checked (it did once: 109 expired instead of the 3005 close below).
        client, _ = await self.connect(exp=int(time.time()) + 2)
        await client.wait_closed()
        self.assert_log(r'hub \S+ \(user "\w+"\): closing with 3005: ')
        client = await self.open(auto_pong=False)
        await client.call("connect", token=hubtest.token("bob"))
        await client.wait_closed()
        self.assert_log(r'hub \S+ \(user "\w+"\): closing with 3012: ')
        old, _ = await self.connect(device="d")
        new, _ = await self.connect(device="d")
        await old.wait_closed()
        self.assert_log(r'hub \S+ \(user "\w+"\): closing with 3520: ')
        client, _ = await self.connect()
        await client.send(b"binary")
        await client.wait_closed()
        self.assert_log(r"hub \S+: closing with 1003: a binary frame")
        self.assertEqual(self.metric("wshub_hub_rejected_frames_total", reason="binary"), 1)

    async def test_fault_log_lines_are_rate_limited_and_counted(self):
        self.start_hub()
        # A bad frame that closes the connection is logged (before the burst uses up the limit).
        closing, _ = await self.connect(user="bob")
        await closing.send("{not json")
        await closing.wait_closed()
        self.assert_log(r'hub \S+: closing with 3501: not_json: "')
        self.assert_log(r'hub \S+ \(user "bob"\): closing with 3501: bad request')
        client, _ = await self.connect()
        count = 300
        for start in range(0, count, 100):  # 300 refusals within a few milliseconds
            await client.send([{"t": "subscribe", "id": 1000 + start + i, "ch": 5} for i in range(100)])
        for i in range(count):
            self.assertEqual(await client.answer(1000 + i), err(1000 + i, 107, "ch must be a channel name"))
        self.assertEqual(self.metric("wshub_hub_rejected_frames_total", reason="bad_field"), count)
        lines = [line for line in self.hub.log().splitlines() if "refused: bad_field" in line]
        self.assertGreater(len(lines), 0)
        self.assertLess(len(lines), count, "every refusal was logged: the lines are not rate-limited")

    async def test_webhook_failure_lines_are_rate_limited(self):
        self.start_hub(webhook_url=hubtest.refused_url(), webhook_events=["rpc"])
        client, _ = await self.connect()
        count = 300
        for _ in range(count // 50):  # 50 at a time: max_pending_requests is 64
            ids = [await client.request("rpc", m="x", data=0) for _ in range(50)]
            for id_ in ids:
                self.assertEqual(await client.answer(id_), err(id_, 116, "backend unavailable", retry=True))
        self.assertEqual(self.metric("wshub_hub_errors_total", code="116"), count)
        lines = [line for line in self.hub.log().splitlines() if "rpc webhook failed" in line]
        self.assertLess(len(lines), count, "every failed call was logged: the lines are not rate-limited")


if __name__ == "__main__":
    hubtest.main()
