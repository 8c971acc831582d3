#!/usr/bin/python3
# The process around the protocol: SIGTERM/SIGINT close every client with 1001 and exit 0
# within limits.shutdown_grace_ms; `check-config` and --config report FILE:LINE:COLUMN and the
# key; --version prints the project's version.

import asyncio
import os
import re
import signal
import socket
import subprocess
import tempfile
import unittest

import websockets
from websockets.exceptions import ConnectionClosed

from wshubtest import harness
from wshubtest.harness import client_frame, read_head, read_server_frame, upgrade_request

SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class GracefulShutdown(unittest.TestCase):

    def start(self, config=None):
        server = harness.Wshub(config=config)
        self.addCleanup(server.close)
        server.start()
        return server

    def assert_exits_zero(self, server, timeout):
        try:
            code = server.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.fail(f"wshub still running {timeout}s after the signal; log:\n{server.log()}")
        self.assertEqual(code, 0, server.log())
        self.assertIsNotNone(server.wait_for_log(r"\bstopped\b", timeout=1), server.log())

    def close_on_signal(self, signal_number):
        server = self.start()

        async def go():
            echo = await websockets.connect(server.url("/echo"), compression=None)
            login = await websockets.connect(server.url("/login"), compression=None)
            await echo.send("before shutdown")
            self.assertEqual(await echo.recv(), "before shutdown")
            await login.send("hi")
            self.assertEqual(await login.recv(), "reply")
            server.process.send_signal(signal_number)
            for ws in (echo, login):
                with self.assertRaises(ConnectionClosed):
                    await asyncio.wait_for(ws.recv(), 20)
                await asyncio.wait_for(ws.wait_closed(), 20)
                self.assertEqual(ws.close_code, 1001, f"close code seen by {ws.path}")
        asyncio.run(asyncio.wait_for(go(), 60))
        # The clients answered the 1001 at once, so the default 5 s grace is not used up.
        self.assert_exits_zero(server, timeout=20)

    def test_sigterm_closes_clients_with_1001_and_exits_0(self):
        self.close_on_signal(signal.SIGTERM)

    def test_sigint_closes_clients_with_1001_and_exits_0(self):
        self.close_on_signal(signal.SIGINT)

    def test_a_client_that_never_answers_the_close_cannot_hold_shutdown_past_the_grace(self):
        # close_timeout_ms is far above the grace: only the grace period can end this wait.
        server = self.start("[limits]\nshutdown_grace_ms = 1000\nclose_timeout_ms = 600000\n")
        with harness.connect(server.port, timeout=20) as silent, \
                harness.connect(server.port, timeout=20) as half_head:
            silent.sendall(upgrade_request() + client_frame(0x1, b"hello"))
            _, _, rest = read_head(silent).partition(b"\r\n\r\n")
            self.assertEqual(read_server_frame(silent, rest)[:3], (True, 0x1, b"hello"))
            half_head.sendall(b"GET /echo HTTP/1.1\r\nHost: x\r\n")  # never finished

            server.process.send_signal(signal.SIGTERM)
            fin, opcode, payload, _ = read_server_frame(silent)
            self.assertEqual(opcode, 0x8)
            self.assertEqual(int.from_bytes(payload[:2], "big"), 1001)
            # The listener is closed before clients are told: nobody new gets in.
            with self.assertRaises(OSError):
                with socket.create_connection(("127.0.0.1", server.port), timeout=5) as late:
                    late.sendall(upgrade_request())
                    if not late.recv(1):
                        raise ConnectionResetError("closed without an answer")
            # A connection still in its HTTP head is dropped, not answered.
            self.assertEqual(harness.read_until_close(half_head), b"")
            # `silent` neither answers nor closes; the server must give up after the grace.
            self.assert_exits_zero(server, timeout=30)
            self.assertEqual(harness.read_until_close(silent), b"")


