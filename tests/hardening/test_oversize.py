#!/usr/bin/python3
# Oversize input against the real binary: a head over limits.max_head_bytes and one with more
# than limits.max_headers fields (431), a frame over limits.max_frame_bytes and a message over
# limits.max_message_bytes across fragments (1009), 64-bit lengths of 2^63-1 (1009) and 2^63
# (1002). Each is answered with its exact status or close code, sentence, counter and log line,
# a good client is served right after, and the server's RSS does not grow with what the peer
# declared: 200 connections declaring a 16 MiB frame cost far less than 200 x 16 MiB.

import os
import struct
import time

from wshubtest import hardening
from wshubtest.hardening import WsClient, upgrade_request

LIMITS = """
[limits]
max_head_bytes = 4096
max_headers = 16
max_frame_bytes = "64KiB"
max_message_bytes = "256KiB"
"""

MASK = b"\x11\x22\x33\x44"


def header_64(opcode, length, fin=True):
    """A masked client frame header with the 64-bit length form, as the test declares it."""
    return bytes([(0x80 if fin else 0) | opcode, 0x80 | 127]) + struct.pack("!Q", length) + MASK


def padded_upgrade(total_size):
    """An upgrade request of exactly `total_size` bytes, padded with one X-Pad header."""
    base = upgrade_request("/echo", extra=["X-Pad: "])
    pad = total_size - len(base)
    assert pad >= 0
    return upgrade_request("/echo", extra=["X-Pad: " + "a" * pad])


def warm_up(server):
    """One echo and one refused frame, so first-use costs (buffers touched, the first log
    line) are in the resting RSS the growth is measured from."""
    hardening.probe_echo(server.port)
    with WsClient(server.port) as client:
        client.send(bytes([0x82, 0x80 | 126, 0, 0]) + MASK)  # non-minimal length: 1002
        client.read_until_close()


class OversizeHeads:
    def setUp(self):
        self.server = self.start_server(LIMITS, measures_memory=True)

    def head_errors(self):
        return self.server.health()["counters"]["head_errors"]

    def test_head_over_max_head_bytes_is_431(self):
        # At the limit the head is served; one byte over, whole or byte by byte, it is not.
        request = padded_upgrade(4096)
        self.assertEqual(len(request), 4096)
        with WsClient(self.server.port, upgrade=False) as client:
            client.send(request)
            response = hardening.HttpResponse(hardening.read_head(client.sock))
            self.assertEqual(response.status, 101, response.text)
        for chunk_size in (None, 1000):
            with self.subTest(chunk_size=chunk_size):
                before = self.head_errors().get("head_too_large", 0)
                request = padded_upgrade(4097)
                with hardening.open_socket(self.server.port) as sock:
                    peer = "%s:%d" % sock.getsockname()
                    chunks = [request] if chunk_size is None else [
                        request[i:i + chunk_size] for i in range(0, len(request), chunk_size)]
                    for chunk in chunks:
                        try:
                            sock.sendall(chunk)
                        except (BrokenPipeError, ConnectionResetError):
                            break
                        time.sleep(0.01 if chunk_size else 0)
                    response = hardening.HttpResponse(hardening.read_until_close(sock))
                self.assertEqual(response.status, 431, response.raw[:200])
                self.assertIn("limits.max_head_bytes", response.text)
                self.assertEqual(self.head_errors().get("head_too_large", 0), before + 1)
                self.assert_log_line(self.server, rf"{peer} bad request head: head_too_large")
        self.assert_good_client_served(self.server)

    def test_endless_head_is_cut_at_the_limit_without_growing(self):
        # 1 MiB of header lines with no end: answered 431 once 4096 bytes are held; the server
        # keeps at most max_head_bytes + 1 of them.
        warm_up(self.server)
        rss_before = self.server.rss_kib()
        self.server.reset_peak_rss()
        with hardening.open_socket(self.server.port) as sock:
            sock.sendall(b"GET /echo HTTP/1.1\r\n")
            sent = 0
            line = b"X-Endless: " + b"b" * 1000 + b"\r\n"
            try:
                while sent < (1 << 20):
                    sock.sendall(line)
                    sent += len(line)
            except (BrokenPipeError, ConnectionResetError):
                pass
            response = hardening.HttpResponse(hardening.read_until_close(sock))
        self.assertEqual(response.status, 431)
        self.assertIn("limits.max_head_bytes", response.text)
        # Generous: 4 MiB over the resting RSS is four times the whole 1 MiB sent.
        growth = self.server.peak_rss_kib() - rss_before
        hardening.note(f"endless head: peak RSS growth {growth} KiB")
        self.assertLess(growth, 4096, f"peak RSS grew by {growth} KiB")
        self.assert_good_client_served(self.server)

    def test_too_many_headers_is_431(self):
        # The upgrade request has 5 fields: 11 more make 16 (served), 12 more make 17 (431).
        at_limit = upgrade_request("/echo", extra=[f"X-H{i}: v" for i in range(11)])
        with WsClient(self.server.port, upgrade=False) as client:
            client.send(at_limit)
            response = hardening.HttpResponse(hardening.read_head(client.sock))
            self.assertEqual(response.status, 101, response.text)
        over = upgrade_request("/echo", extra=[f"X-H{i}: v" for i in range(12)])
        with hardening.open_socket(self.server.port) as sock:
            peer = "%s:%d" % sock.getsockname()
            sock.sendall(over)
            response = hardening.HttpResponse(hardening.read_until_close(sock))
        self.assertEqual(response.status, 431, response.raw[:200])
        self.assertIn("limits.max_headers", response.text)
        self.assertEqual(self.head_errors().get("too_many_headers"), 1)
        self.assert_log_line(self.server, rf"{peer} bad request head: too_many_headers")
        self.assert_good_client_served(self.server)


