# wshub behind a real nginx (Debian's 1.22): the shipped deploy/nginx/wshub.conf carries wss://
# end to end; each classic misconfiguration fails with a response body and a wshub log line
# that name the cause and the fix; server pings keep an idle connection alive past
# proxy_read_timeout; the forwarded client address reaches wshub's logs and limits.

import asyncio
import os
import re
import socket
import time

import websockets

from wshubtest import proxy_harness as h

WSHUB_CONFIG = """
[server]
log_level = "debug"
trusted_proxies = ["127.0.0.1"]
[[listen]]
address = "127.0.0.1:0"
{limits}
"""


class NginxCase(h.TempDirCase):
    limits = ""
    read_timeout = None

    def setUp(self):
        super().setUp()
        self.ca, self.cert, self.key = self.certs("test.ws.com", "127.0.0.1")
        self.server = self.wshub(WSHUB_CONFIG.format(limits=self.limits))
        self.nginx_port = h.free_port()

    def start_nginx(self, edit=None):
        config = h.shipped_nginx_config(self.server.ports["ws"][0], self.nginx_port, self.cert,
                                        self.key, self.read_timeout)
        if edit:
            config = edit(config)
        return self.nginx(config, self.nginx_port)

    def url(self, path):
        return f"wss://127.0.0.1:{self.nginx_port}{path}"

    def upgrade_through_nginx(self):
        with h.tls_connect(self.nginx_port, self.ca) as s:
            s.sendall(h.upgrade_request("/echo"))
            return h.read_http_response(s)

    def connect(self, path, **kwargs):
        return websockets.connect(self.url(path), ssl=h.client_context(self.ca),
                                  server_hostname="test.ws.com", **kwargs)


class ShippedConfig(NginxCase):
    def test_echo_and_clean_close_through_the_shipped_config(self):
        self.start_nginx()

        async def run():
            async with self.connect("/echo", max_size=None) as ws:
                await ws.send("hello through nginx")
                self.assertEqual(await ws.recv(), "hello through nginx")
                blob = os.urandom(300000)
                await ws.send(blob)
                self.assertEqual(await ws.recv(), blob)
            self.assertEqual(ws.close_code, 1000)
            async with self.connect("/login") as ws:
                await ws.send("hi")
                self.assertEqual(await ws.recv(), "reply")

        asyncio.run(run())
        health = self.server.health()
        self.assertEqual(health["counters"]["upgrades"], 2)
        self.assertEqual(health["counters"]["handshake_errors"], {})
        self.assertGreaterEqual(health["counters"]["closes_received"], 2)
        # The client address came through X-Forwarded-For from the trusted nginx.
        line = self.server.wait_for_log(r"opened /echo")
        self.assertRegex(line, r"127\.0\.0\.1 via 127\.0\.0\.1:\d+ opened /echo")

    def test_plain_request_through_nginx_gets_the_help_page(self):
        self.start_nginx()
        with h.tls_connect(self.nginx_port, self.ca) as s:
            s.sendall(b"GET /login HTTP/1.1\r\nHost: test.ws.com\r\n\r\n")
            status, _, body = h.read_http_response(s)
        self.assertEqual(status, 426)
        self.assertIn("This is a WebSocket endpoint", body)
        # nginx terminated TLS and said so in X-Forwarded-Proto: the example uses wss://.
        self.assertIn('new WebSocket("wss://" + location.host + "/login")', body)
        self.assertNotIn("ws://", body.replace("wss://", ""))


def drop_lines(*needles):
    def edit(config):
        lines = [line for line in config.splitlines(True) if not any(n in line for n in needles)]
        assert len(lines) == len(config.splitlines(True)) - len(needles), needles
        return "".join(lines)
    return edit


class Misconfigurations(NginxCase):
    """Each case: the response the client sees and wshub's log line name cause and fix."""

    def assert_named(self, status, body, error, fix):
        self.assertEqual(status, 400, body)
        self.assertIn(fix, body)
        line = self.server.wait_for_log(rf"rejected \({error}\)")
        self.assertIsNotNone(line, self.server.log())
        self.assertIn(fix, line)
        self.assertEqual(self.server.health()["counters"]["handshake_errors"], {error: 1})

    def test_upgrade_and_connection_lines_missing(self):
        self.start_nginx(drop_lines("proxy_set_header Upgrade", "proxy_set_header Connection"))
        status, _, body = self.upgrade_through_nginx()
        self.assert_named(status, body, "proxy_dropped_upgrade",
                          "in the nginx location that proxies to wshub add "
                          "'proxy_set_header Upgrade $http_upgrade;' and "
                          "'proxy_set_header Connection \"upgrade\";'")

    def test_location_with_its_own_proxy_set_header_hides_the_server_level_ones(self):
        def edit(config):
            config = drop_lines("proxy_set_header Upgrade", "proxy_set_header Connection")(config)
            marker = "    server_name test.ws.com;\n"
            assert marker in config
            return config.replace(marker, marker + "    proxy_set_header Upgrade $http_upgrade;\n"
                                  "    proxy_set_header Connection $connection_upgrade;\n")
        self.start_nginx(edit)
        status, _, body = self.upgrade_through_nginx()
        self.assert_named(status, body, "proxy_dropped_upgrade",
                          "a location with any proxy_set_header of its own ignores those set "
                          "at server level")

    def test_connection_upgrade_in_literal_quotes(self):
        def edit(config):
            old = "proxy_set_header Connection $connection_upgrade;"
            assert old in config
            return config.replace(old, "proxy_set_header Connection '\"upgrade\"';")
        self.start_nginx(edit)
        status, _, body = self.upgrade_through_nginx()
        self.assert_named(status, body, "connection_quoted_upgrade",
                          "in nginx write 'proxy_set_header Connection \"upgrade\";' (nginx "
                          "removes those quotes), not '\"upgrade\"' inside single quotes")

    def test_proxy_http_version_missing(self):
        self.start_nginx(drop_lines("proxy_http_version 1.1;"))
        status, _, body = self.upgrade_through_nginx()
        self.assert_named(status, body, "http_1_0", "in the nginx location that proxies to wshub "
                                                    "add 'proxy_http_version 1.1;'")
        self.assertNotIn("proxy_set_header", body)


