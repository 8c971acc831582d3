#!/usr/bin/python3
# Connection limits against the real binary: limits.max_connections_per_ip and
# limits.max_connections (503 with Retry-After: 5), limits.max_handshakes_per_second_per_ip
# and limits.max_handshakes_per_second (429 with Retry-After: 1). Each refusal is checked for
# its status, header, sentence, /health counter and log line naming the limit and the peer;
# then a well-behaved client is served (from another address while a per-address limit
# bites, or once a place or the next second is free for the global ones).

import threading
import time

from wshubtest import hardening
from wshubtest.hardening import HttpResponse, WsClient, open_socket
from wshubtest.hardening import read_head, read_until_close, upgrade_request


def refused_at_accept(port, source):
    """Connects from `source` and reads what the server sends before any request: the
    accept-time refusal. Returns (HttpResponse, our 'ip:port')."""
    with open_socket(port, source=source) as sock:
        peer = "%s:%d" % sock.getsockname()
        return HttpResponse(read_until_close(sock)), peer


def try_upgrade(port, source):
    """One upgrade request from `source`. Returns (HttpResponse, socket or None): the socket
    stays open after a 101 so the connection counts, and is closed otherwise."""
    sock = open_socket(port, source=source)
    sock.sendall(upgrade_request("/echo"))
    head = read_head(sock)
    response = HttpResponse(head)
    if response.status == 101:
        return response, sock
    response = HttpResponse(head + read_until_close(sock))
    sock.close()
    return response, None


def wait_for_second_start(margin=0.1):
    """Sleeps until `margin` seconds past the next whole second of CLOCK_MONOTONIC, the clock
    the server's per-second windows count in."""
    now = time.monotonic()
    target = int(now) + 1 + margin
    time.sleep(target - now)
    return int(target)


class PerAddressConnections:
    def test_max_connections_per_ip_is_503_and_counted(self):
        server = self.start_server("[limits]\nmax_connections_per_ip = 5\n")
        held = [WsClient(server.port, source="127.0.0.20") for _ in range(5)]
        try:
            for i in range(3):
                response, peer = refused_at_accept(server.port, "127.0.0.20")
                self.assertEqual(response.status, 503, response.raw[:200])
                self.assertEqual(response.header("retry-after"), "5")
                self.assertIn("connection limit", response.text)
                if i == 0:
                    self.assert_log_line(
                        server, rf"{peer} refused: limits\.max_connections_per_ip \(5\) reached")
            self.assertEqual(server.limit_count("max_connections_per_ip"), 3)
            self.assertNotIn("max_connections", server.health()["counters"]["limits"])
            # Another address is served at once, and the five held connections still work.
            self.assert_good_client_served(server, source="127.0.0.21")
            for client in held:
                client.echo(b"still here")
            # A place freed on the address is taken again.
            held.pop().close()
            health, ok = server.wait_health(lambda h: hardening.others(h) == 4)
            self.assertTrue(ok, health)
            self.assert_good_client_served(server, source="127.0.0.20")
        finally:
            for client in held:
                client.sock.close()

    def test_503_reaches_a_client_that_sent_its_request_first(self):
        # A real client writes its upgrade request as soon as TCP connects, usually before the
        # server accepts, and the accept-time 503 closes the socket with that request unread,
        # which makes the kernel answer with RST (RFC 9112 section 9.6 warns that a reset may
        # erase the response before the client reads it). On Linux the 503 stays readable ahead
        # of the reset; a client that reads 50 ms later, as a busy one would, still gets it.
        server = self.start_server("[limits]\nmax_connections_per_ip = 1\n")
        held = WsClient(server.port, source="127.0.0.22")
        outcomes = {"503": 0, "reset": 0, "other": 0}
        try:
            for _ in range(20):
                with open_socket(server.port, source="127.0.0.22") as sock:
                    sock.sendall(upgrade_request("/echo"))
                    time.sleep(0.05)
                    try:
                        data = read_until_close(sock)
                        outcomes["503" if data.startswith(b"HTTP/1.1 503 ") else "other"] += 1
                    except ConnectionResetError:
                        outcomes["reset"] += 1
        finally:
            held.sock.close()
        hardening.note(f"503 after a request already sent: {outcomes}")
        self.assertEqual(outcomes["503"], 20, f"the 503 was lost: {outcomes}")


class TotalConnections:
    def test_max_connections_is_503_and_counted(self):
        server = self.start_server("[limits]\nmax_connections = 10\n")
        held = [WsClient(server.port, source=f"127.0.0.{30 + i}") for i in range(10)]
        try:
            peers = []
            for i in range(2):
                response, peer = refused_at_accept(server.port, f"127.0.0.{40 + i}")
                peers.append(peer)
                self.assertEqual(response.status, 503, response.raw[:200])
                self.assertEqual(response.header("retry-after"), "5")
                self.assertIn("connection limit", response.text)
            self.assert_log_line(server, rf"{peers[0]} refused: limits\.max_connections \(10\) "
                                         r"reached")
            # At the limit even /health has no place; one held connection leaves, and both
            # /health and a new client get in.
            held.pop().close()
            health, ok = server.wait_health(lambda h: hardening.others(h) == 9)
            self.assertTrue(ok, health)
            self.assertEqual(health["counters"]["limits"].get("max_connections"),
                             2 + server.refused_health_polls)
            self.assertNotIn("max_connections_per_ip", health["counters"]["limits"])
            # The /health connection itself held the tenth place until the server saw it end.
            time.sleep(0.3)
            self.assert_good_client_served(server)
            for client in held:
                client.echo(b"still here")
        finally:
            for client in held:
                client.sock.close()


