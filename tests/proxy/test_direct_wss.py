# wss:// served by wshub itself: SNI with two names, certificate reload under live connections
# (SIGHUP and file change), a broken file refused with the old certificate kept, session
# resumption, TLS failures named in the log, the TLS handshake timeout, and trusted proxies.

import asyncio
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
import warnings

import websockets

from wshubtest import proxy_harness as h


def tls_config(cert, key, sni=""):
    return f"""
[server]
log_level = "debug"
[limits]
handshake_timeout_ms = 1000
[[listen]]
address = "127.0.0.1:0"
tls = {{ cert = "{cert}", key = "{key}"{sni} }}
[[listen]]
address = "127.0.0.1:0"
"""


def context_trusting(*cas):
    context = ssl.create_default_context()
    for ca in cas:
        context.load_verify_locations(ca)
    return context


def peer_certificate(port, context, name):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname=name) as s:
            return s.getpeercert(), s.getpeercert(binary_form=True), s.version()


def der_of(pem_path):
    with open(pem_path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


class Sni(h.TempDirCase):
    def test_each_name_gets_its_own_certificate(self):
        ca_a, cert_a, key_a = self.certs("a.wshub.test", sub="a")
        ca_b, cert_b, key_b = self.certs("b.wshub.test", sub="b")
        server = self.wshub(tls_config(cert_a, key_a,
                                       f', sni = [ {{ host = "b.wshub.test", cert = "{cert_b}", key = "{key_b}" }} ]'))
        port = server.ports["wss"][0]
        context = context_trusting(ca_a, ca_b)
        info, der, version = peer_certificate(port, context, "a.wshub.test")
        self.assertEqual(info["subjectAltName"], (("DNS", "a.wshub.test"),))
        self.assertEqual(dict(x[0] for x in info["subject"])["commonName"], "a.wshub.test")
        self.assertEqual(der, der_of(cert_a))
        self.assertEqual(version, "TLSv1.3")
        info, der, _ = peer_certificate(port, context, "b.wshub.test")
        self.assertEqual(info["subjectAltName"], (("DNS", "b.wshub.test"),))
        self.assertEqual(der, der_of(cert_b))
        # An unknown name gets the default certificate.
        unverified = h.client_context()
        _, der, _ = peer_certificate(port, unverified, "c.wshub.test")
        self.assertEqual(der, der_of(cert_a))

        async def run():
            for name in ("a.wshub.test", "b.wshub.test"):
                async with websockets.connect(f"wss://127.0.0.1:{port}/echo", ssl=context,
                                              server_hostname=name) as ws:
                    await ws.send(name)
                    self.assertEqual(await ws.recv(), name)
        asyncio.run(run())


class Reload(h.TempDirCase):
    def setUp(self):
        super().setUp()
        self.old_ca, old_cert, old_key = self.certs("test.ws.com", "127.0.0.1", sub="old")
        self.new_ca, self.new_cert, self.new_key = self.certs("test.ws.com", "127.0.0.1", sub="new")
        self.live = os.path.join(self.tmp, "live")
        os.makedirs(self.live)
        self.cert = os.path.join(self.live, "cert.pem")
        self.key = os.path.join(self.live, "key.pem")
        shutil.copy(old_cert, self.cert)
        shutil.copy(old_key, self.key)
        self.old_der = der_of(old_cert)
        self.server = self.wshub(tls_config(self.cert, self.key))
        self.port = self.server.ports["wss"][0]
        self.context = context_trusting(self.old_ca, self.new_ca)

    def served_der(self):
        return peer_certificate(self.port, self.context, "test.ws.com")[1]

    def replace_files(self, cert_text, key_text):
        # As certbot and friends do: write aside, then rename over the live names.
        for path, text in ((self.cert, cert_text), (self.key, key_text)):
            with open(path + ".tmp", "w") as f:
                f.write(text)
            os.replace(path + ".tmp", path)

    def with_live_connection(self, change, expect_der, expect_log):
        async def run():
            async with websockets.connect(f"wss://127.0.0.1:{self.port}/echo", ssl=self.context,
                                          server_hostname="test.ws.com") as ws:
                await ws.send("before")
                self.assertEqual(await ws.recv(), "before")
                change()
                line = await asyncio.get_running_loop().run_in_executor(
                    None, self.server.wait_for_log, expect_log, 10.0)
                self.assertIsNotNone(line, self.server.log())
                self.assertEqual(self.served_der(), expect_der)
                await ws.send("after")  # the old connection keeps working
                self.assertEqual(await ws.recv(), "after")
            self.assertEqual(ws.close_code, 1000)
            return line
        return asyncio.run(run())

    def test_sighup_reload_under_a_live_connection(self):
        self.assertEqual(self.served_der(), self.old_der)
        with open(self.new_cert) as c, open(self.new_key) as k:
            cert_text, key_text = c.read(), k.read()

        def change():
            self.replace_files(cert_text, key_text)
            self.server.send_signal(signal.SIGHUP)
        line = self.with_live_connection(change, der_of(self.new_cert), r"reloaded \(SIGHUP\)")
        self.assertIn("new handshakes use", line)

    def test_changed_files_are_picked_up_without_a_signal(self):
        with open(self.new_cert) as c, open(self.new_key) as k:
            cert_text, key_text = c.read(), k.read()
        self.with_live_connection(lambda: self.replace_files(cert_text, key_text),
                                  der_of(self.new_cert), r"certificate files changed: new handshakes use")

    def test_broken_key_is_refused_and_the_old_certificate_stays(self):
        with open(self.cert) as c:
            cert_text = c.read()

        def change():
            self.replace_files(cert_text, "not a key\n")
            self.server.send_signal(signal.SIGHUP)
        line = self.with_live_connection(change, self.old_der, r"reload \(SIGHUP\) refused")
        self.assertIn(f"{self.key}: not PEM: expected a '-----BEGIN PRIVATE KEY-----' block", line)
        self.assertIn("still serving", line)
        tls = self.server.health()["tls"][0]["counters"]
        self.assertEqual(tls["reload_failures"], 1)

    def test_wrong_key_is_refused_and_the_old_certificate_stays(self):
        with open(self.new_cert) as c, open(self.key) as k:
            cert_text, key_text = c.read(), k.read()

        def change():
            self.replace_files(cert_text, key_text)  # new certificate, old key
            self.server.send_signal(signal.SIGHUP)
        line = self.with_live_connection(change, self.old_der, r"reload \(SIGHUP\) refused")
        self.assertIn(f"{self.key}: the private key does not match the certificate in {self.cert}", line)


class TlsBehaviour(h.TempDirCase):
    def setUp(self):
        super().setUp()
        self.ca, cert, key = self.certs("test.ws.com", "127.0.0.1")
        self.server = self.wshub(tls_config(cert, key))
        self.port = self.server.ports["wss"][0]

    def test_a_ticket_resumes_the_session(self):
        context = context_trusting(self.ca)
        with socket.create_connection(("127.0.0.1", self.port)) as raw:
            with context.wrap_socket(raw, server_hostname="test.ws.com") as s:
                s.sendall(b"GET /health HTTP/1.1\r\nHost: test.ws.com\r\n\r\n")
                h.read_until_close(s)
                session = s.session
        with socket.create_connection(("127.0.0.1", self.port)) as raw:
            with context.wrap_socket(raw, server_hostname="test.ws.com", session=session) as s:
                self.assertTrue(s.session_reused)
                s.sendall(b"GET /health HTTP/1.1\r\nHost: test.ws.com\r\n\r\n")
                self.assertIn(b'"resumed":1', h.read_until_close(s))

    def test_plain_http_on_the_tls_port_is_named(self):
        with socket.create_connection(("127.0.0.1", self.port)) as s:
            s.sendall(h.upgrade_request())
            h.read_until_close(s)
        line = self.server.wait_for_log(r"TLS handshake failed")
        self.assertIn("(plain_http: OpenSSL: http request): The client sent plain HTTP to a TLS "
                      "listener: connect with wss://", line)
        self.assertEqual(self.server.health()["tls"][0]["counters"]["handshake_failures"], {"plain_http": 1})

    def test_a_tls_client_on_the_ws_listener_is_told_which_listener(self):
        ws_port = self.server.ports["ws"][0]
        with socket.create_connection(("127.0.0.1", ws_port), timeout=10) as raw:
            with self.assertRaises((ssl.SSLEOFError, ssl.SSLZeroReturnError, ConnectionResetError)):
                context_trusting(self.ca).wrap_socket(raw, server_hostname="test.ws.com")
        line = self.server.wait_for_log(r"rejected \(tls_client_hello\)")
        self.assertRegex(line, rf"127\.0\.0\.1:\d+ to 127\.0\.0\.1:{ws_port} rejected "
                               r"\(tls_client_hello\): A TLS handshake arrived on a plain ws:// "
                               r"listener; use ws:// or add tls to this \[\[listen\]\] entry\.$")
        health = self.server.health()
        self.assertEqual(health["counters"]["head_errors"], {"tls_client_hello": 1})
        self.assertEqual(health["tls"][0]["counters"]["handshake_failures"], {})
        # The TLS listener beside it still serves TLS clients.
        with h.tls_connect(self.port, self.ca) as s:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: test.ws.com\r\n\r\n")
            self.assertEqual(h.read_http_response(s)[0], 200)

    def test_old_protocol_versions_are_told_with_a_protocol_version_alert(self):
        # The client must learn why (alert 70, protocol_version), not see an unexpected EOF.
        for version in ("TLSv1", "TLSv1_1"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
                # Debian's default security level refuses TLS 1.0 and 1.1 in the client itself.
                context.set_ciphers("DEFAULT@SECLEVEL=0")
                context.minimum_version = context.maximum_version = getattr(ssl.TLSVersion, version)
            with socket.create_connection(("127.0.0.1", self.port), timeout=10) as raw:
                with self.assertRaises(ssl.SSLError) as caught:
                    context.wrap_socket(raw)
            self.assertEqual(caught.exception.reason, "TLSV1_ALERT_PROTOCOL_VERSION", version)
        line = self.server.wait_for_log(r"TLS handshake failed \(unsupported_version")
        self.assertIn("wshub accepts TLS 1.2 and 1.3", line)
        counters = self.server.health()["tls"][0]["counters"]["handshake_failures"]
        self.assertEqual(counters, {"unsupported_version": 2})

    def test_a_client_that_distrusts_the_certificate_and_closes_is_told_once_at_info(self):
        # websockets (asyncio) closes without an alert when it does not trust the certificate.
        async def distrusting_client():
            with self.assertRaises(ssl.SSLCertVerificationError):
                async with websockets.connect(f"wss://127.0.0.1:{self.port}/echo",
                                              ssl=ssl.create_default_context(), server_hostname="test.ws.com"):
                    pass
        for _ in range(3):
            asyncio.run(distrusting_client())
        # A TCP probe that closes before any TLS is debug-level noise only.
        socket.create_connection(("127.0.0.1", self.port)).close()
        line = self.server.wait_for_log(r"^\S+ info .*TLS handshake failed \(closed_after_certificate\)")
        self.assertIn("after it was sent the server certificate and without an alert; the usual cause "
                      "is a client that does not trust the certificate", line)
        self.assertIn("Further closes like this from 127.0.0.1 are logged at debug level for a minute.", line)
        self.assertIsNotNone(self.server.wait_for_log(r"^\S+ debug .*\(closed_in_handshake\)"))
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            counters = self.server.health()["tls"][0]["counters"]["handshake_failures"]
            if counters.get("closed_in_handshake"):
                break
            time.sleep(0.05)
        self.assertEqual(counters, {"closed_after_certificate": 3, "closed_in_handshake": 1})
        levels = [line.split(" ", 2)[1] for line in self.server.log().splitlines() if "TLS handshake failed" in line]
        self.assertEqual(sorted(levels), ["debug", "debug", "debug", "info"])  # one info line in all

    def test_the_handshake_timeout_covers_the_tls_handshake(self):
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", self.port)) as s:
            s.settimeout(5)
            self.assertEqual(s.recv(100), b"")  # closed without a byte: no TLS, no HTTP
        self.assertLess(time.monotonic() - started, 3)
        line = self.server.wait_for_log(r"TLS handshake timeout")
        self.assertIn("not finished within 1000 ms (limits.handshake_timeout_ms)", line)
        counters = self.server.health()["tls"][0]["counters"]["handshake_failures"]
        self.assertEqual(counters, {"handshake_timeout": 1})

    def test_the_help_page_uses_the_scheme_of_the_listener_it_was_reached_on(self):
        visit = b"GET /echo HTTP/1.1\r\nHost: test.ws.com\r\nAccept: text/html\r\n\r\n"
        with h.tls_connect(self.port, self.ca) as s:
            s.sendall(visit)
            status, _, over_tls = h.read_http_response(s)
        self.assertEqual(status, 426)
        self.assertIn('new WebSocket("wss://" + location.host + "/echo")', over_tls)
        with socket.create_connection(("127.0.0.1", self.server.ports["ws"][0]), timeout=10) as s:
            s.sendall(visit)
            status, _, plain = h.read_http_response(s)
        self.assertEqual(status, 426)
        self.assertIn('new WebSocket("ws://" + location.host + "/echo")', plain)
        self.assertNotIn("wss://", plain)

    def test_ws_and_wss_listeners_in_one_process(self):
        async def run():
            async with websockets.connect(f"wss://127.0.0.1:{self.port}/login", ssl=context_trusting(self.ca),
                                          server_hostname="test.ws.com") as ws:
                await ws.send("x")
                self.assertEqual(await ws.recv(), "reply")
            async with websockets.connect(f"ws://127.0.0.1:{self.server.ports['ws'][0]}/login") as ws:
                await ws.send("x")
                self.assertEqual(await ws.recv(), "reply")
        asyncio.run(run())


class StartupChecks(h.TempDirCase):
    def test_a_bad_pair_stops_the_start_and_check_config_names_it(self):
        _, cert, _ = self.certs("test.ws.com", sub="one")
        _, _, other_key = self.certs("other.ws.com", sub="two")
        config = os.path.join(self.tmp, "bad.toml")
        with open(config, "w") as f:
            f.write(tls_config(cert, other_key))
        expected = (f"TLS listener 127.0.0.1:0: {other_key}: the private key does not match the "
                    f"certificate in {cert} (CN=test.ws.com, DNS:test.ws.com)")
        check = subprocess.run([h.wshub_binary(), "check-config", config], capture_output=True, text=True)
        self.assertEqual(check.returncode, 1)
        self.assertIn(expected, check.stderr)
        start = subprocess.run([h.wshub_binary(), "--config", config], capture_output=True, text=True,
                               timeout=30)
        self.assertEqual(start.returncode, 1)
        self.assertIn(expected, start.stderr)


def raw_handshake(port, forwarded=None, real_ip=None, path="/echo"):
    extra = ""
    if forwarded:
        extra += f"X-Forwarded-For: {forwarded}\r\n"
    if real_ip:
        extra += f"X-Real-IP: {real_ip}\r\n"
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(h.upgrade_request(path, extra=extra))
    status, _, body = h.read_http_response(s)
    return s, status, body


class TrustedProxies(h.TempDirCase):
    def start(self, trusted, per_ip=0):
        return self.wshub(f"""
[server]
log_level = "debug"
trusted_proxies = {trusted}
[limits]
max_connections_per_ip = {per_ip}
[[listen]]
address = "127.0.0.1:0"
""")

    def test_forwarded_for_is_honoured_from_a_trusted_peer(self):
        server = self.start('["127.0.0.0/8"]')
        s, status, _ = raw_handshake(server.ports["ws"][0], forwarded="6.6.6.6, 203.0.113.7, 127.0.0.2")
        s.close()
        self.assertEqual(status, 101)
        self.assertRegex(server.wait_for_log("opened /echo"), r"203\.0\.113\.7 via 127\.0\.0\.1:\d+ opened")
        s, status, _ = raw_handshake(server.ports["ws"][0], real_ip="198.51.100.4")
        s.close()
        self.assertRegex(server.wait_for_log("198.51.100.4"), r"198\.51\.100\.4 via 127\.0\.0\.1:\d+ opened")

    def test_forwarded_for_is_ignored_from_an_untrusted_peer(self):
        server = self.start('["10.0.0.0/8"]')
        s, status, _ = raw_handshake(server.ports["ws"][0], forwarded="203.0.113.7", real_ip="203.0.113.8")
        s.close()
        self.assertEqual(status, 101)
        line = server.wait_for_log("opened /echo")
        self.assertRegex(line, r"debug 127\.0\.0\.1:\d+ opened /echo")
        self.assertNotIn("203.0.113", server.log())

    def test_per_ip_limit_applies_to_the_forwarded_client(self):
        server = self.start('["127.0.0.1"]', per_ip=1)
        port = server.ports["ws"][0]
        a, status_a, _ = raw_handshake(port, forwarded="203.0.113.1")
        b, status_b, _ = raw_handshake(port, forwarded="203.0.113.2")  # same proxy, other client
        c, status_c, body_c = raw_handshake(port, forwarded="203.0.113.1")  # same client again
        for s in (a, b, c):
            s.close()
        self.assertEqual((status_a, status_b, status_c), (101, 101, 503))
        self.assertIn("limits.max_connections_per_ip", body_c)
        self.assertRegex(server.wait_for_log("refused"),
                         r"203\.0\.113\.1 via 127\.0\.0\.1:\d+ refused: limits\.max_connections_per_ip \(1\)")
        # Closed connections give their place back: the client may connect again.
        time.sleep(0.3)
        d, status_d, _ = raw_handshake(port, forwarded="203.0.113.1")
        d.close()
        self.assertEqual(status_d, 101)

    def test_untrusted_peers_are_limited_by_their_tcp_address(self):
        server = self.start('[]', per_ip=1)
        port = server.ports["ws"][0]
        a, status_a, _ = raw_handshake(port, forwarded="203.0.113.1")
        b, status_b, _ = raw_handshake(port, forwarded="203.0.113.2")
        a.close()
        b.close()
        self.assertEqual((status_a, status_b), (101, 503))


if __name__ == "__main__":
    h.main()
