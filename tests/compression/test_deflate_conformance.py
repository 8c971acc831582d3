#!/usr/bin/python3
# permessage-deflate conformance in the spirit of Autobahn groups 12 and 13, against the real wshub
# binary with a raw-socket client on Python's zlib (wshubtest/deflate_client.py): every offer shape
# under three server policies (no context takeover, context takeover, context takeover with small
# windows and min_message_bytes 0), each checked against an independent model of the negotiation,
# then text and binary echoes from 16 B to 128 KiB, whole and fragmented, checked byte for byte,
# with the server's frames inflated as the agreement allows (a fresh stream per message where the
# server promised no context takeover, its promised window otherwise).

import unittest

from wshubtest import harness
from wshubtest.harness import server_with
from wshubtest.deflate_client import (OP_BINARY, OP_TEXT, DeflateClient, expected_response,
                                      binary_message, parse_params, text_message)

SIZES = [16, 64, 256, 1024, 4096, 8192, 16384, 32768, 65536, 131072]

POLICIES = {
    "no_takeover": dict(server_no_context_takeover=True, client_no_context_takeover=True,
                        server_max_window_bits=15, client_max_window_bits=15, level=6,
                        mem_level=8, min_message_bytes=64),
    "takeover": dict(server_no_context_takeover=False, client_no_context_takeover=False,
                     server_max_window_bits=15, client_max_window_bits=15, level=6,
                     mem_level=8, min_message_bytes=64),
    "takeover_small": dict(server_no_context_takeover=False, client_no_context_takeover=False,
                           server_max_window_bits=11, client_max_window_bits=10, level=1,
                           mem_level=4, min_message_bytes=0),
}

# Offers in the shapes Autobahn 13.x and real clients send.
OFFERS = [
    "permessage-deflate",
    "permessage-deflate; client_max_window_bits",
    "permessage-deflate; server_no_context_takeover",
    "permessage-deflate; client_no_context_takeover",
    "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
    "permessage-deflate; server_max_window_bits=9",
    "permessage-deflate; server_max_window_bits=12; client_max_window_bits=10",
    "permessage-deflate; client_max_window_bits=9",
    "permessage-deflate; server_max_window_bits=15; client_max_window_bits=15",
    "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
    "server_max_window_bits=10; client_max_window_bits=11",
]


def config_for(policy):
    lines = ["[compression]", "enabled = true"]
    for key, value in policy.items():
        lines.append(f"{key} = {str(value).lower()}")
    lines += ["[limits]", "max_message_bytes = \"4MiB\"", "max_frame_bytes = \"4MiB\""]
    return "\n".join(lines) + "\n"


class DeflateConformance(unittest.TestCase):
    """One server per policy; every offer against it."""

    def run_policy(self, name):
        policy = POLICIES[name]
        with server_with(config_for(policy)) as server:
            for offer in OFFERS:
                with self.subTest(policy=name, offer=offer):
                    self.check_offer(server.port, offer, policy)

    def check_offer(self, port, offer, policy):
        params = parse_params(offer)
        expected = expected_response(params, policy)
        with DeflateClient(port, offer=offer) as c:
            self.assertEqual(c.extension, expected, "negotiated response header")
            if expected is None:
                return
            self.assertEqual(c.server_no_context, policy["server_no_context_takeover"] or
                             "server_no_context_takeover" in params)
            for opcode in (OP_TEXT, OP_BINARY):
                for fragment in (None, 1000):
                    for size in SIZES:
                        seed = size * 7 + opcode + (fragment or 0)
                        payload = (text_message(size, seed).encode() if opcode == OP_TEXT
                                   else binary_message(size, seed))
                        c.send_message(opcode, payload, compress=True, fragment=fragment)
                        op, echo, compressed = c.recv_message()
                        self.assertEqual(op, opcode)
                        self.assertEqual(len(echo), len(payload), f"size {size}")
                        self.assertEqual(echo, payload, f"echo of {size} bytes differs")
                        if opcode == OP_TEXT and size >= max(policy["min_message_bytes"], 64):
                            self.assertTrue(compressed, f"a {size}-byte text echo went uncompressed")
            # Uncompressed messages on a compressed connection are fine both ways; messages under
            # min_message_bytes come back uncompressed, and so does one that would not shrink,
            # unless context takeover obliges the server to send everything through its stream.
            c.send_message(OP_TEXT, b"short", compress=False)
            op, echo, compressed = c.recv_message()
            self.assertEqual(echo, b"short")
            self.assertEqual(compressed,
                             policy["min_message_bytes"] <= 5 and not c.server_no_context)
            # Tiny fragments, and an empty compressed message.
            payload = text_message(3000, 1).encode()
            c.send_message(OP_TEXT, payload, compress=True, fragment=7)
            self.assertEqual(c.recv_message()[1], payload)
            c.send_message(OP_BINARY, b"", compress=True)
            self.assertEqual(c.recv_message()[1], b"")
            c.close()
            self.assertEqual(c.expect_close(), 1000)

    def test_no_context_takeover_policy(self):
        self.run_policy("no_takeover")

    def test_context_takeover_policy(self):
        self.run_policy("takeover")

    def test_context_takeover_small_windows_policy(self):
        self.run_policy("takeover_small")

    def test_off_by_default_declines_every_offer(self):
        with server_with(None) as server:
            for offer in OFFERS:
                with DeflateClient(server.port, offer=offer) as c:
                    self.assertIsNone(c.extension, offer)
                    c.send_message(OP_TEXT, b"plain", compress=False)
                    self.assertEqual(c.recv_message(), (OP_TEXT, b"plain", False))

    def test_first_acceptable_offer_and_fallback(self):
        policy = POLICIES["no_takeover"]
        with server_with(config_for(policy)) as server:
            with DeflateClient(server.port, offer="permessage-deflate; server_max_window_bits=8, "
                               "permessage-deflate; mux, permessage-deflate; client_max_window_bits"
                               ) as c:
                self.assertEqual(c.extension, "permessage-deflate; server_no_context_takeover; "
                                 "client_no_context_takeover")
            with DeflateClient(server.port, offer="permessage-deflate; server_max_window_bits=8",
                               extra_headers=["Sec-WebSocket-Extensions: permessage-deflate; "
                                              "server_max_window_bits=10"]) as c:
                self.assertEqual(c.extension, "permessage-deflate; server_no_context_takeover; "
                                 "client_no_context_takeover; server_max_window_bits=10")
            for offer in ("permessage-deflate; server_max_window_bits=8",
                          "permessage-deflate; server_no_context_takeover=1",
                          "permessage-deflate; client_max_window_bits; client_max_window_bits",
                          "permessage-deflate; x-unknown", "permessage-deflate; =", "x-webkit-deflate-frame"):
                with DeflateClient(server.port, offer=offer) as c:  # still 101, no extension
                    self.assertIsNone(c.extension, offer)
                    c.send_message(OP_TEXT, b"x" * 300, compress=False)
                    self.assertEqual(c.recv_message(), (OP_TEXT, b"x" * 300, False))


if __name__ == "__main__":
    harness.main()