def run_wshub(*args, timeout=30):
    return subprocess.run([harness.wshub_binary(), *args], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


class ConfigErrors(unittest.TestCase):

    def write(self, text):
        directory = tempfile.TemporaryDirectory(prefix="wshub-config-")
        self.addCleanup(directory.cleanup)
        path = os.path.join(directory.name, "wshub.toml")
        with open(path, "w") as f:
            f.write(text)
        return path

    def assert_config_error(self, text, line, columns, key, message):
        """check-config and --config both print FILE:LINE:COLUMN: KEY: MESSAGE and exit 1."""
        path = self.write(text)
        column_pattern = "|".join(str(c) for c in columns)
        expected = (rf"^{re.escape(path)}:{line}:(?:{column_pattern}): "
                    + (rf"{re.escape(key)}: " if key else "") + message)
        checked = run_wshub("check-config", path)
        self.assertEqual(checked.returncode, 1, checked)
        self.assertRegex(checked.stderr.strip(), expected)
        self.assertNotIn("ok", checked.stdout)
        served = run_wshub("--config", path, "--listen", "127.0.0.1:0", "--threads", "1")
        self.assertEqual(served.returncode, 1, served)
        self.assertRegex(served.stderr.strip(), expected)
        self.assertNotIn("listening on", served.stderr)

    def test_unknown_key(self):
        # Column 1 names the key, column 11 its value; either points the reader at the typo.
        self.assert_config_error("[server]\nthreads = 2\nthraeds = 4\n", 3, [1, 11],
                                 "server.thraeds", r"unknown key.*\bthreads\b")

    def test_wrong_type(self):
        self.assert_config_error("[server]\nthreads = 2\n\n[limits]\nmax_head_bytes = true\n",
                                 5, [18], "limits.max_head_bytes",
                                 r'expected a whole number of bytes or a size such as "16MiB"$')
        # A thread count is not a size.
        self.assert_config_error('[server]\nthreads = "many"\n', 2, [11], "server.threads",
                                 "expected a whole number$")
        self.assert_config_error('[[route]]\npath = "/echo"\nhandler = "ech0"\n', 3, [11],
                                 "route.handler", r'expected "echo"')
        self.assert_config_error('[[route]]\npath = "/a"\nallowed_origins = "https://a.example"\n',
                                 3, [19], "route.allowed_origins", "expected a list of strings")

    def test_toml_syntax_error(self):
        # A syntax error has no key yet: FILE:LINE:COLUMN: what the TOML parser expected.
        self.assert_config_error("[server]\nthreads = 2\n[limits\nmax_head_bytes = 1\n", 3, [8],
                                 None, r".*expected '\]'")

    def test_valid_file_is_ok(self):
        path = self.write('[server]\nthreads = 2\nlog_level = "debug"\n\n[limits]\n'
                          'max_frame_bytes = "1MiB"\nmax_message_bytes = "32MiB"\n\n'
                          '[[route]]\npath = "/chat"\nsubprotocols = ["chat.v1"]\n\n'
                          '[[route]]\npath = "/login"\nhandler = "reply"\n')
        checked = run_wshub("check-config", path)
        self.assertEqual(checked.returncode, 0, checked)
        self.assertIn(f"{path}: ok", checked.stdout)
        self.assertIn("2 routes", checked.stdout)
        self.assertEqual(checked.stderr, "")

    def test_a_missing_certificate_file_is_reported_at_its_line(self):
        path = self.write('[[listen]]\naddress = "127.0.0.1:0"\n'
                          'tls = { cert = "tls/cert.pem", key = "tls/key.pem" }\n')
        expected = (f"{path}:3:16: listen.tls.cert: cannot open "
                    f"{os.path.dirname(path)}/tls/cert.pem: No such file or directory")
        checked = run_wshub("check-config", path)
        self.assertEqual(checked.returncode, 1, checked)
        self.assertEqual(checked.stderr.strip(), expected)
        served = run_wshub("--config", path, "--threads", "1")
        self.assertEqual(served.returncode, 1, served)
        self.assertEqual(served.stderr.strip(), expected)

    def test_keys_reference(self):
        result = run_wshub("check-config", "--keys")
        self.assertEqual(result.returncode, 0, result)
        self.assertIn("## `[server]`", result.stdout)
        self.assertIn("| `threads` | count, 0–1024 | `0 (one per core)` |", result.stdout)
        self.assertIn("## `[[listen.tls.sni]]`", result.stdout)
        self.assertIn("| `max_frame_bytes` | size, 0–1024GiB | `16MiB` |", result.stdout)
        neither = run_wshub("check-config")
        self.assertEqual(neither.returncode, 2, neither)
        self.assertIn("give the config FILE to check, or --keys", neither.stderr)

    def test_missing_file(self):
        checked = run_wshub("check-config", "/nonexistent/wshub.toml")
        self.assertEqual(checked.returncode, 1, checked)
        self.assertIn("/nonexistent/wshub.toml", checked.stderr)

    def test_version(self):
        with open(os.path.join(SOURCE_ROOT, "CMakeLists.txt")) as f:
            version = re.search(r"project\(wshub VERSION ([0-9.]+)", f.read()).group(1)
        result = run_wshub("--version")
        self.assertEqual(result.returncode, 0, result)
        self.assertEqual(result.stdout.strip(), f"wshub {version}")


class CertSnippet(unittest.TestCase):
    """`wshub cert` prints a [[listen]] snippet that pastes into a config as it is."""

    def test_snippet_pastes_into_a_config_in_another_directory(self):
        directory = tempfile.TemporaryDirectory(prefix="wshub-cert-")
        self.addCleanup(directory.cleanup)
        work = os.path.join(directory.name, "work")
        config_dir = os.path.join(directory.name, "etc")
        os.mkdir(work)
        os.mkdir(config_dir)
        # A relative --out: the snippet must not be relative to this directory.
        made = subprocess.run([harness.wshub_binary(), "cert", "--host", "localhost",
                               "--host", "127.0.0.1", "--host", "::1", "--out", "tls"],
                              capture_output=True, text=True, timeout=60, cwd=work,
                              stdin=subprocess.DEVNULL)
        self.assertEqual(made.returncode, 0, made)
        snippet = made.stdout[made.stdout.index("[[listen]]"):]
        tls_dir = os.path.join(work, "tls")
        self.assertEqual(snippet, '[[listen]]\naddress = "0.0.0.0:8443"\n'
                                  f'tls = {{ cert = "{tls_dir}/cert.pem", '
                                  f'key = "{tls_dir}/key.pem" }}\n')
        path = os.path.join(config_dir, "wshub.toml")
        with open(path, "w") as f:
            f.write(snippet)
        checked = run_wshub("check-config", path)
        self.assertEqual(checked.returncode, 0, checked)
        self.assertIn(f"{path}: ok (1 listeners", checked.stdout)
        # The summary names every subjectAltName, addresses included.
        self.assertRegex(checked.stdout, r"0\.0\.0\.0:8443: TLS .*/tls/cert\.pem \(CN=localhost, "
                                         r"DNS:localhost, IP:127\.0\.0\.1, IP:::1, expires ")


if __name__ == "__main__":
    harness.main()
