#!/usr/bin/python3
# The admin page's server side against the real binary: never open (401 and the login form, the
# API key or a session cookie opens it, [api] admin = false removes it), the last rejected
# handshakes with their diagnoses as the server saw them (a bad head, a TLS ClientHello on a
# plain port, a WebSocket request on a wrong path, a proxy that dropped Upgrade), and the live
# statistics on $admin:stats through the hub with the page's own token, which a wildcard token
# cannot reach and nobody may publish to; a client refusing the certificate of a wss://
# listener shows there too, and a webhook backend that is down shows with its open breaker. The page in Chromium: tests/browser/test_admin_page.py.

import asyncio
import os
import socket
import ssl
import sys
import unittest

from wshubtest import proxy_harness
from wshubtest.api_support import ApiClient, make_config, main, mint_token, start_server, wait_until
from wshubtest.hub_client import HubClient, run

TLS_CLIENT_HELLO = bytes.fromhex("16030100c8010000c40303") + bytes(32)


def send_raw(port, data):
    """Sends `data` on a new connection and returns what comes back before the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        received = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return received
            received += chunk


class Admin(unittest.TestCase):

    def setUp(self):
        self.server = start_server(self, make_config(namespaces=[
            {"name": "", "subscribe": "token", "publish": "subscribers"}]))
        self.api = ApiClient(self.server.api_port)
        self.addCleanup(self.api.close)

    def test_never_open_and_the_cookie_opens_only_the_page(self):
        page = self.api.get("/admin", key=None)
        self.assertEqual(page.status, 401)
        self.assertIn(b'action="/admin/login"', page.body)
        self.assertEqual(self.api.get("/admin/api/state", key=None).status, 401)
        self.assertEqual(self.api.get("/admin/api/state").status, 200)
        login = self.api.post("/admin/login", "key=api-integ-key", key=None,
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(login.status, 303, login)
        cookie = login.headers["set-cookie"].split(";")[0]
        self.assertRegex(cookie, r"^wshub_admin=[0-9a-f]{64}$")
        self.assertIn("HttpOnly", login.headers["set-cookie"])
        self.assertIn("SameSite=Strict", login.headers["set-cookie"])
        self.assertEqual(self.api.get("/admin/api/state", key=None, headers={"Cookie": cookie}).status, 200)
        self.assertEqual(self.api.post("/api/publish", {"channel": "news", "data": 1}, key=None,
                                       headers={"Cookie": cookie}).status, 401)

    def test_the_last_rejected_handshakes_with_their_diagnoses(self):
        port = self.server.port
        self.assertTrue(send_raw(port, b"GET /hub HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
                                       b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                       b"Sec-WebSocket-Version: 13\r\n\r\n").startswith(b"HTTP/1.1 400"))
        self.assertTrue(send_raw(port, b"GET /wrong HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                                       b"Connection: Upgrade\r\n\r\n").startswith(b"HTTP/1.1 404"))
        self.assertEqual(send_raw(port, TLS_CLIENT_HELLO), b"")
        self.assertTrue(send_raw(port, b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n").startswith(b"HTTP/1.1 400"))
        state = self.api.get("/admin/api/state").json
        rejected = state["rejected"]
        self.assertEqual(rejected["total"], 4, rejected)
        reasons = [(r["reason"], r["status"], r["request"]) for r in rejected["last"]]
        self.assertEqual(reasons[1:], [("tls_client_hello", 0, "TLS ClientHello"),
                                       ("not_found", 404, "GET /wrong"),
                                       ("missing_upgrade", 400, "GET /hub")], rejected)
        self.assertEqual(reasons[0][1:], (400, "request head"), rejected)
        by_reason = {r["reason"]: r for r in rejected["last"]}
        self.assertIn("proxy_set_header Upgrade $http_upgrade;", by_reason["missing_upgrade"]["sentence"])
        self.assertIn("proxy_pass", by_reason["not_found"]["sentence"])
        for entry in rejected["last"]:
            self.assertRegex(entry["peer"], r"^127\.0\.0\.1:\d+$")
            self.assertGreater(entry["time_ms"], 1_700_000_000_000)

    def test_live_statistics_through_the_hub(self):
        async def go():
            answer = await asyncio.to_thread(self.api.post, "/admin/api/token", {})
            self.assertEqual(answer.status, 200, answer)
            self.assertEqual(answer.json["channel"], "$admin:stats")
            admin = await HubClient.open(self.server, token=answer.json["token"])
            self.assertEqual(admin.connected["t"], "ok", admin.connected)
            await admin.ok("subscribe", ch="$admin:stats")
            first = await admin.push("pub", timeout=5)
            second = await admin.push("pub", timeout=5)
            self.assertEqual(first["ch"], "$admin:stats")
            self.assertEqual(second["off"], first["off"] + 1)
            self.assertGreaterEqual(second["data"]["ts"] - first["data"]["ts"], 900)
            self.assertGreaterEqual(first["data"]["hub"]["connected"], 1)
            self.assertEqual(first["data"]["inbox"], {"available": True, "pending": 0, "devices_with_pending": 0,
                                                      "sent": 0, "delivered": 0, "acked": 0, "expired": 0})
            self.assertTrue(first["data"]["live"]["available"])
            self.assertEqual(first["data"]["live"]["port"], self.server.port)
            refused = await admin.request("publish", ch="$admin:stats", data={})
            self.assertEqual((refused["t"], refused["code"]), ("err", 103), refused)
            # A token a backend gives its users with a wildcard does not reach $admin:.
            user = await HubClient.open(self.server, user="mallory", channels=["*", "$admin:*"])
            denied = await user.request("subscribe", ch="$admin:stats")
            self.assertEqual((denied["t"], denied["code"]), ("err", 103), denied)
            await user.ok("subscribe", ch="anything")
            backend = await asyncio.to_thread(self.api.post, "/api/publish",
                                              {"channel": "$admin:stats", "data": {}})
            self.assertEqual((backend.status, backend.error_code), (403, 103), backend)
        run(go())

    def test_statistics_need_no_admin_request_to_start(self):
        # A token the page holds from before (its SDK reconnecting, or a server restarted under
        # it) gets the statistics although no admin endpoint was asked for anything.
        async def go():
            held = await HubClient.open(self.server, user="wshub-admin", channels=["$admin:stats"])
            await held.ok("subscribe", ch="$admin:stats")
            pub = await held.push("pub", timeout=5)
            self.assertEqual(pub["ch"], "$admin:stats")
            self.assertEqual(pub["data"]["hub"]["subscriptions"], 2)  # with $user:wshub-admin
        run(go())

    def test_the_inbox_section_counts_what_devices_have_not_acknowledged(self):
        # Real counts from the store: two messages for one device and one for another are
        # pending on two devices; once the first device acks both, one is left, on one device.
        def inbox_state():
            answer = self.api.get("/admin/api/state")
            self.assertEqual(answer.status, 200, answer)
            return answer.json["inbox"]

        for device, n in (("kiosk-1", 1), ("kiosk-1", 2), ("kiosk-2", 3)):
            sent = self.api.post("/api/send", {"device": device, "data": {"n": n}})
            self.assertEqual(sent.status, 200, sent)
        self.assertEqual(inbox_state(), {"available": True, "pending": 3, "devices_with_pending": 2,
                                         "sent": 3, "delivered": 0, "acked": 0, "expired": 0})

        async def go():
            kiosk = await HubClient.open(self.server, user="kiosk", device="kiosk-1", inbox={})
            self.assertEqual(kiosk.connected["inbox"]["pending"], 2, kiosk.connected)
            self.assertEqual([(await kiosk.push("msg"))["seq"] for _ in range(2)], [1, 2])
            await kiosk.ws.send('{"t":"ack","upto":2}')
            await kiosk.ok("ping")
        run(go())
        wait_until(lambda: inbox_state()["acked"] == 2, what="the ack counted")
        self.assertEqual(inbox_state(), {"available": True, "pending": 1, "devices_with_pending": 1,
                                         "sent": 3, "delivered": 2, "acked": 2, "expired": 0})


class AdminWebhooks(unittest.TestCase):

    def test_a_backend_that_is_down_shows_with_its_breaker(self):
        hook = {"url": f"http://127.0.0.1:{proxy_harness.free_port()}/hook", "events": ["rpc"],
                "timeout_ms": 2000, "breaker_failure_threshold": 1, "breaker_open_ms": 60000}
        server = start_server(self, make_config(webhooks=[hook]))
        api = ApiClient(server.api_port)
        self.addCleanup(api.close)
        before = api.get("/admin/api/state").json["webhooks"]
        self.assertEqual([(w["endpoint"], w["breaker"], w["failures"]) for w in before],
                         [("backend", "closed", 0)])

        async def go():
            client = await HubClient.open(server, user="alice")
            answer = await client.request("rpc", m="anything", data={})
            self.assertEqual((answer["t"], answer["code"]), ("err", 116), answer)
        run(go())
        webhook = api.get("/admin/api/state").json["webhooks"][0]
        self.assertEqual((webhook["breaker"], webhook["failures"], webhook["calls"]["connect_failed"]),
                         ("open", 1, 1), webhook)


class AdminTls(proxy_harness.TempDirCase):

    def test_a_client_refusing_the_certificate_shows_with_its_diagnosis(self):
        _, cert, key = self.certs("127.0.0.1")
        api_port = proxy_harness.free_port()
        server = self.wshub(f"""
