#!/usr/bin/python3
# The connect webhook at the WebSocket upgrade (hub.connect_at_upgrade): the real server holds
# the 101 while a real backend decides from the request's cookies; a refusal is a 403 with the
# backend's message, a backend that never answers a 503 once the handshake timeout passes, and
# an accepted connection's `connect` needs no token.

import asyncio
import hashlib
import hmac
import http.server
import json
import threading
import unittest

import websockets

from wshubtest import harness

SECRET = "webhook-secret-for-the-upgrade-test"


class Backend(http.server.ThreadingHTTPServer):
    """Answers the connect webhook by the session cookie; checks the signature itself."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), BackendHandler)
        self.bodies = []
        self.bad_signatures = 0
        self.release = threading.Event()


class BackendHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        signature = dict(part.split("=", 1) for part in self.headers["X-Wshub-Signature"].split(","))
        expected = hmac.new(SECRET.encode(), signature["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature["v1"]):
            self.server.bad_signatures += 1
        request = json.loads(body)
        self.server.bodies.append(request)
        cookie = request.get("headers", {}).get("Cookie", "")
        if "session=hang" in cookie:
            self.server.release.wait(30)
            return
        if "session=good" in cookie:
            answer = {"result": {"user": "ann", "device": "browser-1"}}
        else:
            answer = {"error": {"code": 4401, "message": "no valid session: log in again"}}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class ConnectAtUpgrade(unittest.TestCase):

    def setUp(self):
        self.backend = Backend()
        thread = threading.Thread(target=self.backend.serve_forever, daemon=True)
        thread.start()
        self.addCleanup(self.backend.server_close)
        self.addCleanup(self.backend.shutdown)
        self.addCleanup(self.backend.release.set)
        config = f"""
[limits]
handshake_timeout_ms = 1500
[hub]
connect_at_upgrade = true
[[webhook]]
name = "backend"
url = "http://127.0.0.1:{self.backend.server_address[1]}/hook"
secret = "{SECRET}"
events = ["connect"]
timeout_ms = 10000
"""
        self.server = harness.Wshub(config=config)
        self.addCleanup(self.server.close)
        self.server.start()
        self.url = f"ws://127.0.0.1:{self.server.port}/hub"

    def test_a_good_session_cookie_connects_without_a_token(self):
        async def client():
            async with websockets.connect(self.url, extra_headers={"Cookie": "session=good"}) as ws:
                await ws.send(json.dumps({"t": "connect", "id": 1}))
                return json.loads(await ws.recv())
        answer = asyncio.run(client())
        self.assertEqual((answer["t"], answer["user"], answer["device"]), ("ok", "ann", "browser-1"))
        self.assertEqual(len(self.backend.bodies), 1)
        self.assertEqual(self.backend.bodies[0]["stage"], "upgrade")
        self.assertEqual(self.backend.bodies[0]["headers"]["Cookie"], "session=good")
        self.assertEqual(self.backend.bad_signatures, 0)

    def test_a_refusal_is_a_403_with_the_backends_message(self):
        with harness.connect(self.server.port) as sock:
            sock.sendall(harness.upgrade_request("/hub", extra=["Cookie: session=stale"]))
            response = harness.HttpResponse(harness.read_until_close(sock))
        self.assertEqual(response.status, 403)
        self.assertEqual(response.text, "no valid session: log in again\n")

    def test_a_backend_that_never_answers_is_a_503_after_the_handshake_timeout(self):
        with harness.connect(self.server.port) as sock:
            sock.settimeout(15)
            sock.sendall(harness.upgrade_request("/hub", extra=["Cookie: session=hang"]))
            response = harness.HttpResponse(harness.read_until_close(sock))
        self.assertEqual(response.status, 503)
        self.assertIn("could not decide on this connection in time", response.text)
        self.assertIsNotNone(self.server.wait_for_log(r"upgrade of /hub refused with 503: its route did not decide"))


if __name__ == "__main__":
    harness.main()
