# A real browser: headless Debian Chromium (driven by playwright-core from npm) opens wss://
# once directly against wshub's TLS listener and once through nginx with the shipped
# deploy/nginx/wshub.conf, and from the page: "reply" on /login, a 1 MiB binary message echoed
# identical on /echo, and clean closes with 1000.

import json
import os
import subprocess

from wshubtest import proxy_harness as h

HERE = os.path.dirname(os.path.abspath(__file__))


class Chromium(h.TempDirCase):
    def test_direct_and_through_nginx(self):
        ca, cert, key = self.certs("test.ws.com", "127.0.0.1")
        server = self.wshub(f"""
[server]
log_level = "debug"
trusted_proxies = ["127.0.0.1"]
[[listen]]
address = "127.0.0.1:0"
tls = {{ cert = "{cert}", key = "{key}" }}
[[listen]]
address = "127.0.0.1:0"
""")
        nginx_port = h.free_port()
        self.nginx(h.shipped_nginx_config(server.ports["ws"][0], nginx_port, cert, key), nginx_port)
        direct = f"wss://127.0.0.1:{server.ports['wss'][0]}"
        proxied = f"wss://127.0.0.1:{nginx_port}"
        run = subprocess.run(["node", os.path.join(HERE, "chromium_check.mjs"), direct, proxied],
                             cwd=HERE, capture_output=True, text=True, timeout=180)
        self.assertEqual(run.returncode, 0, f"stdout:\n{run.stdout}\nstderr:\n{run.stderr}")
        results = json.loads(run.stdout.strip().splitlines()[-1])
        for url in (direct, proxied):
            page = results[url]
            with self.subTest(url=url):
                self.assertNotIn("error", page, f"{page}\nwshub log:\n{server.log()}")
                self.assertIn("Chrome/", page["userAgent"])
                self.assertEqual(page["reply"], "reply")
                # wshub answers the page's close(1000, "done") with the same code (RFC 6455 §5.5.1).
                self.assertEqual((page["loginClose"]["code"], page["loginClose"]["wasClean"]), (1000, True))
                self.assertEqual(page["echoLength"], 1 << 20)
                self.assertTrue(page["echoIdentical"])
                self.assertEqual((page["echoClose"]["code"], page["echoClose"]["wasClean"]), (1000, True))
        health = server.health()
        self.assertEqual(health["counters"]["upgrades"], 4)
        self.assertEqual(health["counters"]["handshake_errors"], {})
        self.assertGreaterEqual(health["tls"][0]["counters"]["tls13"], 2)


if __name__ == "__main__":
    h.main()