[api]
listen = "127.0.0.1:{api_port}"
key = "api-integ-key"
[[listen]]
address = "127.0.0.1:0"
tls = {{ cert = "{cert}", key = "{key}" }}
""")
        # A client that does not trust the development CA: it refuses the certificate with
        # an alert, as a browser or a mini-program would.
        with socket.create_connection(("127.0.0.1", server.ports["wss"][0]), timeout=10) as raw:
            with self.assertRaises(ssl.SSLCertVerificationError):
                ssl.create_default_context().wrap_socket(raw, server_hostname="127.0.0.1")
        api = ApiClient(api_port)
        self.addCleanup(api.close)
        entry = wait_until(lambda: next(iter(api.get("/admin/api/state").json["rejected"]["last"]), None),
                           10, "the TLS failure in the admin state")
        self.assertEqual((entry["reason"], entry["status"], entry["request"]),
                         ("certificate_rejected", 0, "TLS handshake"), entry)
        self.assertIn("The client rejected the server certificate", entry["sentence"])
        self.assertIn("subjectAltName", entry["sentence"])


class AdminOff(unittest.TestCase):

    def test_admin_false_removes_the_page(self):
        server = start_server(self, make_config(api={"admin": False}))
        api = ApiClient(server.api_port)
        self.addCleanup(api.close)
        self.assertEqual(api.get("/admin").status, 404)
        self.assertEqual(api.get("/admin", key=None).status, 401)
        self.assertNotIn("admin page", server.log())


if __name__ == "__main__":
    if "--wshub" in sys.argv:  # proxy_harness finds the binary through the environment
        os.environ["WSHUB_BIN"] = sys.argv[sys.argv.index("--wshub") + 1]
    main()
