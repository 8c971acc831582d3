#!/usr/bin/python3
# Every way a handshake is refused, sent as raw bytes over a socket, against the real binary:
# the exact status, the sentence that names the fix, the extra headers, the warn line in the
# log naming the error and the peer, and the /health counters. The nginx requests are the
# bytes nginx 1.22.1 sent upstream for the seed's location with the named mistake, captured
# once from a real nginx (proxy_pass to a socket that printed what it received).

import asyncio
import json
import re
import ssl
import time

import websockets
from websockets.exceptions import InvalidStatusCode

from wshubtest import harness
from wshubtest.harness import client_frame, exchange, read_head, read_server_frame

KEY = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
BROWSER_TAIL = (
    "Pragma: no-cache\r\n"
    "Cache-Control: no-cache\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36\r\n"
    "Origin: https://test.ws.com\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Accept-Language: zh-CN,zh;q=0.9\r\n"
    + KEY +
    "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
    "\r\n")

# location / { proxy_pass ...; proxy_http_version 1.1; proxy_set_header Host $host; } —
# nginx sets Connection: close and drops the client's Upgrade (its default "Upgrade" "").
NGINX_WITHOUT_UPGRADE_LINES = (
    "GET /echo HTTP/1.1\r\nHost: test.ws.com\r\nConnection: close\r\n" + BROWSER_TAIL).encode()

# proxy_set_header Connection '"upgrade"'; — the quotes reach the upstream.
NGINX_QUOTED_UPGRADE = (
    "GET /echo HTTP/1.1\r\nHost: test.ws.com\r\nUpgrade: websocket\r\n"
    "Connection: \"upgrade\"\r\n" + BROWSER_TAIL).encode()

# location / { proxy_pass ...; proxy_set_header Host $host; } and nothing else: nginx speaks
# HTTP/1.0 upstream with Connection: close and drops Upgrade — three lines missing at once.
NGINX_ONLY_PROXY_PASS = (
    "GET /echo HTTP/1.0\r\nHost: test.ws.com\r\nConnection: close\r\n" + BROWSER_TAIL).encode()

# The Upgrade and Connection lines but no proxy_http_version 1.1: HTTP/1.0 with both headers.
NGINX_HTTP_1_0 = (
    "GET /echo HTTP/1.0\r\nUpgrade: websocket\r\nConnection: upgrade\r\nHost: test.ws.com\r\n"
    + BROWSER_TAIL).encode()

# The three lines a location needs, in the order they go in it.
NGINX_LINES = ["'proxy_http_version 1.1;'", "'proxy_set_header Upgrade $http_upgrade;'",
               "'proxy_set_header Connection \"upgrade\";'"]