VERSION = "proxy_http_version 1.1;"
UPGRADE = "proxy_set_header Upgrade $http_upgrade;"
CONNECTION = 'proxy_set_header Connection "upgrade";'


def location_with(*lines):
    """The shipped config with its location cut down to proxy_pass and `lines`."""
    def edit(config):
        opening = "    location / {\n"
        start = config.index(opening) + len(opening)
        end = config.index("\n    }\n", start) + 1
        body = "".join(f"        {line}\n" for line in ("proxy_pass http://wshub;",) + lines)
        return config[:start] + body + config[end:]
    return edit


class LocationStates(NginxCase):
    """A location with proxy_pass and any subset of the three lines a WebSocket location needs:
    each state's one answer names exactly the lines still missing, in location-block order, so
    fixing what it says is enough to get a 101."""

    def assert_names_exactly(self, error, missing):
        status, _, body = self.upgrade_through_nginx()
        self.assertEqual(status, 400, body)
        line = self.server.wait_for_log(rf"rejected \({error}\)")
        self.assertIsNotNone(line, self.server.log())
        in_order = ".*".join(re.escape(f"'{fix}'") for fix in missing)
        self.assertRegex(body, in_order)
        self.assertRegex(line, in_order)
        for present in {VERSION, UPGRADE, CONNECTION} - set(missing):
            self.assertNotIn(present, body, f"{present} is in the location already")
        self.assertEqual(self.server.health()["counters"]["handshake_errors"], {error: 1})

    def test_only_proxy_pass(self):
        self.start_nginx(location_with())
        self.assert_names_exactly("http_1_0_dropped_upgrade", [VERSION, UPGRADE, CONNECTION])

    def test_only_the_version_fixed(self):
        self.start_nginx(location_with(VERSION))
        self.assert_names_exactly("proxy_dropped_upgrade", [UPGRADE, CONNECTION])

    def test_only_the_headers_set(self):
        self.start_nginx(location_with(UPGRADE, CONNECTION))
        self.assert_names_exactly("http_1_0", [VERSION])

    def test_version_and_upgrade(self):
        self.start_nginx(location_with(VERSION, UPGRADE))
        self.assert_names_exactly("connection_missing_upgrade", [CONNECTION])

    def test_version_and_connection(self):
        self.start_nginx(location_with(VERSION, CONNECTION))
        self.assert_names_exactly("missing_upgrade", [UPGRADE])

    def test_only_upgrade(self):
        self.start_nginx(location_with(UPGRADE))
        self.assert_names_exactly("http_1_0_connection_missing_upgrade", [VERSION, CONNECTION])

    def test_only_connection(self):
        self.start_nginx(location_with(CONNECTION))
        self.assert_names_exactly("http_1_0_missing_upgrade", [VERSION, UPGRADE])

    def test_all_three_lines_upgrade(self):
        self.start_nginx(location_with(VERSION, UPGRADE, CONNECTION))
        status, _, _ = self.upgrade_through_nginx()
        self.assertEqual(status, 101)


class KeepAlive(NginxCase):
    limits = "[limits]\nping_interval_ms = 1000\nidle_timeout_ms = 10000\n"
    read_timeout = "3s"

    def test_idle_connection_outlives_proxy_read_timeout_thanks_to_pings(self):
        self.start_nginx()

        async def run():
            # websockets answers the server's pings by itself while the test sleeps.
            async with self.connect("/echo", ping_interval=None) as ws:
                await asyncio.sleep(8)
                await ws.send("still here")
                self.assertEqual(await ws.recv(), "still here")
            self.assertEqual(ws.close_code, 1000)

        asyncio.run(run())


class KeepAliveControl(NginxCase):
    """Without server pings the same idle connection is cut by nginx: the test above is real."""
    limits = "[limits]\nping_interval_ms = 0\nidle_timeout_ms = 0\n"
    read_timeout = "3s"

    def test_without_pings_nginx_cuts_the_idle_connection(self):
        self.start_nginx()

        async def run():
            async with self.connect("/echo", ping_interval=None) as ws:
                await asyncio.sleep(5)
                with self.assertRaises(websockets.ConnectionClosed):
                    await ws.send("too late")
                    await ws.recv()

        asyncio.run(run())


class ForwardedAddressAndLimits(NginxCase):
    limits = "[limits]\nmax_connections_per_ip = 1\n"

    def test_per_ip_limit_counts_the_forwarded_client_not_nginx(self):
        self.start_nginx()

        async def run():
            # Two clients behind nginx share its address; from nginx each is X-Forwarded-For
            # 127.0.0.1 here, so the second from the same client address is refused.
            async with self.connect("/echo") as first:
                await first.send("one")
                self.assertEqual(await first.recv(), "one")
                with self.assertRaises(websockets.InvalidStatusCode) as refused:
                    async with self.connect("/echo"):
                        pass
                self.assertEqual(refused.exception.status_code, 503)

        asyncio.run(run())
        line = self.server.wait_for_log(r"refused: limits\.max_connections_per_ip")
        self.assertRegex(line, r"127\.0\.0\.1 via 127\.0\.0\.1:\d+ refused: "
                               r"limits\.max_connections_per_ip \(1\) reached")


if __name__ == "__main__":
    h.main()
