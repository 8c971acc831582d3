#!/usr/bin/python3
# Abrupt endings against the real binary, on both I/O backends: clients that half-close
# (shutdown of their write side) or reset (SO_LINGER 0) in the middle of a request head, of a
# frame, of a fragmented message, of the close handshake, with unsent bytes queued for them,
# and broadcast subscribers reset while messages fan out to them. The handshake and close
# timeouts are a minute, so whatever is released within the test was released because the peer
# went away, not by a timer. Afterwards /health shows no connection left, a good client is
# served, and the server exits 0: under the ASan/UBSan build LeakSanitizer runs at exit, so a
# connection, message buffer or write queue not freed fails the test.

import os
import socket
import threading
import time

from wshubtest import hardening
from wshubtest.hardening import (HardeningCase, WsClient, masked_frame, open_socket, reset_close,
                                 upgrade_request)

CONFIG = """
[[route]]
path = "/echo"
handler = "echo"

[[route]]
path = "/broadcast"
handler = "broadcast"

[limits]
handshake_timeout_ms = 60000
close_timeout_ms = 60000
idle_timeout_ms = 120000
ping_interval_ms = 60000
max_buffered_bytes = "16MiB"
"""

SOURCES = [f"127.0.0.{120 + i}" for i in range(4)]


def half_close(sock):
    """Shuts our write side (FIN) and waits for the server to close its side: True when it
    did (EOF or reset) within 10 s, False if it kept the connection."""
    sock.shutdown(socket.SHUT_WR)
    sock.settimeout(10)
    try:
        while sock.recv(1 << 16):
            pass
    except ConnectionResetError:
        pass
    except socket.timeout:
        return False
    finally:
        sock.close()
    return True


def partial_head(port, source):
    sock = open_socket(port, source=source)
    request = upgrade_request("/echo")
    sock.sendall(request[:len(request) // 2])
    return sock


def partial_frame(port, source):
    client = WsClient(port, source=source)
    client.echo(b"warm")
    # A binary frame declaring 1000 bytes; 10 arrive.
    frame = masked_frame(0x2, os.urandom(1000))
    client.send(frame[:4 + 4 + 10])
    return client.sock


def partial_message(port, source):
    client = WsClient(port, source=source)
    # One whole first fragment of 20 KiB (held by the server until the message ends) and the
    # header and a few bytes of the second.
    client.send(masked_frame(0x2, os.urandom(20 * 1024), fin=False))
    second = masked_frame(0x0, os.urandom(5000), fin=True)
    client.send(second[:100])
    return client.sock


UNSENT = b"".join(masked_frame(0x2, b"q" * 4096) for _ in range(2048))


def unsent_bytes(port, source):
    # An echo client that writes 8 MiB and reads nothing, with a small receive buffer. The
    # kernel's socket buffers take about 3 MiB of the echo here (tcp_wmem max is 4 MiB), so
    # several MiB wait in the server's write queue, under the 16 MiB cap of this config.
    client = WsClient(port, source=source, rcvbuf=4096, timeout=30)
    client.send(UNSENT)
    time.sleep(0.05)
    return client.sock


def mid_close(port, source):
    # Our close frame is sent and the server's answer never read.
    client = WsClient(port, source=source)
    client.send_frame(0x8, b"\x03\xe8")
    return client.sock


# name: (how a connection gets to the point where it ends, how many connections)
SCENARIOS = {
    "mid-handshake": (partial_head, 20),
    "mid-frame": (partial_frame, 20),
    "mid-message": (partial_message, 20),
    "with unsent bytes": (unsent_bytes, 5),
    "mid-close": (mid_close, 20),
}


class AbruptEndings:
    def setUp(self):
        self.server = self.start_server(CONFIG)
        hardening.probe_echo(self.server.port)
        self.rss_before = self.server.rss_kib()
        self.server.reset_peak_rss()

    def released(self, what):
        health, ok = self.server.wait_health(lambda h: hardening.others(h) == 0, timeout=15)
        self.assertTrue(ok, f"{what}: connections left: {health}")
        self.assert_good_client_served(self.server)
        return health

    def run_scenarios(self, ending):
        for name, (start, count) in SCENARIOS.items():
            with self.subTest(scenario=name):
                socks = [start(self.server.port, SOURCES[i % len(SOURCES)])
                         for i in range(count)]
                health, ok = self.server.wait_health(lambda h: hardening.others(h) == count)
                self.assertTrue(ok, health)
                results = [ending(sock) for sock in socks]
                if ending is half_close:
                    self.assertEqual(results.count(True), count,
                                     f"{name}: the server kept half-closed connections open")
                self.released(f"{ending.__name__} {name}")
        counters = self.server.health()["counters"]
        # Released because the peers went away, not by a timer or a limit.
        self.assertEqual(counters["limits"], {})
        growth = self.server.rss_kib() - self.rss_before
        hardening.note(f"{ending.__name__} ({self.server.backend()}): "
                       f"{sum(n for _, n in SCENARIOS.values())} connections, RSS growth "
                       f"{growth} KiB after release, "
                       f"{self.server.peak_rss_kib() - self.rss_before} KiB at the peak")
        # Everything was released (ASan's LeakSanitizer checks that at exit); what stays is
        # allocator caches. The five write queues of several MiB are the most that was held at
        # once: 64 MiB is generous. (ASan's quarantine stays on in these tests so that a use
        # after free is caught; it keeps up to 256 MiB of freed blocks, hence the larger bound.)
        bound = 320 * 1024 if self.server.sanitized() else 64 * 1024
        self.assertLess(growth, bound, f"RSS grew by {growth} KiB")

    def test_half_open(self):
        self.run_scenarios(half_close)

    def test_reset(self):
        self.run_scenarios(reset_close)

    def test_subscribers_reset_during_fan_out(self):
        # Subscribers on both workers reset while the publisher's messages fan out to them:
        # deliveries already posted to a worker's mailbox meet connections that are gone.
        publisher = WsClient(self.server.port, path="/broadcast", timeout=30)
        stop = threading.Event()
        received = []

        def drain():
            publisher.sock.settimeout(0.5)
            while not stop.is_set():
                try:
                    if not publisher.sock.recv(1 << 20):
                        break
                except socket.timeout:
                    continue
                received.append(1)

        drainer = threading.Thread(target=drain)
        drainer.start()
        try:
            for round_ in range(10):
                subscribers = [WsClient(self.server.port, path="/broadcast", rcvbuf=4096,
                                        source=SOURCES[i % len(SOURCES)]) for i in range(20)]
                publisher.send(b"".join(masked_frame(0x2, b"f" * 2048) for _ in range(40)))
                for i, subscriber in enumerate(subscribers):
                    if i % 2:
                        reset_close(subscriber.sock)
                    else:
                        half_close(subscriber.sock)
        finally:
            stop.set()
            drainer.join()
        health, ok = self.server.wait_health(lambda h: hardening.others(h) == 1, timeout=15)
        self.assertTrue(ok, f"subscribers left: {health}")
        publisher.close()
        self.released("subscribers reset during fan-out")


class AbruptEndingsIoUring(AbruptEndings, HardeningCase):
    io = "io_uring"


class AbruptEndingsEpoll(AbruptEndings, HardeningCase):
    io = "epoll"


if __name__ == "__main__":
    hardening.main()
