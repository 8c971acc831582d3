#!/usr/bin/python3
# permessage-deflate limits and errors against the real wshub binary: decompression bombs (whole
# and fragmented) are closed with 1009 while the server's peak RSS stays small; RSV1 where RFC
# 7692 §6 forbids it is 1002; data that does not inflate is 1007 (docs/compression.md says why);
# inflated text that is not UTF-8 is 1007; a client that keeps context after agreeing not to is
# caught; and control frames are never compressed.

import os
import struct
import sys
import unittest
import zlib

from wshubtest import harness
from wshubtest.harness import server_with
from wshubtest.deflate_client import (OP_BINARY, OP_CONT, OP_PING, OP_PONG, OP_TEXT, DeflateClient,
                                      frame)

LIMIT = 256 * 1024


def config(limit=LIMIT, takeover=False):
    return (f"[compression]\nenabled = true\nserver_no_context_takeover = {str(not takeover).lower()}\n"
            f"client_no_context_takeover = {str(not takeover).lower()}\n"
            f"[limits]\nmax_message_bytes = {limit}\nmax_frame_bytes = {limit}\n")


def bomb(inflated_size):
    """Zeros compressed as hard as zlib can: about 1 KiB per MiB."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15, 9)
    data = b""
    chunk = b"\x00" * (1 << 20)
    left = inflated_size
    while left > 0:
        data += c.compress(chunk[:min(left, len(chunk))])
        left -= min(left, len(chunk))
    data += c.flush(zlib.Z_SYNC_FLUSH)
    return data[:-4]


def with_dictionary(dictionary, message):
    """`message` compressed as if `dictionary` had come before it: refers to bytes the
    receiver never saw."""
    c = zlib.compressobj(6, zlib.DEFLATED, -15, 8, zlib.Z_DEFAULT_STRATEGY, dictionary)
    return (c.compress(message) + c.flush(zlib.Z_SYNC_FLUSH))[:-4]


def status(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field} for {pid}")


class DeflateLimits(unittest.TestCase):

    def assert_closes(self, c, code):
        self.assertEqual(c.expect_close(), code)

    def healthy(self, port):
        with DeflateClient(port) as c:
            c.send_message(OP_TEXT, b"still here " * 20)
            self.assertEqual(c.recv_message()[1], b"still here " * 20)

    def test_one_kib_bomb_is_closed_with_1009(self):
        compressed = bomb(1 << 20)
        self.assertLess(len(compressed), 1100)
        with server_with(config()) as server:
            with DeflateClient(server.port) as c:
                c.send_message(OP_BINARY, b"warm up " * 100)
                c.recv_message()
                c.send_raw(frame(OP_BINARY, compressed, rsv1=True))
                self.assert_closes(c, 1009)
            self.assertIn("inflated_too_large", server.wait_for_log("inflated_too_large") or "")
            self.healthy(server.port)

    def test_fragmented_bomb_is_closed_with_1009(self):
        compressed = bomb(1 << 20)
        with server_with(config()) as server:
            for piece in (64, 1):
                with DeflateClient(server.port) as c:
                    chunks = [compressed[i:i + piece] for i in range(0, len(compressed), piece)]
                    data = b"".join(frame(OP_BINARY if i == 0 else OP_CONT, p,
                                          fin=i == len(chunks) - 1, rsv1=i == 0)
                                    for i, p in enumerate(chunks))
                    c.send_raw(data)
                    self.assert_closes(c, 1009)
            self.healthy(server.port)

    def test_bombs_keep_peak_memory_bounded(self):
        # Twenty clients at once, each sending 100 KiB that would inflate to 100 MiB (2 GiB in
        # all) under a 1 MiB limit: the server's peak RSS may grow by the limit, the
        # compressed bytes it holds and slack, never by what the bombs claim.
        compressed = bomb(100 << 20)
        # Under AddressSanitizer freed blocks sit in quarantine instead of being reused, which
        # would count every bomb's buffers; the server under test reuses its memory.
        saved = os.environ.get("ASAN_OPTIONS")
        os.environ["ASAN_OPTIONS"] = (saved + ":" if saved else "") + "quarantine_size_mb=0"
        self.addCleanup(lambda: os.environ.pop("ASAN_OPTIONS") if saved is None
                        else os.environ.__setitem__("ASAN_OPTIONS", saved))
        with server_with(config(limit=1 << 20)) as server:
            self.healthy(server.port)
            before = status(server.process.pid, "VmHWM")
            clients = [DeflateClient(server.port) for _ in range(20)]
            for c in clients:
                c.send_raw(frame(OP_BINARY, compressed, rsv1=True))
            for c in clients:
                self.assert_closes(c, 1009)
                c.shutdown()
            # ... and again, fragmented, to the same server.
            for c in [DeflateClient(server.port) for _ in range(5)]:
                half = len(compressed) // 2
                c.send_raw(frame(OP_BINARY, compressed[:half], fin=False, rsv1=True) +
                           frame(OP_CONT, compressed[half:]))
                self.assert_closes(c, 1009)
                c.shutdown()
            growth = status(server.process.pid, "VmHWM") - before
            print(f"\n  peak RSS growth over 25 bombs of 100 MiB each: {growth / 1024:.0f} KiB",
                  file=sys.stderr)
            self.assertLess(growth, 8 << 20)
            self.healthy(server.port)

    def test_the_limit_is_on_inflated_bytes_and_exact(self):
        with server_with(config(limit=100000)) as server:
            payload = b"a" * 100000
            with DeflateClient(server.port) as c:
                c.send_message(OP_BINARY, payload)
                self.assertEqual(c.recv_message()[1], payload)
                c.send_message(OP_BINARY, payload + b"a")
                self.assert_closes(c, 1009)

    def test_rsv1_on_a_continuation_frame_is_1002(self):
        with server_with(config()) as server:
            with DeflateClient(server.port) as c:
                body = zlib.compressobj(6, zlib.DEFLATED, -15).compress(b"x" * 100)
                c.send_raw(frame(OP_TEXT, b"abc", fin=False, rsv1=False) +
                           frame(OP_CONT, b"def", fin=True, rsv1=True))
                self.assert_closes(c, 1002)
            with DeflateClient(server.port) as c:
                c.send_raw(frame(OP_TEXT, body[:3], fin=False, rsv1=True) +
                           frame(OP_CONT, body[3:], fin=True, rsv1=True))
                self.assert_closes(c, 1002)

    def test_rsv1_on_a_control_frame_is_1002(self):
        with server_with(config()) as server:
            for opcode in (OP_PING, OP_PONG):
                with DeflateClient(server.port) as c:
                    c.send_raw(frame(opcode, b"", rsv1=True))
                    self.assert_closes(c, 1002)

    def test_rsv1_without_the_extension_is_1002(self):
        with server_with(config()) as server:
            with DeflateClient(server.port, offer=None) as c:
                self.assertIsNone(c.extension)
                c.send_raw(frame(OP_TEXT, b"\x02\x00", rsv1=True))
                self.assert_closes(c, 1002)

    def test_corrupt_deflate_is_1007(self):
        good = zlib.compressobj(6, zlib.DEFLATED, -15)
        good_data = good.compress(b"hello " * 100) + good.flush(zlib.Z_SYNC_FLUSH)
        cases = {
            "reserved block type": b"\xff\xff\xff\xff",
            "stored length mismatch": b"\x00\x05\x00\x05\x00hello",
            "truncated inside a block": good_data[:len(good_data) // 2],
            "distance before the start": with_dictionary(b"hello hello ", b"hello hello"),
        }
        with server_with(config()) as server:
            for name, data in cases.items():
                with self.subTest(name), DeflateClient(server.port) as c:
                    c.send_raw(frame(OP_BINARY, data, rsv1=True))
                    self.assert_closes(c, 1007)
            self.assertTrue(server.wait_for_log("corrupt_deflate"))
            self.healthy(server.port)

    def test_inflated_text_that_is_not_utf8_is_1007(self):
        with server_with(config()) as server:
            for fragment in (None, 5):
                with DeflateClient(server.port) as c:
                    c.send_message(OP_TEXT, "ok 好".encode() * 50 + b"\xc3\x28", fragment=fragment)
                    self.assert_closes(c, 1007)

    def test_a_client_that_keeps_context_after_agreeing_not_to_is_1007(self):
        with server_with(config()) as server:
            with DeflateClient(server.port) as c:
                self.assertTrue(c.client_no_context)
                c.client_no_context = False  # break the agreement: keep the compressor's window
                message = b'{"device":"dev-1","battery":80,"place":"\xe4\xb8\x8a\xe6\xb5\xb7"}' * 3
                c.send_message(OP_TEXT, message)
                self.assertEqual(c.recv_message()[1], message)
                c.send_message(OP_TEXT, message)  # refers back to the first message
                self.assert_closes(c, 1007)

    def test_context_takeover_carries_the_window_when_agreed(self):
        with server_with(config(takeover=True)) as server:
            with DeflateClient(server.port, offer="permessage-deflate") as c:
                self.assertEqual(c.extension, "permessage-deflate")
                message = b'{"device":"dev-1","battery":80,"gps":[31.23,121.47]}' * 4
                sizes = []
                for _ in range(5):
                    body = c.message_frames(OP_TEXT, message)
                    sizes.append(len(body))
                    c.send_raw(body)
                    op, echo, compressed = c.recv_message()
                    self.assertEqual(echo, message)
                    self.assertTrue(compressed)
                self.assertLess(sizes[1], sizes[0] // 2, sizes)

    def test_control_frames_between_compressed_fragments_are_answered_uncompressed(self):
        with server_with(config()) as server:
            with DeflateClient(server.port) as c:
                c2 = zlib.compressobj(6, zlib.DEFLATED, -15)
                payload = b"report " * 200
                body = c2.compress(payload) + c2.flush(zlib.Z_SYNC_FLUSH)
                body = body[:-4]
                c.send_raw(frame(OP_TEXT, body[:10], fin=False, rsv1=True) +
                           frame(OP_PING, b"ping!") +
                           frame(OP_CONT, body[10:], fin=True))
                f = c.recv_frame()
                self.assertEqual((f["opcode"], f["rsv1"], f["payload"]), (OP_PONG, False, b"ping!"))
                self.assertEqual(c.recv_message()[1], payload)
                c.close(4000)
                f = c.recv_frame()
                self.assertEqual((f["opcode"], f["rsv1"]), (0x8, False))
                self.assertEqual(struct.unpack(">H", f["payload"][:2])[0], 4000)

    def test_empty_compressed_messages(self):
        with server_with(config()) as server:
            with DeflateClient(server.port) as c:
                for body in (b"\x00", b"", b"\x02\x00"):
                    c.send_raw(frame(OP_BINARY, body, rsv1=True))
                    self.assertEqual(c.recv_message()[1], b"", body)


if __name__ == "__main__":
    harness.main()