BROWSER_PAGE_VISIT = (
    "GET /echo HTTP/1.1\r\nHost: test.ws.com\r\n"
    "Connection: keep-alive\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "*/*;q=0.8\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Accept-Language: zh-CN,zh;q=0.9\r\n"
    "\r\n").encode()


def ws_request(path="/echo", version="HTTP/1.1", lines=None, drop=(), extra=()):
    """A well-formed upgrade request with header lines replaced, dropped or added."""
    headers = lines if lines is not None else [
        "Host: 127.0.0.1", "Upgrade: websocket", "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"]
    headers = [h for h in headers if h.split(":")[0] not in drop] + list(extra)
    return ("\r\n".join([f"GET {path} {version}"] + headers) + "\r\n\r\n").encode()


class Diagnostics(harness.ServerTestCase):

    def reject(self, request, status, error, phrases=(), chunk_size=None, logged=True):
        """Sends `request`, asserts the status, the phrases in the body and (when `logged`)
        a warn line naming `error` and this client's address; returns the response."""
        response, peer = exchange(self.server.port, request, chunk_size=chunk_size)
        self.assertEqual(response.status, status, f"{error}: {response.raw[:400]!r}")
        self.assertEqual(response.header("connection"), "close")
        self.assertEqual(len(response.rest), int(response.header("content-length")),
                         "Content-Length does not match the body")
        for phrase in phrases:
            self.assertIn(phrase, response.text, f"{error}: body lacks {phrase!r}")
        if logged:
            line = self.server.wait_for_log(
                rf"\bwarn(?:ing)?\b.*{re.escape(peer)}\b.*\b{re.escape(error)}\b")
            self.assertIsNotNone(line, f"no warn line naming {error} and {peer}; log:\n"
                                 f"{self.server.log()}")
        return response

    def health(self):
        response = harness.http_get(self.server.port, "/health")
        self.assertEqual(response.status, 200, response.raw)
        self.assertTrue(response.header("content-type").startswith("application/json"))
        return json.loads(response.text)

    # --- the seed's war stories: nginx in front, one line missing or wrong ---

    def test_nginx_without_upgrade_and_connection_lines(self):
        response = self.reject(NGINX_WITHOUT_UPGRADE_LINES, 400, "proxy_dropped_upgrade", [
            "proxy_set_header Upgrade $http_upgrade;",
            'proxy_set_header Connection "upgrade";',
        ])
        self.assertRegex(response.text, r"location.*proxy_set_header.*server level",
                         "the body does not warn about the location-level override trap")

    def test_nginx_with_quoted_upgrade(self):
        response = self.reject(NGINX_QUOTED_UPGRADE, 400, "connection_quoted_upgrade",
                               ['"upgrade"', 'proxy_set_header Connection "upgrade";'])
        self.assertIn("quote", response.text)

    def test_nginx_without_proxy_http_version(self):
        response = self.reject(NGINX_HTTP_1_0, 400, "http_1_0", ["proxy_http_version 1.1;"])
        self.assertNotIn("proxy_set_header", response.text, "those lines are already there")

    def test_nginx_location_with_only_proxy_pass_gets_one_complete_answer(self):
        response, peer = exchange(self.server.port, NGINX_ONLY_PROXY_PASS)
        self.assertEqual(response.status, 400, response.raw[:400])
        line = self.server.wait_for_log(
            rf"\bwarn(?:ing)?\b.*{re.escape(peer)}\b.*rejected \(http_1_0_dropped_upgrade\)")
        self.assertIsNotNone(line, self.server.log())
        # One body and one log line name all three lines, in location-block order.
        in_order = re.compile(".*".join(re.escape(fix) for fix in NGINX_LINES))
        self.assertRegex(response.text, in_order)
        self.assertRegex(line, in_order)
        self.assertEqual(response.text.count("\n"), 1, "one line an operator can paste from")

    def test_the_nginx_mistakes_are_diagnosed_when_sent_one_byte_at_a_time(self):
        self.reject(NGINX_WITHOUT_UPGRADE_LINES, 400, "proxy_dropped_upgrade",
                    ["proxy_set_header Upgrade $http_upgrade;"], chunk_size=1)
        self.reject(NGINX_QUOTED_UPGRADE, 400, "connection_quoted_upgrade", ['"upgrade"'],
                    chunk_size=1)
        self.reject(NGINX_HTTP_1_0, 400, "http_1_0", ["proxy_http_version 1.1;"], chunk_size=1)
        self.reject(NGINX_ONLY_PROXY_PASS, 400, "http_1_0_dropped_upgrade", NGINX_LINES,
                    chunk_size=1)

    # --- people and clients that are not WebSocket clients ---

    def test_plain_browser_visit_gets_an_html_page_and_426(self):
        response, peer = exchange(self.server.port, BROWSER_PAGE_VISIT)
        self.assertEqual(response.status, 426, response.raw[:300])
        self.assertTrue(response.header("content-type").startswith("text/html"),
                        response.header("content-type"))
        self.assertEqual(response.header("upgrade"), "websocket")
        self.assertIn("<html", response.text.lower().replace("<!doctype html", "<html"))
        # Reached over plain http on a ws:// listener, so the example says ws://.
        self.assertIn('new WebSocket("ws://" + location.host + "/echo")', response.text)
        self.assertNotIn("wss://", response.text)
        # A person with a browser is not a fault: counted, but no warn line.
        self.assertEqual(self.health()["counters"]["handshake_errors"]["plain_http_request"], 1)
        self.assertNotRegex(self.server.log(), rf"\bwarn(?:ing)?\b.*{re.escape(peer)}")

    def test_forwarded_proto_from_an_untrusted_peer_does_not_change_the_page(self):
        visit = BROWSER_PAGE_VISIT.replace(b"\r\n\r\n", b"\r\nX-Forwarded-Proto: https\r\n\r\n")
        response, _ = exchange(self.server.port, visit)
        self.assertEqual(response.status, 426, response.raw[:300])
        self.assertIn('new WebSocket("ws://" + location.host + "/echo")', response.text)

    def test_head_request_gets_426_without_a_body(self):
        response, _ = exchange(self.server.port, b"HEAD /echo HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(response.status, 426, response.raw[:300])
        self.assertEqual(response.header("upgrade"), "websocket")
        # RFC 9110 §9.3.2: the same headers as GET, Content-Length included, and no content.
        self.assertGreater(int(response.header("content-length")), 0)
        self.assertEqual(response.rest, b"")

    def test_post_gets_405_with_allow_get(self):
        for request in [
            b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi",
            ws_request().replace(b"GET /echo", b"POST /echo"),
        ]:
            response = self.reject(request, 405, "method_not_get", ["GET"])
            self.assertEqual(response.header("allow"), "GET")

    # --- malformed WebSocket handshakes ---

    def test_missing_host(self):
        self.reject(ws_request(drop=["Host"]), 400, "missing_host", ["Host"])

    def test_bad_key(self):
        for key in ["not-base64-at-all", "dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25jZQ==x",
                    "AAAAAAAAAAAAAAAAAAAAAAAAAAAA"]:
            self.reject(ws_request(drop=["Sec-WebSocket-Key"], extra=[f"Sec-WebSocket-Key: {key}"]),
                        400, "bad_key", ["Sec-WebSocket-Key", "base64"])

    def test_missing_key(self):
        self.reject(ws_request(drop=["Sec-WebSocket-Key"]), 400, "missing_key",
                    ["Sec-WebSocket-Key"])

    def test_version_8_gets_426_naming_version_13(self):
        response = self.reject(
            ws_request(drop=["Sec-WebSocket-Version"], extra=["Sec-WebSocket-Version: 8"]),
            426, "unsupported_version", ["13"])
        self.assertEqual(response.header("sec-websocket-version"), "13")

    def test_missing_version_gets_426_naming_version_13(self):
        response = self.reject(ws_request(drop=["Sec-WebSocket-Version"]), 426,
                               "missing_version", ["13"])
        self.assertEqual(response.header("sec-websocket-version"), "13")

    def test_upgrade_to_something_else(self):
        self.reject(ws_request(drop=["Upgrade"], extra=["Upgrade: h2c"]), 400,
                    "upgrade_not_websocket")

    def test_connection_without_upgrade_token(self):
        self.reject(ws_request(drop=["Connection"], extra=["Connection: keep-alive"]), 400,
                    "connection_missing_upgrade", ['proxy_set_header Connection "upgrade";'])

    def test_unknown_path_lists_the_routes(self):
        response, _ = exchange(self.server.port, ws_request(path="/nope"))
        self.assertEqual(response.status, 404, response.raw[:300])
        for route in ["/echo", "/login", "/health", "/nope"]:
            self.assertIn(route, response.text)
        self.assertEqual(self.health()["counters"]["not_found"], 1)

    def test_unknown_path_websocket_attempt_is_logged(self):
        # A WebSocket handshake to a path with no route is what a proxy_pass URI rewrite
        # (proxy_pass http://up/; with a trailing slash) produces; the operator needs a line.
        response, peer = exchange(self.server.port, ws_request(path="/ws/echo"))
        self.assertEqual(response.status, 404)
        line = self.server.wait_for_log(rf"{re.escape(peer)}\b.*/ws/echo", timeout=2)
        self.assertIsNotNone(line, "no log line names the peer and the unknown path")
        self.assertIn("proxy", line)

    # --- a wss:// client on the plain ws:// port ---

    TLS_ON_PLAIN = ("A TLS handshake arrived on a plain ws:// listener; use ws:// or add tls to "
                    "this [[listen]] entry.")

    def assert_tls_client_hello_logged(self, peer, count):
        line = self.server.wait_for_log(
            rf"\bwarn(?:ing)?\b.*{re.escape(peer)} to 127\.0\.0\.1:{self.server.port} "
            rf"rejected \(tls_client_hello\): ")
        self.assertIsNotNone(line, self.server.log())
        self.assertTrue(line.rstrip().endswith(self.TLS_ON_PLAIN), line)
        self.assertNotIn("bare_lf", self.server.log())
        self.assertEqual(self.health()["counters"]["head_errors"], {"tls_client_hello": count})

    def test_tls_client_on_the_plain_port_is_named_and_counted(self):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        raw = harness.connect(self.server.port)
        peer = harness.peer_name(raw)
        # wshub closes without a byte: an HTTP answer would be "wrong version number" here.
        with self.assertRaises((ssl.SSLEOFError, ssl.SSLZeroReturnError, ConnectionResetError)):
            with context.wrap_socket(raw, server_hostname="test.ws.com"):
                pass
        raw.close()
        self.assert_tls_client_hello_logged(peer, 1)

    def test_tls_client_hello_in_pieces_is_answered_by_closing(self):
        # Python's own ClientHello, sent a byte per read for the bytes that decide.
        hello_out = ssl.MemoryBIO()
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).wrap_bio(
            ssl.MemoryBIO(), hello_out, server_hostname="test.ws.com")
        with self.assertRaises(ssl.SSLWantReadError):
            tls.do_handshake()
        hello = hello_out.read()
        self.assertEqual(hello[0], 0x16)
        with harness.connect(self.server.port) as sock:
            peer = harness.peer_name(sock)
            for byte in hello[:3]:
                sock.sendall(bytes([byte]))
                time.sleep(0.1)
            self.assertEqual(harness.read_until_close(sock), b"", "no answer to a TLS client")
        self.assert_tls_client_hello_logged(peer, 1)

    # --- the HTTP head parser's limits and errors ---

    def test_head_over_8_kib_gets_431(self):
        request = ws_request(extra=["X-Padding: " + "p" * 9000])
        self.reject(request, 431, "head_too_large", ["limits.max_head_bytes"])

    def test_65_headers_get_431_and_64_are_served(self):
        base = 5  # Host, Upgrade, Connection, key, version
        ok = ws_request(extra=[f"X-H{i}: {i}" for i in range(64 - base)])
        with harness.connect(self.server.port) as sock:
            sock.sendall(ok)
            self.assertTrue(read_head(sock).startswith(b"HTTP/1.1 101 "))
        self.reject(ws_request(extra=[f"X-H{i}: {i}" for i in range(65 - base)]), 431,
                    "too_many_headers", ["limits.max_headers"])

    def test_obs_fold_gets_400(self):
        request = ws_request(extra=["X-Folded: first", " continued"])
        self.reject(request, 400, "obs_fold", ["one line"])

    def test_bare_lf_gets_400(self):
        request = ws_request().replace(b"Connection: Upgrade\r\n", b"Connection: Upgrade\n")
        self.reject(request, 400, "bare_lf", ["CRLF"])

    def test_http_2_request_line_gets_505(self):
        self.reject(b"GET /echo HTTP/2.0\r\nHost: x\r\n\r\n", 505, "unsupported_version",
                    ["HTTP/1.1"])

    def test_http_2_connection_preface_gets_505(self):
        self.reject(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505, "unsupported_version",
                    ["HTTP/1.1"])

    def test_head_errors_are_diagnosed_when_sent_one_byte_at_a_time(self):
        self.reject(ws_request(extra=["X-Folded: a", "\tb"]), 400, "obs_fold", chunk_size=1)
        self.reject(b"GET /echo HTTP/2.0\r\nHost: x\r\n\r\n", 505, "unsupported_version",
                    chunk_size=1)
        request = ws_request(extra=["X-Padding: " + "p" * 9000])
        self.reject(request, 431, "head_too_large", chunk_size=1000)

    # --- /health and the counters behind it ---

    def test_health_counts_each_rejection_by_name(self):
        made = {
            "proxy_dropped_upgrade": [NGINX_WITHOUT_UPGRADE_LINES] * 2,
            "connection_quoted_upgrade": [NGINX_QUOTED_UPGRADE],
            "http_1_0": [NGINX_HTTP_1_0] * 3,
            "http_1_0_dropped_upgrade": [NGINX_ONLY_PROXY_PASS] * 2,
            "plain_http_request": [BROWSER_PAGE_VISIT],
            "bad_key": [ws_request(drop=["Sec-WebSocket-Key"],
                                   extra=["Sec-WebSocket-Key: short=="])],
        }
        for requests in made.values():
            for request in requests:
                exchange(self.server.port, request)
        exchange(self.server.port, b"GET /echo HTTP/2.0\r\nHost: x\r\n\r\n")
        exchange(self.server.port, ws_request(extra=["X-Padding: " + "p" * 9000]))
        health = self.health()
        self.assertEqual(health["status"], "ok")
        counters = health["counters"]
        self.assertEqual(counters["handshake_errors"],
                         {name: len(requests) for name, requests in made.items()})
        self.assertEqual(counters["head_errors"], {"unsupported_version": 1, "head_too_large": 1})
        self.assertEqual(counters["upgrades"], 0)
        self.assertEqual(health["connections"], 1, "only the /health request itself is open")

    def test_log_lines_are_rate_limited_but_every_rejection_is_counted(self):
        n = 200
        for _ in range(n):
            exchange(self.server.port, NGINX_WITHOUT_UPGRADE_LINES)
        time.sleep(1.1)  # a new second: the next line reports what was suppressed
        exchange(self.server.port, NGINX_WITHOUT_UPGRADE_LINES)
        # Every rejection is either written or counted in a "suppressed" report (inline on the
        # next allowed line, or on its own line once a second).
        deadline = time.monotonic() + 3
        while True:
            log = self.server.log()
            written = sum(1 for line in log.splitlines() if "proxy_dropped_upgrade" in line)
            left_out = sum(int(k) for k in re.findall(r"\((\d+) similar lines suppressed\)", log))
            left_out += sum(int(k) for k in
                            re.findall(r" (\d+) more peer-error lines suppressed ", log))
            if written + left_out >= n + 1 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertLess(written, n, "200 rejections wrote 200 log lines: no rate limit")
        self.assertEqual(written + left_out, n + 1, log[-2000:])
        counters = self.health()["counters"]
        self.assertEqual(counters["handshake_errors"]["proxy_dropped_upgrade"], n + 1)

    # --- the first frame bytes arrive with the head ---

    def test_frame_in_the_same_write_as_the_head_is_echoed(self):
        with harness.connect(self.server.port) as sock:
            sock.sendall(ws_request() + client_frame(0x1, b"first frame"))
            data = read_head(sock)
            head, _, rest = data.partition(b"\r\n\r\n")
            self.assertTrue(head.startswith(b"HTTP/1.1 101 "), head)
            self.assertIn(f"Sec-WebSocket-Accept: {harness.SAMPLE_ACCEPT}".encode(), head)
            fin, opcode, payload, rest = read_server_frame(sock, rest)
            self.assertEqual((fin, opcode, payload), (True, 0x1, b"first frame"))

    def test_many_frames_ping_and_close_in_the_same_write_as_the_head(self):
        frames = (client_frame(0x1, b"one") + client_frame(0x2, b"\x00two", mask=b"\x01\x02\x03\x04")
                  + client_frame(0x9, b"pp") + client_frame(0x1, b"frag", fin=False)
                  + client_frame(0x0, b"mented") + client_frame(0x8, b"\x0f\xa0bye"))
        with harness.connect(self.server.port) as sock:
            sock.sendall(ws_request() + frames)
            _, _, rest = read_head(sock).partition(b"\r\n\r\n")
            got = []
            for _ in range(5):
                fin, opcode, payload, rest = read_server_frame(sock, rest)
                got.append((opcode, payload))
            self.assertEqual(got, [(0x1, b"one"), (0x2, b"\x00two"), (0xA, b"pp"),
                                   (0x1, b"fragmented"), (0x8, b"\x0f\xa0")])

    def test_frame_after_a_head_that_arrived_in_pieces_is_echoed(self):
        request = ws_request()
        with harness.connect(self.server.port) as sock:
            sock.sendall(request[:20])
            time.sleep(0.2)  # let the server read and hold the partial head
            sock.sendall(request[20:] + client_frame(0x1, b"after a split head"))
            _, _, rest = read_head(sock).partition(b"\r\n\r\n")
            self.assertEqual(read_server_frame(sock, rest)[:3], (True, 0x1, b"after a split head"))

    def test_upgrade_sent_one_byte_at_a_time_then_a_frame(self):
        with harness.connect(self.server.port) as sock:
            for byte in ws_request() + client_frame(0x2, b"\xff" * 200):
                sock.sendall(bytes([byte]))
            _, _, rest = read_head(sock).partition(b"\r\n\r\n")
            self.assertEqual(read_server_frame(sock, rest)[:3], (True, 0x2, b"\xff" * 200))