class HandshakeRatePerAddress:
    def test_handshakes_per_second_per_ip_is_429_and_counted(self):
        server = self.start_server("[limits]\nmax_handshakes_per_second_per_ip = 5\n")
        hardening.probe_echo(server.port)  # first-use costs out of the timed burst
        for attempt in range(3):
            second = wait_for_second_start()
            statuses, refused, opened = [], [], []
            for _ in range(15):
                response, sock = try_upgrade(server.port, "127.0.0.50")
                statuses.append(response.status)
                if sock:
                    opened.append(sock)
                else:
                    refused.append(response)
            # /health is exempt, from the same address in the same second.
            health = hardening.http_request(
                server.port, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n", source="127.0.0.50")
            # Another address is served at once while this one is refused.
            self.assert_good_client_served(server, source="127.0.0.51")
            in_one_second = int(time.monotonic()) == second
            for sock in opened:
                sock.close()
            if in_one_second:
                break
            hardening.note(f"burst {attempt} crossed a second boundary on a busy machine; again")
        self.assertTrue(in_one_second, "three bursts of 15 handshakes each took over 0.9 s")
        self.assertEqual(statuses, [101] * 5 + [429] * 10)
        for response in refused:
            self.assertEqual(response.header("retry-after"), "1")
            self.assertIn("limits.max_handshakes_per_second_per_ip", response.text)
        self.assertEqual(health.status, 200)
        counted = server.limit_count("max_handshakes_per_second_per_ip")
        self.assertEqual(counted, 10 * (attempt + 1))
        self.assert_log_line(server, r"127\.0\.0\.50:\d+ refused with 429: "
                                     r"limits\.max_handshakes_per_second_per_ip \(5 per second\)")
        # The next second the address is admitted again.
        wait_for_second_start()
        self.assert_good_client_served(server, source="127.0.0.50")

    def test_good_client_served_during_a_handshake_storm_from_one_address(self):
        server = self.start_server("[limits]\nmax_handshakes_per_second_per_ip = 5\n")
        stop = threading.Event()
        counts = {101: 0, 429: 0}

        def storm():
            while not stop.is_set():
                response, sock = try_upgrade(server.port, "127.0.0.52")
                counts[response.status] = counts.get(response.status, 0) + 1
                if sock:
                    sock.close()
                time.sleep(0.001)  # hundreds a second: a storm, without starving the machine

        thread = threading.Thread(target=storm)
        storm_started = time.monotonic()
        thread.start()
        try:
            time.sleep(0.5)
            probes = []
            deadline = time.monotonic() + 2.5
            while time.monotonic() < deadline:
                probes.append(self.assert_good_client_served(server, source="127.0.0.53"))
                time.sleep(0.3)  # under 5 a second: the good client keeps to the limit
        finally:
            stop.set()
            thread.join()
        seconds = int(time.monotonic()) - int(storm_started) + 1  # windows the storm touched
        hardening.note(f"storm from one address: {counts}; {len(probes)} good clients, slowest "
                       f"{max(probes) * 1000:.0f} ms")
        self.assertGreater(counts[429], 0)
        self.assertEqual(set(counts), {101, 429})
        self.assertLessEqual(counts[101], 5 * seconds)
        self.assertEqual(server.limit_count("max_handshakes_per_second_per_ip"), counts[429])


class HandshakeRateTotal:
    def test_handshakes_per_second_is_429_and_counted(self):
        server = self.start_server("[limits]\nmax_handshakes_per_second = 10\n")
        hardening.probe_echo(server.port)
        for attempt in range(3):
            second = wait_for_second_start()
            statuses, refused, opened = [], [], []
            for i in range(25):
                response, sock = try_upgrade(server.port, f"127.0.0.{60 + i % 10}")
                statuses.append(response.status)
                if sock:
                    opened.append(sock)
                else:
                    refused.append(response)
            health = hardening.http_request(
                server.port, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n", source="127.0.0.60")
            in_one_second = int(time.monotonic()) == second
            for sock in opened:
                sock.close()
            if in_one_second:
                break
            hardening.note(f"burst {attempt} crossed a second boundary on a busy machine; again")
        self.assertTrue(in_one_second, "three bursts of 25 handshakes each took over 0.9 s")
        self.assertEqual(statuses, [101] * 10 + [429] * 15)
        for response in refused:
            self.assertEqual(response.header("retry-after"), "1")
            self.assertIn("limits.max_handshakes_per_second", response.text)
        self.assertEqual(health.status, 200)  # exempt
        self.assertEqual(server.limit_count("max_handshakes_per_second"), 15 * (attempt + 1))
        self.assertNotIn("max_handshakes_per_second_per_ip", server.health()["counters"]["limits"])
        self.assert_log_line(server, r"127\.0\.0\.6\d:\d+ refused with 429: "
                                     r"limits\.max_handshakes_per_second \(10 per second\)")
        # The next second anyone is served again.
        wait_for_second_start()
        self.assert_good_client_served(server)


hardening.on_both_backends(globals(), PerAddressConnections, TotalConnections,
                           HandshakeRatePerAddress, HandshakeRateTotal)


if __name__ == "__main__":
    hardening.main()
