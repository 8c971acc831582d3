#!/usr/bin/python3
# Headless Chromium (Debian's, driven by playwright-core from tests/browser) with
# permessage-deflate against the real wshub binary, under the default policy (no context
# takeover) and with context takeover and a 12-bit client window: the extension Chromium agreed
# to, byte-exact echoes of JSON reports and a 128 KiB binary message, a clean 1000 close, and a
# broadcast received by two sockets. Skipped when Chromium or playwright-core is missing.

import json
import os
import subprocess
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))

from wshubtest import harness
from wshubtest.harness import server_with

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PLAYWRIGHT = os.path.join(HERE, "..", "browser", "node_modules", "playwright-core")
ROUTES = "[[route]]\npath = \"/echo\"\n[[route]]\npath = \"/broadcast\"\nhandler = \"broadcast\"\n"


@unittest.skipUnless(os.access(CHROMIUM, os.X_OK) and os.path.isdir(PLAYWRIGHT),
                     "needs Debian's chromium and tests/browser/node_modules (npm ci there)")
class ChromiumDeflate(unittest.TestCase):

    def run_page(self, config, threads=1):
        with server_with(config + ROUTES, threads=threads) as server:
            run = subprocess.run(["node", os.path.join(HERE, "chromium_deflate.mjs"),
                                  f"ws://127.0.0.1:{server.port}"],
                                 cwd=HERE, capture_output=True, text=True, timeout=180)
            self.assertEqual(run.returncode, 0, f"stdout:\n{run.stdout}\nstderr:\n{run.stderr}")
            page = json.loads(run.stdout.strip().splitlines()[-1])
            self.assertNotIn("error", page, f"{page}\nwshub log:\n{server.log()}")
            self.assertIn("Chrome/", page["userAgent"])
            self.assertTrue(page["reportsIdentical"])
            self.assertTrue(page["binaryIdentical"])
            self.assertEqual(page["echoClose"], {"code": 1000, "wasClean": True})
            self.assertTrue(page["broadcastIdentical"])
            return page

    def test_default_policy(self):
        # Frames over 64 KiB are refused (1009), so the 128 KiB echo only succeeds when
        # Chromium really compressed it.
        page = self.run_page("[compression]\nenabled = true\n[limits]\nmax_frame_bytes = \"64KiB\"\n",
                             threads=2)
        expected = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
        self.assertEqual(page["extensions"], expected)
        self.assertEqual(page["broadcastExtensions"], [expected, expected])

    def test_context_takeover_with_a_small_client_window(self):
        page = self.run_page("[compression]\nenabled = true\nserver_no_context_takeover = false\n"
                             "client_no_context_takeover = false\nclient_max_window_bits = 12\n")
        # Chromium offers the bare client_max_window_bits, so the server may limit its window.
        self.assertEqual(page["extensions"], "permessage-deflate; client_max_window_bits=12")

    def test_off(self):
        page = self.run_page("")
        self.assertEqual(page["extensions"], "")


if __name__ == "__main__":
    harness.main()
