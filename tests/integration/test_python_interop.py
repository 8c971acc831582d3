#!/usr/bin/python3
# python3-websockets (Debian's 10.4) against the real wshub binary: echo at every length
# encoding, fragments, ping, close codes, the seed's /login reply, and, with the default config
# ([compression] off), permessage-deflate declined cleanly rather than half-accepted. The
# compressed cases live in tests/compression/.

import asyncio

import websockets
from websockets.exceptions import ConnectionClosed

from wshubtest import harness

TIMEOUT = 60.0  # generous: a 16 MiB echo under ASan takes seconds
MIB = 1 << 20
# 0 and 125: 7-bit length; 126 and 65535: 16-bit length; 65536 and 16 MiB: 64-bit length.
SIZES = [0, 125, 126, 65535, 65536, 16 * MIB]


def text_of(size):
    # Mostly ASCII with multi-byte characters whose encodings straddle frame and read
    # boundaries; the result has exactly `size` UTF-8 bytes.
    unit = "abc\u00e9\u20ac\U0001F600xyz"  # 3 + 2 + 3 + 4 + 3 = 15 bytes
    text = unit * (size // 15)
    return text + "z" * (size - len(text.encode()))


def binary_of(size):
    pattern = bytes((i * 31 + 7) & 0xFF for i in range(256))  # every byte value
    return (pattern * (size // 256 + 1))[:size]


class PythonInterop(harness.ServerTestCase):

    def run_async(self, coroutine):
        return asyncio.run(asyncio.wait_for(coroutine, TIMEOUT))

    def connect(self, path="/echo", **kwargs):
        kwargs.setdefault("compression", None)
        kwargs.setdefault("max_size", None)
        kwargs.setdefault("open_timeout", 20)
        kwargs.setdefault("close_timeout", 20)
        return websockets.connect(self.server.url(path), **kwargs)

    def test_echo_text_at_every_length_encoding(self):
        async def go():
            async with self.connect() as ws:
                for size in SIZES:
                    message = text_of(size)
                    self.assertEqual(len(message.encode()), size)
                    await ws.send(message)
                    answer = await ws.recv()
                    self.assertIsInstance(answer, str, f"size {size}")
                    self.assertEqual(len(answer.encode()), size)
                    self.assertEqual(answer, message, f"text echo of {size} bytes differs")
        self.run_async(go())

    def test_echo_binary_at_every_length_encoding(self):
        async def go():
            async with self.connect() as ws:
                for size in SIZES:
                    message = binary_of(size)
                    self.assertEqual(len(message), size)
                    await ws.send(message)
                    answer = await ws.recv()
                    self.assertIsInstance(answer, bytes, f"size {size}")
                    self.assertEqual(len(answer), size)
                    self.assertEqual(answer, message, f"binary echo of {size} bytes differs")
        self.run_async(go())

    def test_many_messages_pipelined_come_back_in_order(self):
        async def go():
            async with self.connect() as ws:
                for i in range(2000):
                    await ws.send(f"message {i}" if i % 2 else f"message {i}".encode())
                for i in range(2000):
                    answer = await ws.recv()
                    self.assertEqual(answer, f"message {i}" if i % 2 else f"message {i}".encode())
        self.run_async(go())

    def test_fragmented_text_from_a_list(self):
        async def go():
            async with self.connect() as ws:
                # "\u20ac" is split across fragments on purpose: UTF-8 is checked per message.
                euro = "\u20ac".encode()
                await ws.send(["frag", "", "mented ", "text \u00e9"])
                self.assertEqual(await ws.recv(), "fragmented text \u00e9")
                await ws.send([b"one", b"", b"two" + euro[:1]])  # bytes fragments: binary
                self.assertEqual(await ws.recv(), b"onetwo" + euro[:1])
        self.run_async(go())

    def test_fragmented_binary_from_an_async_iterator(self):
        async def fragments():
            for i in range(50):
                yield bytes([i]) * 1000
                await asyncio.sleep(0)

        async def go():
            async with self.connect() as ws:
                await ws.send(fragments())
                answer = await ws.recv()
                self.assertEqual(answer, b"".join(bytes([i]) * 1000 for i in range(50)))
                # The connection is still usable for unfragmented messages afterwards.
                await ws.send("after")
                self.assertEqual(await ws.recv(), "after")
        self.run_async(go())

    def test_ping_is_answered_with_its_payload(self):
        async def go():
            async with self.connect() as ws:
                # websockets resolves the waiter only for a pong carrying the same payload.
                waiter = await ws.ping(b"are you there")
                await asyncio.wait_for(waiter, 10)
                empty = await ws.ping(b"")
                await asyncio.wait_for(empty, 10)
                # A ping between messages does not disturb the message stream.
                await ws.send("x")
                waiter = await ws.ping(b"125 bytes max" * 9)
                self.assertEqual(await ws.recv(), "x")
                await asyncio.wait_for(waiter, 10)
        self.run_async(go())

    def test_close_with_code_and_reason_is_echoed(self):
        async def go():
            for code, reason in [(4000, "done here"), (1000, ""), (1001, "going away \u00e9")]:
                ws = await self.connect()
                await ws.send("before close")
                self.assertEqual(await ws.recv(), "before close")
                await ws.close(code=code, reason=reason)
                self.assertEqual(ws.close_code, code, f"server did not echo close code {code}")
        self.run_async(go())

    def test_server_closes_with_1009_when_a_message_is_too_big(self):
        async def go():
            async with self.connect() as ws:
                try:
                    await ws.send(b"\0" * (16 * MIB + 1))  # one past limits.max_message_bytes
                except ConnectionClosed:
                    pass  # the server may close before the whole frame is written
                with self.assertRaises(ConnectionClosed):
                    await ws.recv()
                self.assertEqual(ws.close_code, 1009)
        self.run_async(go())
        self.assertIsNotNone(self.server.wait_for_log(r"closed with 1009"), self.server.log())

    def test_login_answers_every_message_with_reply(self):
        async def go():
            async with self.connect("/login") as ws:
                for message in ["hello", "", b"\x00\x01binary", "x" * 70000]:
                    await ws.send(message)
                    answer = await ws.recv()
                    self.assertEqual(answer, "reply")
                    self.assertIsInstance(answer, str)
        self.run_async(go())

    def test_permessage_deflate_offer_is_declined(self):
        async def go():
            # compression="deflate" is websockets' default: it offers permessage-deflate, which
            # the default config (compression off) declines.
            async with self.connect(compression="deflate") as ws:
                self.assertIn("permessage-deflate",
                              ws.request_headers.get("Sec-WebSocket-Extensions", ""))
                self.assertNotIn("Sec-WebSocket-Extensions", ws.response_headers)
                self.assertEqual(ws.extensions, [])
                await ws.send("not compressed " * 100)
                self.assertEqual(await ws.recv(), "not compressed " * 100)
        self.run_async(go())

    def test_upgrade_response_headers(self):
        async def go():
            async with self.connect() as ws:
                headers = ws.response_headers
                self.assertEqual(headers.get("Upgrade", "").lower(), "websocket")
                self.assertEqual(headers.get("Connection", "").lower(), "upgrade")
                self.assertNotIn("Sec-WebSocket-Protocol", headers)  # none was offered
        self.run_async(go())

    def test_upgrades_are_counted_at_health(self):
        async def go():
            for _ in range(3):
                async with self.connect() as ws:
                    await ws.send("x")
                    await ws.recv()
        self.run_async(go())
        import json
        health = json.loads(harness.http_get(self.server.port, "/health").text)
        self.assertGreaterEqual(health["counters"]["upgrades"], 3)


if __name__ == "__main__":
    harness.main()
