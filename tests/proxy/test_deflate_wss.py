# permessage-deflate over wss://: the compressed frames pass through wshub's TLS record layer
# both ways. A raw client (wshubtest/deflate_client.py) on a verified TLS connection
# checks the negotiated header, RSV1 on what the server sends, byte-exact echoes of compressed
# messages whole and fragmented, the broadcast route's shared compressed frame, and a bomb cut
# with 1009; python3-websockets checks the same echo as a real client library would.

import asyncio
import zlib

import websockets

from wshubtest import proxy_harness as h

from wshubtest.deflate_client import OP_BINARY, OP_TEXT, DeflateClient, frame

SIZES = [16, 1000, 16 * 1024, 65536, 128 * 1024]
OFFER = "permessage-deflate; client_max_window_bits"


def config(cert, key, takeover):
    policy = ("server_no_context_takeover = false\nclient_no_context_takeover = false\n"
              if takeover else "")
    return f"""
[limits]
max_frame_bytes = 1048576
max_message_bytes = 1048576
[compression]
enabled = true
{policy}
[[listen]]
address = "127.0.0.1:0"
tls = {{ cert = "{cert}", key = "{key}" }}
[[listen]]
address = "127.0.0.1:0"
[[route]]
path = "/echo"
[[route]]
path = "/broadcast"
handler = "broadcast"
"""


def report(size, seed):
    """A JSON device report of about `size` bytes: compressible, as the hub's traffic is."""
    parts, i = [], seed
    while sum(map(len, parts)) < size:
        parts.append(f'{{"device":"dev-{i % 97:04d}","temp":{20 + i % 13}.{i % 10},"ok":true}}')
        i += 1
    return ("[" + ",".join(parts) + "]")[:size]


class DeflateOverWss(h.TempDirCase):
    def start(self, takeover):
        self.ca, cert, key = self.certs("test.ws.com", "127.0.0.1")
        self.server = self.wshub(config(cert, key, takeover))
        self.port = self.server.ports["wss"][0]
        self.context = h.client_context(self.ca)

    def client(self, path="/echo"):
        return DeflateClient(self.port, path=path, offer=OFFER, tls=self.context,
                             server_name="test.ws.com")

    def check_echoes(self, takeover):
        self.start(takeover)
        with self.client() as c:
            self.assertIsNotNone(c.extension, "no permessage-deflate in the 101 over wss")
            self.assertEqual(c.server_no_context, not takeover, c.extension)
            self.assertEqual(c.client_no_context, not takeover, c.extension)
            for size in SIZES:
                for opcode, payload in ((OP_TEXT, report(size, size).encode()),
                                        (OP_BINARY, (bytes(range(256)) * (size // 256 + 1))[:size])):
                    for fragment in (None, 1000):
                        with self.subTest(size=size, opcode=opcode, fragment=fragment):
                            c.send_message(opcode, payload, fragment=fragment)
                            got_opcode, got, compressed = c.recv_message()
                            self.assertEqual(got_opcode, opcode)
                            self.assertEqual(got, payload)
                            # Below min_message_bytes (128) the server sends plain frames.
                            self.assertEqual(compressed, size >= 128, "RSV1 on the echo")
            c.close()
            self.assertEqual(c.expect_close(), 1000)
        # Every compressed message in and out is counted at /health, bytes both sides.
        counted = self.server.health()["compression"]
        sent = 2 * 2 * len(SIZES)  # text and binary, whole and fragmented
        compressed = 2 * 2 * sum(1 for size in SIZES if size >= 128)
        self.assertEqual(counted["connections"], 1, counted)
        self.assertEqual(counted["inflated"]["messages"], sent, counted)
        self.assertEqual(counted["compressed"]["messages"], compressed, counted)
        self.assertEqual(counted["inflated"]["to_bytes"], 2 * 2 * sum(SIZES), counted)
        self.assertEqual(counted["compressed"]["from_bytes"],
                         2 * 2 * sum(size for size in SIZES if size >= 128), counted)
        self.assertLess(counted["compressed"]["to_bytes"] * 3, counted["compressed"]["from_bytes"],
                        "device reports should compress at least 3x")

    def test_echo_without_context_takeover(self):
        self.check_echoes(takeover=False)

    def test_echo_with_context_takeover(self):
        self.check_echoes(takeover=True)

    def test_broadcast_shares_one_compressed_frame_over_tls(self):
        self.start(takeover=False)
        receivers = [self.client("/broadcast") for _ in range(3)]
        plain = DeflateClient(self.port, path="/broadcast", offer=None, tls=self.context,
                              server_name="test.ws.com")
        try:
            message = report(4096, 7).encode()
            receivers[0].send_message(OP_TEXT, message)
            for c in receivers:
                self.assertEqual(c.recv_message(), (OP_TEXT, message, True))
            self.assertEqual(plain.recv_message(), (OP_TEXT, message, False))
            counted = self.server.health()["compression"]
            self.assertEqual(counted["connections"], 3, counted)
            self.assertEqual(counted["shared_frames_sent"], 3, counted)
            self.assertEqual(counted["compressed"]["messages"], 0,
                             f"a fan-out was compressed per connection: {counted}")
        finally:
            for c in receivers + [plain]:
                c.shutdown()

    def test_bomb_over_tls_is_1009(self):
        self.start(takeover=False)
        with self.client() as c:
            bomb = zlib.compressobj(9, zlib.DEFLATED, -15)
            body = bomb.compress(b"\0" * (8 << 20)) + bomb.flush(zlib.Z_SYNC_FLUSH)
            self.assertLess(len(body), 16 * 1024)
            c.send_raw(frame(OP_BINARY, body[:-4], rsv1=True))
            self.assertEqual(c.expect_close(), 1009)
        self.assertEqual(self.server.health()["status"], "ok")

    def test_python_websockets_echo(self):
        self.start(takeover=True)

        async def run():
            async with websockets.connect(f"wss://127.0.0.1:{self.port}/echo", ssl=self.context,
                                          server_hostname="test.ws.com", max_size=None) as ws:
                self.assertIn("permessage-deflate",
                              ws.response_headers.get("Sec-WebSocket-Extensions", ""))
                for size in SIZES:
                    text = report(size, size)
                    await ws.send(text)
                    self.assertEqual(await ws.recv(), text)
                await ws.close(1000)
        asyncio.run(run())


if __name__ == "__main__":
    h.main()
