# wshub behind a real HAProxy (Debian's 2.6) with the shipped deploy/haproxy/wshub.cfg:
# wss:// end to end, echo, a clean close, and the forwarded client address; and a frontend rule
# that removes Upgrade or Connection gets an answer naming HAProxy's fix, not only nginx's.

import asyncio
import os

import websockets

from wshubtest import proxy_harness as h

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


class RulesThatRemoveTheUpgradeHeaders(h.TempDirCase):
    """HAProxy forwards Upgrade and Connection by itself in mode http; an http-request rule of
    its own (a hardening guide's del-header Upgrade, say) is how it loses them."""

    def upgrade_through_haproxy_with(self, *rules):
        ca, cert, key = self.certs("test.ws.com", "127.0.0.1")
        pem = os.path.join(self.tmp, "haproxy.pem")
        with open(pem, "w") as out, open(cert) as c, open(key) as k:
            out.write(c.read() + k.read())
        self.server = self.wshub(WSHUB_CONFIG)
        port = h.free_port()
        config = h.shipped_haproxy_config(self.server.ports["ws"][0], port, pem)
        anchor = "    option forwardfor\n"
        self.assertIn(anchor, config)
        config = config.replace(anchor, anchor + "".join(f"    {rule}\n" for rule in rules))
        self.haproxy(config, port)
        with h.tls_connect(port, ca) as s:
            s.sendall(h.upgrade_request("/echo"))
            return h.read_http_response(s)

    def assert_names_haproxy(self, response, error, fix):
        status, _, body = response
        self.assertEqual(status, 400, body)
        line = self.server.wait_for_log(rf"rejected \({error}\)")
        self.assertIsNotNone(line, self.server.log())
        # The client behind HAProxy is named, and body and log line carry HAProxy's fix.
        self.assertRegex(line, r"127\.0\.0\.1 via 127\.0\.0\.1:\d+ GET /echo rejected")
        for text in (body, line):
            self.assertIn(fix, text)
            self.assertNotIn("behind nginx", text)
        self.assertEqual(self.server.health()["counters"]["handshake_errors"], {error: 1})

    def test_del_header_upgrade(self):
        response = self.upgrade_through_haproxy_with("http-request del-header Upgrade")
        self.assert_names_haproxy(response, "missing_upgrade",
                                  "HAProxy forwards Upgrade in 'mode http' unless an "
                                  "'http-request del-header' rule removes it")

    def test_connection_set_to_close(self):
        response = self.upgrade_through_haproxy_with("http-request set-header Connection close")
        self.assert_names_haproxy(response, "connection_missing_upgrade",
                                  "HAProxy forwards Connection in 'mode http' unless an "
                                  "'http-request del-header' or 'set-header' rule removes or "
                                  "replaces it")

    def test_both_headers_deleted(self):
        response = self.upgrade_through_haproxy_with("http-request del-header Upgrade",
                                                     "http-request del-header Connection")
        self.assert_names_haproxy(response, "proxy_dropped_upgrade",
                                  "HAProxy forwards both in 'mode http' unless an 'http-request "
                                  "del-header' or 'set-header' rule removes them")


if __name__ == "__main__":
    h.main()
