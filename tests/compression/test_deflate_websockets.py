#!/usr/bin/python3
# python3-websockets (Debian's 10.4) with permessage-deflate against the real wshub binary:
# every combination of the parameters its client can offer, under the server's default policy
# (no context takeover) and with context takeover allowed; echoes of text and binary messages
# from 16 B to 128 KiB, and the broadcast route delivering one compressed frame to compressed
# and uncompressed receivers alike.

import asyncio
import itertools
import unittest

import websockets
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory

from wshubtest import harness
from wshubtest.deflate_client import binary_message, text_message
from wshubtest.harness import server_with

TIMEOUT = 120.0
SIZES = [16, 200, 1024, 8192, 65536, 131072]

POLICIES = {
    "no_takeover": "[compression]\nenabled = true\n",
    "takeover": "[compression]\nenabled = true\nserver_no_context_takeover = false\n"
                "client_no_context_takeover = false\nserver_max_window_bits = 13\n",
}
ROUTES = ("[[route]]\npath = \"/echo\"\n[[route]]\npath = \"/broadcast\"\nhandler = \"broadcast\"\n")

# What websockets' client can offer: each flag, each window limit, and None for "not offered".
COMBINATIONS = list(itertools.product(
    (False, True),                # server_no_context_takeover
    (False, True),                # client_no_context_takeover
    (None, 9, 12, 15),            # server_max_window_bits
    (None, True, 9, 11, 15),      # client_max_window_bits (True: the bare form)
))


def factory(snct, cnct, smwb, cmwb):
    return ClientPerMessageDeflateFactory(
        server_no_context_takeover=snct, client_no_context_takeover=cnct,
        server_max_window_bits=smwb, client_max_window_bits=cmwb,
        compress_settings={"memLevel": 5})


class WebsocketsDeflate(unittest.TestCase):

    def run_async(self, coroutine):
        return asyncio.run(asyncio.wait_for(coroutine, TIMEOUT))

    def run_policy(self, name):
        with server_with(POLICIES[name] + ROUTES) as server:
            async def go():
                for combo in COMBINATIONS:
                    with self.subTest(policy=name, combo=combo):
                        await self.echo_with(server, name, *combo)
            self.run_async(go())

    async def echo_with(self, server, policy, snct, cnct, smwb, cmwb):
        async with websockets.connect(server.url("/echo"), extensions=[factory(snct, cnct, smwb, cmwb)],
                                      compression=None, max_size=None) as ws:
            self.assertEqual(len(ws.extensions), 1, ws.response_headers)
            ext = ws.extensions[0]
            answer = ws.response_headers["Sec-WebSocket-Extensions"]
            takeover_allowed = policy == "takeover"
            # websockets' names: remote = the server, local = the client.
            self.assertEqual(ext.remote_no_context_takeover, snct or not takeover_allowed, answer)
            self.assertEqual(ext.local_no_context_takeover, cnct or not takeover_allowed, answer)
            if smwb is not None:
                self.assertLessEqual(ext.remote_max_window_bits, smwb, answer)
            if isinstance(cmwb, int) and cmwb is not True:
                self.assertLessEqual(ext.local_max_window_bits, cmwb, answer)
            for size in SIZES:
                text = text_message(size, size)
                await ws.send(text)
                self.assertEqual(await ws.recv(), text, f"text {size}")
                data = binary_message(size, size)
                await ws.send(data)
                self.assertEqual(await ws.recv(), data, f"binary {size}")

    def test_no_context_takeover_policy(self):
        self.run_policy("no_takeover")

    def test_context_takeover_policy(self):
        self.run_policy("takeover")

    def test_an_offer_for_an_8_bit_server_window_is_declined_not_failed(self):
        with server_with(POLICIES["no_takeover"]) as server:
            async def go():
                async with websockets.connect(server.url("/echo"),
                                              extensions=[factory(False, False, 8, True)],
                                              compression=None) as ws:
                    self.assertEqual(ws.extensions, [])
                    await ws.send("plain " * 100)
                    self.assertEqual(await ws.recv(), "plain " * 100)
            self.run_async(go())

    def test_broadcast_reaches_compressed_and_plain_receivers(self):
        with server_with(POLICIES["no_takeover"] + ROUTES, threads=2) as server:
            async def go():
                peers = [await websockets.connect(server.url("/broadcast"), compression=c)
                         for c in ("deflate", None, "deflate", None)]
                peers.append(await websockets.connect(
                    server.url("/broadcast"), extensions=[factory(False, False, 10, True)],
                    compression=None))
                await asyncio.sleep(0.2)  # every worker has registered its members
                for size in (100, 5000, 100000):
                    message = text_message(size, 3)
                    await peers[0].send(message)
                    for ws in peers:
                        self.assertEqual(await ws.recv(), message, f"size {size}")
                for ws in peers:
                    await ws.close()
            self.run_async(go())


if __name__ == "__main__":
    harness.main()
