#!/usr/bin/python3
# One address, one server: a second wshub on a port another process listens on refuses to
# start (SO_REUSEPORT would otherwise let it join silently and take half the connections),
# unless share_port / --share-port asks for the overlap; two [[listen]] entries for the same
# address are a config error.

import os
import re
import socket
import subprocess
import tempfile
import unittest

from wshubtest import harness

REFUSED = ("cannot listen on 127.0.0.1:{port}: another process already listens on this "
           "address (a wshub still running?), and sharing it would split the connections "
           "between the two; stop that process or choose another port, or, to share the port "
           "on purpose (a zero-downtime restart), set share_port = true in this [[listen]] or "
           "pass --share-port")


def run_wshub(*args, timeout=30):
    return subprocess.run([harness.wshub_binary(), *args], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


class TakenPort(unittest.TestCase):

    def start(self, **options):
        server = harness.Wshub(**options)
        self.addCleanup(server.close)
        server.start()
        return server

    def write_config(self, text):
        directory = tempfile.TemporaryDirectory(prefix="wshub-ports-")
        self.addCleanup(directory.cleanup)
        path = os.path.join(directory.name, "wshub.toml")
        with open(path, "w") as f:
            f.write(text)
        return path

    def assert_refused(self, port, *args):
        second = run_wshub("--threads", "1", *args)
        self.assertEqual(second.returncode, 1, second)
        self.assertIn(REFUSED.format(port=port), second.stderr)
        self.assertNotIn("listening on", second.stderr)

    def assert_serves(self, port):
        self.assertEqual(harness.http_get(port, "/health").status, 200)

    def test_a_second_server_on_a_taken_port_refuses_to_start(self):
        first = self.start(threads=2)
        self.assert_refused(first.port, "--listen", f"127.0.0.1:{first.port}")
        # The same through a config file, and through a wildcard that covers the address.
        path = self.write_config(f'[[listen]]\naddress = "127.0.0.1:{first.port}"\n')
        self.assert_refused(first.port, "--config", path)
        wildcard = run_wshub("--threads", "1", "--listen", f"0.0.0.0:{first.port}")
        self.assertEqual(wildcard.returncode, 1, wildcard)
        self.assertIn(f"cannot listen on 0.0.0.0:{first.port}: another process already listens",
                      wildcard.stderr)
        self.assert_serves(first.port)

    def test_any_process_with_so_reuseport_counts(self):
        # Not only wshub: a socket of the same user with SO_REUSEPORT is what the kernel would
        # let wshub join without a word.
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other:
            other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            other.bind(("127.0.0.1", 0))
            other.listen(8)
            port = other.getsockname()[1]
            self.assert_refused(port, "--listen", f"127.0.0.1:{port}")

    def test_share_port_lets_a_second_server_take_over(self):
        first = self.start()
        # The config key on the second server: both listen, and the warning says so.
        config = f'[[listen]]\naddress = "127.0.0.1:{first.port}"\nshare_port = true\n'
        second = self.start(config=config, listen=None)
        self.assertEqual(second.port, first.port)
        self.assertIsNotNone(second.wait_for_log(
            rf"127\.0\.0\.1:{first.port}: another process already listens on this address; "
            r"sharing it as share_port asks"), second.log())
        # A zero-downtime restart: stop the old one, the new one keeps serving the port.
        self.assertEqual(first.stop(), 0, first.log())
        for _ in range(8):
            self.assert_serves(first.port)
        self.assertEqual(second.stop(), 0, second.log())

    def test_share_port_flag(self):
        first = self.start()
        second = self.start(listen=f"127.0.0.1:{first.port}", extra_args=["--share-port"])
        self.assertEqual(second.port, first.port)
        self.assertIsNotNone(second.wait_for_log("sharing it as share_port asks"), second.log())

    def test_a_port_left_by_a_stopped_server_is_free(self):
        # The closed connections leave TIME_WAIT sockets on the port (the server closes TCP
        # first); they are not a listener and must not stop the next start.
        first = self.start()
        port = first.port
        for _ in range(3):
            self.assert_serves(port)
        self.assertEqual(first.stop(), 0, first.log())
        again = self.start(listen=f"127.0.0.1:{port}")
        self.assertEqual(again.port, port)
        self.assertIsNone(again.wait_for_log("another process already listens", timeout=0.2), again.log())


class DuplicateAddresses(unittest.TestCase):

    def check(self, text):
        directory = tempfile.TemporaryDirectory(prefix="wshub-ports-")
        self.addCleanup(directory.cleanup)
        path = os.path.join(directory.name, "wshub.toml")
        with open(path, "w") as f:
            f.write(text)
        return path, run_wshub("check-config", path)

    def test_the_same_address_twice_fails_check_config(self):
        path, checked = self.check('[[listen]]\naddress = "127.0.0.1:8077"\n\n'
                                   '[[listen]]\naddress = "127.0.0.1:8077"\n')
        self.assertEqual(checked.returncode, 1, checked)
        self.assertEqual(checked.stderr.strip(),
                         f"{path}:5:11: listen.address: '127.0.0.1:8077' is already listened on "
                         "by the [[listen]] at line 2; list each address once")
        self.assertNotIn("ok", checked.stdout)

    def test_a_wildcard_over_a_specific_address_fails_check_config(self):
        path, checked = self.check('[[listen]]\naddress = "127.0.0.1:8077"\n'
                                   '[[listen]]\naddress = "*:8077"\n')
        self.assertEqual(checked.returncode, 1, checked)
        self.assertRegex(checked.stderr.strip(),
                         rf"^{re.escape(path)}:4:11: listen.address: '\*:8077' overlaps "
                         r"'127\.0\.0\.1:8077' of the \[\[listen\]\] at line 2: a wildcard")

    def test_distinct_ports_and_port_zero_are_fine(self):
        path, checked = self.check('[[listen]]\naddress = "127.0.0.1:0"\n'
                                   '[[listen]]\naddress = "127.0.0.1:0"\n'
                                   '[[listen]]\naddress = "127.0.0.1:8078"\n'
                                   '[[listen]]\naddress = "[::1]:8078"\n')
        self.assertEqual(checked.returncode, 0, checked)
        self.assertIn("ok (4 listeners", checked.stdout)

    def test_the_same_listen_flag_twice(self):
        result = run_wshub("--listen", "127.0.0.1:8077", "--listen", "localhost:8077")
        self.assertEqual(result.returncode, 1, result)
        self.assertEqual(result.stderr.strip(),
                         "--listen localhost:8077: overlaps --listen 127.0.0.1:8077; list each "
                         "address once")


if __name__ == "__main__":
    harness.main()