class BehindATrustedProxy(harness.ServerTestCase):
    config = '[server]\ntrusted_proxies = ["127.0.0.1"]\n'

    def page_for(self, forwarded_proto):
        extra = f"X-Forwarded-Proto: {forwarded_proto}\r\n" if forwarded_proto else ""
        visit = BROWSER_PAGE_VISIT.replace(b"\r\n\r\n", f"\r\n{extra}\r\n".encode())
        response, _ = exchange(self.server.port, visit)
        self.assertEqual(response.status, 426, response.raw[:300])
        return response.text

    def test_the_page_uses_the_scheme_the_proxy_says_the_client_used(self):
        wss = 'new WebSocket("wss://" + location.host + "/echo")'
        ws = 'new WebSocket("ws://" + location.host + "/echo")'
        self.assertIn(wss, self.page_for("https"))
        self.assertIn(wss, self.page_for("HTTPS"))
        self.assertIn(wss, self.page_for("https, http"))  # the first proxy's is the client's
        self.assertIn(ws, self.page_for("http"))
        self.assertIn(ws, self.page_for("http, https"))
        self.assertIn(ws, self.page_for(None))


class DebugLog(harness.ServerTestCase):
    config = '[server]\nlog_level = "debug"\n'

    def test_plain_browser_visit_is_logged_at_debug_with_the_peer(self):
        response, peer = exchange(self.server.port, BROWSER_PAGE_VISIT)
        self.assertEqual(response.status, 426)
        line = self.server.wait_for_log(rf"\bdebug\b.*{re.escape(peer)}\b.*/echo")
        self.assertIsNotNone(line, self.server.log())