class OversizeFrames:
    def setUp(self):
        self.server = self.start_server(LIMITS, measures_memory=True)

    def frame_errors(self):
        return self.server.health()["counters"]["frame_errors"]

    def expect_close(self, client, code, reason_part, error_name):
        peer = "%s:%d" % client.sock.getsockname()
        got_code, reason, _ = client.read_until_close()
        self.assertEqual(got_code, code, reason)
        self.assertIn(reason_part, reason)
        self.assertTrue(client.eof_after_close(), "the server did not close TCP after its close")
        self.assert_log_line(self.server, rf"{peer} closed with {code}: .*\({error_name}\)")

    def test_frame_over_max_frame_bytes_is_1009(self):
        with WsClient(self.server.port) as client:
            payload = os.urandom(64 * 1024)  # exactly the limit: echoed
            self.assertEqual(client.echo(payload, opcode=0x2), payload)
            # One byte over, declared in the header; no payload byte follows.
            client.send(bytes([0x82, 0x80 | 127]) + struct.pack("!Q", 64 * 1024 + 1) + MASK)
            self.expect_close(client, 1009, "limits.max_frame_bytes", "frame_too_large")
        self.assertEqual(self.frame_errors().get("frame_too_large"), 1)
        self.assert_good_client_served(self.server)

    def test_message_over_max_message_bytes_across_fragments_is_1009(self):
        fragment = os.urandom(60 * 1024)
        with WsClient(self.server.port) as client:
            # 4 x 60 KiB = 240 KiB fits 256 KiB: echoed as one message.
            for i in range(4):
                client.send_frame(0x2 if i == 0 else 0x0, fragment, fin=(i == 3))
            fin, opcode, payload = client.read_frame()
            self.assertEqual((fin, opcode, len(payload)), (True, 0x2, 4 * len(fragment)))
            # 5 x 60 KiB = 300 KiB: refused on the fifth header, before its payload.
            for i in range(4):
                client.send_frame(0x2 if i == 0 else 0x0, fragment, fin=False)
            client.send(bytes([0x80, 0x80 | 126]) + struct.pack("!H", len(fragment)) + MASK)
            self.expect_close(client, 1009, "limits.max_message_bytes", "message_too_large")
        self.assertEqual(self.frame_errors().get("message_too_large"), 1)
        self.assert_good_client_served(self.server)

    def test_length_2_63_minus_1_is_1009_and_2_63_is_1002(self):
        warm_up(self.server)
        rss_before = self.server.rss_kib()
        self.server.reset_peak_rss()
        for length, code, part, name in (
                ((1 << 63) - 1, 1009, "limits.max_frame_bytes", "frame_too_large"),
                (1 << 63, 1002, "most significant bit", "length_msb_set"),
                ((1 << 64) - 1, 1002, "most significant bit", "length_msb_set")):
            with self.subTest(length=length):
                with WsClient(self.server.port) as client:
                    client.send(header_64(0x2, length) + b"xyz")
                    self.expect_close(client, code, part, name)
        errors = self.frame_errors()
        self.assertEqual(errors.get("frame_too_large"), 1)
        self.assertEqual(errors.get("length_msb_set"), 2)
        # Nothing was sized from the declared lengths: the peak stays within 2 MiB of the resting
        # RSS (three connections and their close frames need a few KiB).
        growth = self.server.peak_rss_kib() - rss_before
        hardening.note(f"huge declared lengths: peak RSS growth {growth} KiB")
        self.assertLess(growth, 2048, f"peak RSS grew by {growth} KiB")
        self.assert_good_client_served(self.server)


