# wshub behind a real HAProxy (Debian's 2.6) with the shipped deploy/haproxy/wshub.cfg:
# wss:// end to end, echo, a clean close, and the forwarded client address.

import asyncio
import os

import websockets

import proxy_harness as h

WSHUB_CONFIG = """
[server]
log_level = "debug"
trusted_proxies = ["127.0.0.1"]
[[listen]]
address = "127.0.0.1:0"
"""


class ShippedHaproxyConfig(h.TempDirCase):
    def test_echo_and_clean_close_through_the_shipped_config(self):
        ca, cert, key = self.certs("test.ws.com", "127.0.0.1")
        pem = os.path.join(self.tmp, "haproxy.pem")
        with open(pem, "w") as out, open(cert) as c, open(key) as k:
            out.write(c.read() + k.read())
        server = self.wshub(WSHUB_CONFIG)
        port = h.free_port()
        self.haproxy(h.shipped_haproxy_config(server.ports["ws"][0], port, pem), port)

        async def run():
            async with websockets.connect(f"wss://127.0.0.1:{port}/echo", ssl=h.client_context(ca),
                                          server_hostname="test.ws.com", max_size=None) as ws:
                await ws.send("hello through haproxy")
                self.assertEqual(await ws.recv(), "hello through haproxy")
                blob = os.urandom(300000)
                await ws.send(blob)
                self.assertEqual(await ws.recv(), blob)
            self.assertEqual(ws.close_code, 1000)
            async with websockets.connect(f"wss://127.0.0.1:{port}/login", ssl=h.client_context(ca),
                                          server_hostname="test.ws.com") as ws:
                await ws.send("hi")
                self.assertEqual(await ws.recv(), "reply")

        asyncio.run(run())
        health = server.health()
        self.assertEqual(health["counters"]["upgrades"], 2)
        self.assertEqual(health["counters"]["handshake_errors"], {})
        self.assertGreaterEqual(health["counters"]["closes_received"], 2)
        self.assertRegex(server.wait_for_log(r"opened /echo"), r"127\.0\.0\.1 via 127\.0\.0\.1:\d+ opened /echo")


if __name__ == "__main__":
    h.main()
