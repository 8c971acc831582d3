#!/usr/bin/python3
# Slowloris against the real binary, on both I/O backends: 10,000 connections from eight
# loopback addresses each send a request head one byte per second. With
# limits.handshake_timeout_ms = 3000 every one is answered 408 and closed at the timeout (not
# before), counted at /health (limits.handshake_timeout == 10,000) and logged (rate-limited,
# naming the peer); a well-behaved client is served again and again throughout; the server's
# peak RSS stays far below what buffering a head per connection would cost; and afterwards no
# connection is left.

import collections
import errno
import re
import select
import socket
import threading
import time

from wshubtest import hardening
from wshubtest.hardening import HardeningCase, HttpResponse, source_socket

CONNECTIONS = 10000
SOURCES = [f"127.0.0.{160 + i}" for i in range(8)]
TIMEOUT_MS = 3000
HEAD = (b"GET /echo HTTP/1.1\r\nHost: slow.example\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")


class SlowClient:
    __slots__ = ("sock", "connected_at", "sent", "received", "answered_at", "done", "peer")

    def __init__(self, sock):
        self.sock = sock
        self.connected_at = None
        self.sent = 0
        self.received = b""
        self.answered_at = None
        self.done = False
        self.peer = None


class Slowloris:
    """Opens the connections in batches, then sends each one byte of HEAD per second until
    the server answers and closes; reads answers as they come. Runs on one thread with epoll
    over non-blocking sockets."""

    def __init__(self, port, count, deadline_seconds=90):
        self.port = port
        self.count = count
        self.deadline = time.monotonic() + deadline_seconds
        self.clients = {}
        self.poll = select.epoll()
        self.due = collections.deque()  # (time, client), in time order: every step is 1 s
        self.finished = 0
        self.connect_failures = 0

    def run(self):
        try:
            for first in range(0, self.count, 500):
                self.connect_batch(min(500, self.count - first))
            while self.finished < len(self.clients) and time.monotonic() < self.deadline:
                self.step(0.05)
        finally:
            for client in self.clients.values():
                if not client.done:
                    client.sock.close()
            self.poll.close()

    def connect_batch(self, n):
        pending = {}
        for i in range(n):
            sock = source_socket(SOURCES[(len(self.clients) + i) % len(SOURCES)], blocking=False)
            code = sock.connect_ex(("127.0.0.1", self.port))
            if code not in (0, errno.EINPROGRESS):
                sock.close()
                self.connect_failures += 1
                continue
            pending[sock.fileno()] = SlowClient(sock)
            self.poll.register(sock.fileno(), select.EPOLLOUT)
        deadline = time.monotonic() + 30
        while pending and time.monotonic() < deadline:
            for fd, events in self.poll.poll(0.05):
                if fd in pending:
                    client = pending.pop(fd)
                    if client.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                        self.poll.unregister(fd)
                        client.sock.close()
                        self.connect_failures += 1
                        continue
                    client.connected_at = time.monotonic()
                    client.peer = "%s:%d" % client.sock.getsockname()
                    self.poll.modify(fd, select.EPOLLIN)
                    self.clients[fd] = client
                    self.send_byte(client)
                else:
                    self.on_readable(fd)
            self.send_due()
        for client in pending.values():
            self.poll.unregister(client.sock.fileno())
            client.sock.close()
            self.connect_failures += 1

    def send_byte(self, client):
        if client.done or client.sent >= len(HEAD) - 1:  # never the last byte
            return
        try:
            client.sock.send(HEAD[client.sent:client.sent + 1])
            client.sent += 1
        except (BlockingIOError, BrokenPipeError, ConnectionResetError):
            return
        self.due.append((time.monotonic() + 1.0, client))

    def send_due(self):
        now = time.monotonic()
        while self.due and self.due[0][0] <= now:
            self.send_byte(self.due.popleft()[1])

    def on_readable(self, fd):
        client = self.clients.get(fd)
        if client is None or client.done:
            return
        try:
            chunk = client.sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        except BlockingIOError:
            return
        if chunk:
            client.received += chunk
            if client.answered_at is None and b"\r\n\r\n" in client.received:
                client.answered_at = time.monotonic()
            return
        # The server closed: we close too, which lets it release the connection.
        client.done = True
        self.finished += 1
        self.poll.unregister(fd)
        client.sock.close()

    def step(self, timeout):
        for fd, events in self.poll.poll(timeout):
            self.on_readable(fd)
        self.send_due()