class DeclaredButNotSent:
    """200 connections each declare a 16 MiB frame (allowed: it is the default limit) and send
    only its header and 100 bytes. The server must grow by what arrived, not by what was
    declared: 200 x 16 MiB would be 3.2 GiB."""

    def test_declared_16_mib_frames_cost_what_arrived(self):
        server = self.start_server("[limits]\nmax_frame_bytes = \"16MiB\"\n"
                                   "max_message_bytes = \"16MiB\"\n",
                                   measures_memory=True)
        warm_up(server)
        rss_before = server.rss_kib()
        server.reset_peak_rss()
        clients = []
        try:
            for i in range(200):
                client = WsClient(server.port, source=f"127.0.0.{10 + i % 4}")
                client.send(header_64(0x2, 16 << 20) + b"p" * 100)
                clients.append(client)
            health, ok = server.wait_health(lambda h: hardening.others(h) >= 200)
            self.assertTrue(ok, health)
            # A good client is served while the 200 partial frames are held.
            self.assert_good_client_served(server)
            time.sleep(0.5)
            # 32 MiB is 1% of 3.2 GiB, and 160 KiB per connection: each holds 100 payload bytes
            # in a buffer that grows by what arrived. (The ASan build adds redzones and shadow
            # memory; with its quarantine off it fits the same bound.)
            growth = server.peak_rss_kib() - rss_before
            hardening.note(f"200 declared 16 MiB frames ({server.backend()}): peak RSS growth "
                           f"{growth} KiB")
            self.assertLess(growth, 32 * 1024, f"peak RSS grew by {growth} KiB for 200 "
                                                f"connections each declaring 16 MiB")
            # Nothing refused: a declared 16 MiB frame is within the limit (the one error is
            # warm_up's).
            self.assertEqual(server.health()["counters"]["frame_errors"],
                             {"non_minimal_length": 1})
        finally:
            for client in clients:
                client.sock.close()
        health, ok = server.wait_health(lambda h: hardening.others(h) == 0)
        self.assertTrue(ok, f"connections not released: {health}")


hardening.on_both_backends(globals(), OversizeHeads, OversizeFrames, DeclaredButNotSent)


if __name__ == "__main__":
    hardening.main()
