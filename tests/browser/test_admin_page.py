# The admin page in a real browser: headless Debian Chromium (playwright-core from npm) logs in
# with the API key, sees the page go live through the hub, sees a hub client's connection
# appear, publishes from the form and sees the published counter move and the client receive
# it, sees the inbox section count two messages queued for a device, gets the send form's
# refusal (a user with no device), and finds the rejected handshake this test provoked (an HTTP/1.0
# upgrade without Upgrade and Connection, as an nginx without 'proxy_http_version 1.1' sends)
# with its diagnosis. Screenshots go to the directory given with --shots (the build tree's
# tests/browser/admin-screenshots).

import json
import os
import socket
import subprocess
import sys

from wshubtest import api_support as s
from wshubtest import harness

HERE = os.path.dirname(os.path.abspath(__file__))

SHOTS = None


def check_page(case, server, client_token, shots, mode):
    """Runs admin_check.mjs against `server`; returns what the page saw and a context string
    for failures."""
    admin_url = f"http://127.0.0.1:{server.api_port}/admin"
    hub_url = f"ws://127.0.0.1:{server.port}/hub"
    run = subprocess.run(
        ["node", os.path.join(HERE, "admin_check.mjs"), admin_url, s.API_KEY, hub_url,
         client_token, shots, mode],
        cwd=HERE, capture_output=True, text=True, timeout=240)
    case.assertEqual(run.returncode, 0, f"stdout:\n{run.stdout}\nstderr:\n{run.stderr}")
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    context = f"\npage saw: {json.dumps(seen, indent=1)}\nwshub log:\n{server.log()}"
    case.assertNotIn("error", seen, context)
    return seen, context


class AdminPage(s.unittest.TestCase):
    def test_login_live_connection_publish(self):
        server = s.start_server(self, s.make_config())
        assets = s.ApiClient(server.api_port)
        self.addCleanup(assets.close)
        sdk = assets.get("/admin/assets/wshub.js", key=None)
        if b"WshubPlaceholder" in sdk.body:
            self.skipTest("this wshub was built without sdk/js/dist/wshub.js (the placeholder is "
                          "embedded), so the page cannot go live: build the SDK and rebuild")
        # The seed's outage: a proxy speaking HTTP/1.0 drops Upgrade; wshub answers 400 and
        # the admin page must show it with the nginx lines to add.
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
            raw.sendall(b"GET /hub HTTP/1.0\r\nHost: x\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                        b"Sec-WebSocket-Version: 13\r\n\r\n")
            answer = raw.recv(4096)
        self.assertTrue(answer.startswith(b"HTTP/1.1 400"), answer)

        # Two messages for one device that never connected: the inbox section counts them.
        for n in (1, 2):
            sent = assets.post("/api/send", {"device": "kiosk-1", "data": {"n": n}})
            self.assertEqual(sent.status, 200, sent)

        seen, context = check_page(self, server, s.mint_token("carol"), SHOTS, "live")

        self.assertEqual(seen["loginStatus"], 401, context)
        self.assertTrue(seen["loginFormShown"], context)
        self.assertEqual(seen["wrongKeyMessage"], "That is not the API key.", context)
        self.assertEqual(seen["afterLoginStatus"], 200, context)
        self.assertEqual(seen["cookie"], {"httpOnly": True, "sameSite": "Strict", "path": "/admin"}, context)
        self.assertFalse(seen["cookieVisibleToScript"], context)

        # Live through the hub with the embedded SDK, not polling.
        self.assertEqual(seen["mode"], "live", context)
        self.assertIn("$admin:stats", seen["modeWhy"], context)
        # The client's connection appears (the admin page's own hub connection was counted
        # before it).
        self.assertGreaterEqual(seen["connectedBefore"], 1, context)
        self.assertGreaterEqual(seen["connectedSeen"], seen["connectedBefore"] + 1, context)
        self.assertGreaterEqual(seen["connectionsSeen"], seen["connectionsBefore"] + 1, context)
        self.assertEqual(seen["newsRow"], ["news", "1", "0", "carol"], context)

        self.assertTrue(seen["publishAnswer"].startswith("200 "), context)
        self.assertEqual(seen["publishedSeen"], seen["publishedBefore"] + 1, context)
        self.assertEqual(seen["clientReceived"], [{"text": "from the admin page"}], context)
        self.assertTrue(seen["inboxText"].startswith(
            "2 unacknowledged on 1 device(s); since start: 2 sent, 0 delivered, 0 acknowledged"), context)
        # The form sends to "alice", who has no device here: the inbox names that.
        self.assertTrue(seen["sendAnswer"].startswith("404 "), context)
        self.assertIn("no device", seen["sendAnswer"], context)

        rejected = [row for row in seen["rejectedRows"] if "http_1_0_dropped_upgrade" in row]
        self.assertEqual(len(rejected), 1, context)
        self.assertIn("GET /hub", rejected[0], context)
        self.assertIn("127.0.0.1:", rejected[0], context)
        # The whole diagnosis, with every nginx line to add.
        self.assertIn("add 'proxy_http_version 1.1;', 'proxy_set_header Upgrade $http_upgrade;' and "
                      "'proxy_set_header Connection \"upgrade\";'", rejected[0], context)
        for shot in ("1-login.png", "2-live.png", "3-client-connected.png", "4-published.png"):
            path = os.path.join(SHOTS, shot)
            self.assertTrue(os.path.getsize(path) > 1000, path)

    def test_polls_when_the_hub_cannot_sign_a_token(self):
        # No [hub.jwt]: anonymous clients only, so the page cannot have a token minted and
        # follows the state by polling; connections and the published counter still show.
        config = s.make_config(jwt_keys=False, hub={"allow_anonymous": True}, namespaces=[
            {"name": "", "subscribe": "anyone", "publish": "subscribers", "presence": True}])
        server = s.start_server(self, config)
        shots = os.path.join(SHOTS, "polling")
        seen, context = check_page(self, server, "", shots, "polling")
        self.assertEqual(seen["mode"], "polling", context)
        self.assertIn("cannot sign tokens", seen["modeWhy"], context)
        self.assertEqual(seen["connectedBefore"], 0, context)
        self.assertEqual(seen["connectedSeen"], 1, context)
        self.assertEqual(seen["newsRow"][:3], ["news", "1", "0"], context)
        self.assertTrue(seen["publishAnswer"].startswith("200 "), context)
        self.assertEqual(seen["publishedSeen"], seen["publishedBefore"] + 1, context)
        self.assertEqual(seen["clientReceived"], [{"text": "from the admin page"}], context)
        self.assertTrue(os.path.getsize(os.path.join(shots, "4-published.png")) > 1000)


if __name__ == "__main__":
    argv = list(sys.argv)
    if "--shots" in argv:
        i = argv.index("--shots")
        SHOTS = argv[i + 1]
        del argv[i:i + 2]
    sys.argv = argv
    harness.main()