ROUTES_CONFIG = """
[[route]]
path = "/chat"
handler = "echo"
allowed_origins = ["https://app.example.com", "https://admin.example.com"]
subprotocols = ["chat.v2", "chat.v1"]

[[route]]
path = "/strict"
handler = "reply"
reply = "strict reply"
subprotocols = ["mqtt"]
require_subprotocol = true
"""


class OriginsAndSubprotocols(harness.ServerTestCase):
    config = ROUTES_CONFIG

    def run_async(self, coroutine):
        return asyncio.run(asyncio.wait_for(coroutine, 30))

    def connect(self, path, **kwargs):
        return websockets.connect(self.server.url(path), compression=None, open_timeout=20,
                                  **kwargs)

    def test_allowed_origin_is_served(self):
        async def go():
            async with self.connect("/chat", origin="https://admin.example.com") as ws:
                await ws.send("hi")
                self.assertEqual(await ws.recv(), "hi")
        self.run_async(go())

    def test_client_without_origin_is_served(self):
        async def go():
            async with self.connect("/chat") as ws:
                self.assertNotIn("Origin", ws.request_headers)
                await ws.send("no origin")
                self.assertEqual(await ws.recv(), "no origin")
        self.run_async(go())

    def test_other_origin_gets_403(self):
        async def go():
            with self.assertRaises(InvalidStatusCode) as caught:
                async with self.connect("/chat", origin="https://evil.example.net"):
                    pass
            self.assertEqual(caught.exception.status_code, 403)
        self.run_async(go())
        response, peer = exchange(self.server.port, ws_request(
            path="/chat", extra=["Origin: https://app.example.com.evil.example.net"]))
        self.assertEqual(response.status, 403)
        self.assertIn("allowed_origins", response.text)
        self.assertIsNotNone(self.server.wait_for_log(
            rf"\bwarn(?:ing)?\b.*{re.escape(peer)}\b.*origin_not_allowed"), self.server.log())

    def test_server_picks_its_most_preferred_offered_subprotocol(self):
        async def go():
            async with self.connect("/chat", subprotocols=["chat.v1", "chat.v2"]) as ws:
                self.assertEqual(ws.subprotocol, "chat.v2")
            async with self.connect("/chat", subprotocols=["chat.v1"]) as ws:
                self.assertEqual(ws.subprotocol, "chat.v1")
            async with self.connect("/chat", subprotocols=["other"]) as ws:
                self.assertIsNone(ws.subprotocol)  # optional on /chat: served without one
                self.assertNotIn("Sec-WebSocket-Protocol", ws.response_headers)
        self.run_async(go())

    def test_required_subprotocol(self):
        async def go():
            async with self.connect("/strict", subprotocols=["mqtt"]) as ws:
                self.assertEqual(ws.subprotocol, "mqtt")
                await ws.send("anything")
                self.assertEqual(await ws.recv(), "strict reply")
            for offer in [None, ["mqttv5"]]:
                with self.assertRaises(InvalidStatusCode) as caught:
                    async with self.connect("/strict", subprotocols=offer):
                        pass
                self.assertEqual(caught.exception.status_code, 400)
        self.run_async(go())
        response, peer = exchange(self.server.port, ws_request(path="/strict"))
        self.assertEqual(response.status, 400)
        self.assertIn("Sec-WebSocket-Protocol", response.text)
        self.assertIsNotNone(self.server.wait_for_log(
            rf"\bwarn(?:ing)?\b.*{re.escape(peer)}\b.*no_acceptable_subprotocol"), self.server.log())

    def test_configured_routes_replace_the_defaults(self):
        response, _ = exchange(self.server.port, ws_request(path="/echo"))
        self.assertEqual(response.status, 404)
        self.assertIn("/chat", response.text)
        self.assertIn("/strict", response.text)


if __name__ == "__main__":
    harness.main()
