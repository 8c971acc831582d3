#!/usr/bin/python3
# Floods against the real binary. Pings: at most limits.max_pings_per_second pongs per second
# (the rest withheld and counted), and a client sending more than four times that in one
# second is closed with 1008. Tiny frames: a message in many 1-byte fragments is closed with
# 1008 past limits.max_fragments. Good clients are served while flooders keep at it, and the
# server's RSS stays flat.

import socket
import time

from wshubtest import hardening
from wshubtest.hardening import WsClient, client_frame

CONFIG = """
[limits]
max_pings_per_second = 10
max_fragments = 1000
"""

PING, PONG, TEXT, CONTINUATION = 0x9, 0xA, 0x1, 0x0


def pings(first, count):
    return b"".join(client_frame(PING, b"p%04d" % i) for i in range(first, first + count))


def fragmented(count, first_opcode=TEXT):
    """One message in `count` frames of one byte each: 'a', then continuations, FIN on the last."""
    frames = [client_frame(first_opcode, b"a", fin=(count == 1))]
    frames += [client_frame(CONTINUATION, b"a", fin=(i == count - 1)) for i in range(1, count)]
    return b"".join(frames)


def within_one_second_window(action):
    """Runs action() early in a second of CLOCK_MONOTONIC (the clock of the server's ping
    windows), so bytes written in one go are counted in one window."""
    now = time.monotonic()
    if now - int(now) > 0.5:
        time.sleep(int(now) + 1.05 - now)
    return action()


def flood_while_probing(case, first_source, payload, send_errors):
    """Starts the server, then for 3 s four flooders from 127.0.0.<first_source>.. send
    `payload`, each reconnecting once it is closed, while good clients are probed. Returns the
    flooders' close codes, the probes' times and the server's peak RSS growth in KiB."""
    case.server = case.start_server(CONFIG, measures_memory=True)
    hardening.probe_echo(case.server.port)
    rss_before = case.server.rss_kib()
    case.server.reset_peak_rss()
    closes = []

    def flood(stop):
        while not stop.is_set():
            clients = [WsClient(case.server.port, source=f"127.0.0.{first_source + i}")
                       for i in range(4)]
            for client in clients:
                try:
                    client.send(payload)
                except send_errors:
                    pass
            for client in clients:
                with client:
                    closes.append(client.read_until_close()[0])
            stop.wait(0.01)  # hundreds a second, without starving the machine

    probes = case.assert_served_during(case.server, flood, seconds=3.0)
    return closes, probes, case.server.peak_rss_kib() - rss_before


class PingFlood:
    def setUp(self):
        self.server = self.start_server(CONFIG)

    def test_pongs_are_limited_per_second_then_served_again(self):
        with WsClient(self.server.port) as client:
            # 40 pings (four times the limit) in one write: 10 pongs, 30 withheld, still open.
            within_one_second_window(lambda: client.send(pings(0, 40)))
            client.send_frame(TEXT, b"after the pings")
            frames = []
            while True:
                fin, opcode, payload = client.read_frame()
                if opcode == TEXT:
                    break
                frames.append((opcode, payload))
            self.assertEqual(payload, b"after the pings")
            self.assertEqual(frames, [(PONG, b"p%04d" % i) for i in range(10)])
            self.assertEqual(self.server.limit_count("pongs_withheld"), 30)
            self.assertEqual(self.server.limit_count("ping_flood"), 0)
            # A later second has its own budget.
            time.sleep(1.1)
            within_one_second_window(lambda: client.send(pings(100, 3)))
            self.assertEqual([client.read_frame()[1:] for _ in range(3)],
                             [(PONG, b"p%04d" % i) for i in range(100, 103)])
            client.close()
        self.assert_good_client_served(self.server)

    def test_ping_flood_is_closed_with_1008(self):
        with WsClient(self.server.port) as client:
            peer = "%s:%d" % client.sock.getsockname()
            within_one_second_window(lambda: client.send(pings(0, 100)))
            code, reason, frames = client.read_until_close()
            self.assertEqual(code, 1008, reason)
            self.assertIn("ping flood", reason)
            # Pings 1-10 answered, 11-40 withheld, the 41st closes; nothing after it is read.
            self.assertEqual(frames, [(PONG, b"p%04d" % i) for i in range(10)])
            self.assertTrue(client.eof_after_close())
        self.assertEqual(self.server.limit_count("ping_flood"), 1)
        self.assertEqual(self.server.limit_count("pongs_withheld"), 30)
        self.assert_log_line(self.server, rf"{peer} closed with 1008: more than 40 pings in one "
                                          r"second \(4 x limits\.max_pings_per_second\)")
        self.assert_good_client_served(self.server)

    def test_good_clients_served_while_flooders_ping(self):
        closes, probes, growth = flood_while_probing(self, 70, pings(0, 500),
                                                     (BrokenPipeError, ConnectionResetError))
        hardening.note(f"ping flood: {len(closes)} flooders closed, {len(probes)} good clients "
                       f"(slowest {max(probes) * 1000:.0f} ms), peak RSS growth {growth} KiB")
        self.assertGreater(len(closes), 0)
        self.assertEqual(set(closes), {1008})
        self.assertEqual(self.server.limit_count("ping_flood"), len(closes))
        # A flooder costs a connection and a few hundred bytes of pongs: 8 MiB is generous.
        self.assertLess(growth, 8 * 1024, f"peak RSS grew by {growth} KiB")


class TinyFrameFlood:
    def setUp(self):
        self.server = self.start_server(CONFIG)

    def test_message_at_max_fragments_is_served_one_over_is_1008(self):
        with WsClient(self.server.port) as client:
            client.send(fragmented(1000))
            fin, opcode, payload = client.read_frame()
            self.assertEqual((fin, opcode, payload), (True, TEXT, b"a" * 1000))
            peer = "%s:%d" % client.sock.getsockname()
            try:
                client.send(fragmented(5000))
            except (BrokenPipeError, ConnectionResetError):
                pass
            code, reason, frames = client.read_until_close()
            self.assertEqual(code, 1008, reason)
            self.assertIn("limits.max_fragments", reason)
            self.assertEqual(frames, [])
            self.assertTrue(client.eof_after_close())
        counters = self.server.health()["counters"]
        self.assertEqual(counters["frame_errors"], {"too_many_fragments": 1})
        self.assert_log_line(self.server, rf"{peer} closed with 1008: .*limits\.max_fragments "
                                          r"\(too_many_fragments\)")
        self.assert_good_client_served(self.server)

    def test_good_clients_served_while_fragment_flooders_send(self):
        # 20 times the limit, 140 KB of 7-byte frames
        closes, probes, growth = flood_while_probing(
            self, 80, fragmented(20000), (BrokenPipeError, ConnectionResetError, socket.timeout))
        hardening.note(f"fragment flood: {len(closes)} flooders closed, {len(probes)} good "
                       f"clients (slowest {max(probes) * 1000:.0f} ms), peak RSS growth "
                       f"{growth} KiB")
        self.assertGreater(len(closes), 0)
        self.assertEqual(set(closes), {1008})
        self.assertEqual(self.server.health()["counters"]["frame_errors"],
                         {"too_many_fragments": len(closes)})
        # Each flooder's message is cut at 1000 bytes held: 8 MiB is generous.
        self.assertLess(growth, 8 * 1024, f"peak RSS grew by {growth} KiB")


hardening.on_both_backends(globals(), PingFlood, TinyFrameFlood)


if __name__ == "__main__":
    hardening.main()