class SlowlorisTest:
    def test_10000_slow_heads_are_cut_at_the_handshake_timeout(self):
        server = self.start_server(f"[limits]\nhandshake_timeout_ms = {TIMEOUT_MS}\n",
                                   measures_memory=True)
        hardening.probe_echo(server.port)
        rss_before = server.rss_kib()
        server.reset_peak_rss()

        attack = Slowloris(server.port, CONNECTIONS)
        failure = []

        def run():
            try:
                attack.run()
            except Exception as e:
                failure.append(e)

        thread = threading.Thread(target=run)
        started = time.monotonic()
        thread.start()
        probes = []
        try:
            # A good client, again and again, for as long as the attack lasts.
            while thread.is_alive():
                probes.append(self.assert_good_client_served(server))
                time.sleep(0.25)
        finally:
            thread.join()
        if failure:
            raise failure[0]
        elapsed = time.monotonic() - started
        growth = server.peak_rss_kib() - rss_before

        clients = list(attack.clients.values())
        self.assertEqual(attack.connect_failures, 0)
        self.assertEqual(len(clients), CONNECTIONS)
        statuses = collections.Counter(
            HttpResponse(c.received).status if b"\r\n\r\n" in c.received else None
            for c in clients)
        cut_after = sorted(c.answered_at - c.connected_at for c in clients if c.answered_at)
        hardening.note(
            f"slowloris ({server.backend()}): {CONNECTIONS} connections in {elapsed:.1f} s; "
            f"answers {dict(statuses)}; cut after {cut_after[0]:.2f} s (first), "
            f"{cut_after[len(cut_after) // 2]:.2f} s (median), {cut_after[-1]:.2f} s (last); "
            f"{len(probes)} good clients, slowest {max(probes) * 1000:.0f} ms; peak RSS growth "
            f"{growth} KiB; bytes sent per slow client up to {max(c.sent for c in clients)}")
        self.assertEqual(statuses, {408: CONNECTIONS})
        self.assertTrue(all(c.done for c in clients), "some slow clients were never closed")
        # Cut at the timeout, not before: the server's timer runs from accept (after our
        # connect) and ticks every 100 ms.
        self.assertGreaterEqual(cut_after[0], TIMEOUT_MS / 1000 - 0.15)
        self.assertGreater(len(probes), 3)

        health, ok = server.wait_health(
            lambda h: h["counters"]["limits"].get("handshake_timeout") == CONNECTIONS
            and hardening.others(h) == 0, timeout=30)
        self.assertTrue(ok, f"handshake_timeout count or connections off: {health}")
        peers = {c.peer for c in clients}
        line = self.assert_log_line(server, rf"127\.0\.0\.1[67]\d:\d+ handshake timeout: no "
                                            rf"complete request head within {TIMEOUT_MS} ms")
        self.assertIn(line.split(" handshake timeout")[0].split()[-1], peers)
        # The log is rate-limited (20 lines a second): the first line written in a new second
        # says how many were left out before it, and once a second the server also reports what
        # it left out on its own line. Written plus left out is every timeout.
        time.sleep(1.1)
        hardening.http_request(server.port, b"BAD\r\n\r\n")
        self.assert_log_line(server, r"bad request head: ")
        log = server.log()
        written = log.count(" handshake timeout: ")
        left_out = sum(int(n) for n in re.findall(r"\((\d+) similar lines suppressed\)", log))
        left_out += sum(int(n) for n in re.findall(r" (\d+) more peer-error lines suppressed ", log))
        hardening.note(f"log: {written} timeout lines written, {left_out} left out")
        self.assertEqual(written + left_out, CONNECTIONS)
        # Each slow connection holds a few bytes of head; 40 MiB is 4 KiB per connection, half of
        # what holding a max_head_bytes (8 KiB) buffer per connection would cost.
        self.assertLess(growth, 40 * 1024, f"peak RSS grew by {growth} KiB")
        self.assert_good_client_served(server)


class SlowlorisIoUring(SlowlorisTest, HardeningCase):
    io = "io_uring"


class SlowlorisEpoll(SlowlorisTest, HardeningCase):
    io = "epoll"


if __name__ == "__main__":
    hardening.main()
