#!/usr/bin/env python3
"""Writes the committed seed corpora under tests/fuzz/corpus/ (see README.md).

Run it after changing a target's input layout; the seeds are small, meaningful inputs, not
fuzzer output. Frames are encoded here from RFC 6455 §5.2, not by the code under test.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

# fuzz_http_head: byte 0 is the control byte (bit 0: small limits; bits 1-2: chunk size mode).
BYTE_BY_BYTE, SMALL_CHUNKS, BIG_CHUNKS = 0x00, 0x04, 0x06

KEY = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="


def head(request_line, *headers, tail=b""):
    text = request_line + "\r\n" + "".join(h + "\r\n" for h in headers) + "\r\n"
    return text.encode("latin-1") + tail


HTTP_SEEDS = {
    "rfc6455_handshake": (BIG_CHUNKS, head(
        "GET /chat HTTP/1.1", "Host: server.example.com", "Upgrade: websocket",
        "Connection: Upgrade", KEY, "Origin: http://example.com",
        "Sec-WebSocket-Protocol: chat, superchat", "Sec-WebSocket-Version: 13")),
    "browser_with_frame_after": (SMALL_CHUNKS, head(
        "GET /ws?token=abc HTTP/1.1", "Host: app.example.com", "Connection: keep-alive, Upgrade",
        "Upgrade: websocket", "Origin: https://app.example.com", "Sec-WebSocket-Version: 13",
        KEY, "Sec-WebSocket-Protocol: v1.chat, v2.chat",
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits",
        tail=b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58")),
    "nginx_http10": (BIG_CHUNKS, head(
        "GET /ws HTTP/1.0", "Host: backend", "Connection: close", KEY,
        "Sec-WebSocket-Version: 13")),
    "nginx_dropped_upgrade": (BYTE_BY_BYTE, head(
        "GET /ws HTTP/1.1", "Host: backend", "Connection: close", KEY,
        "Sec-WebSocket-Version: 13")),
    "nginx_quoted_upgrade": (SMALL_CHUNKS, head(
        "GET /ws HTTP/1.1", "Host: backend", "Upgrade: websocket", 'Connection: "upgrade"', KEY,
        "Sec-WebSocket-Version: 13")),
    "plain_browser_get": (BIG_CHUNKS, head(
        "GET /ws HTTP/1.1", "Host: example.com", "User-Agent: Mozilla/5.0",
        "Accept: text/html,*/*;q=0.8", "Accept-Language: en", "Connection: keep-alive")),
    "post_with_body": (BIG_CHUNKS, head(
        "POST /api/publish HTTP/1.1", "Host: a", "Content-Length: 5", tail=b"hello")),
    "http2_preface": (BIG_CHUNKS, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
    "obs_fold": (SMALL_CHUNKS, head("GET / HTTP/1.1", "Host: a", "X-Long: one", "  two")),
    "bare_lf": (BYTE_BY_BYTE, b"GET / HTTP/1.1\nHost: a\n\n"),
    "blank_lines_many_headers": (BIG_CHUNKS, b"\r\n\r\n" + head(
        "GET /x HTTP/1.1", *("H%d: v%d" % (i, i) for i in range(40)))),
    "small_limits_long_value": (0x21 | SMALL_CHUNKS, head(
        "GET / HTTP/1.1", "Host: a", "Cookie: " + "c" * 150)),
    "bad_version_and_key": (SMALL_CHUNKS, head(
        "GET /ws HTTP/1.1", "Host: a", "Upgrade: websocket", "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZR==", "Sec-WebSocket-Version: 8")),
}

# fuzz_http_body: [control][chunk seed], then the stream. control bit 0: small limits; bits 1-2:
# chunk sizes (1 byte, up to 7, up to 300, up to 4096); bit 3: responses instead of requests;
# bit 4: the responses answer HEAD. Chunked bodies are encoded here from RFC 9112 §7.1.
BODY_BYTE_BY_BYTE, BODY_SMALL, BODY_MEDIUM, BODY_BIG = 0x00, 0x02, 0x04, 0x06
SMALL_LIMITS, RESPONSES, ANSWER_HEAD = 0x01, 0x08, 0x10
PUBLISH = "POST /api/publish HTTP/1.1"
JSON = b'{"channel":"news","data":{"title":"hello","id":42,"tags":["a","b"]},"ttl":30}'


def chunked(*chunks, ext="", trailers=()):
    out = b"".join(b"%x%s\r\n%s\r\n" % (len(c), ext.encode(), c) for c in chunks)
    return out + b"0\r\n" + b"".join(t.encode() + b"\r\n" for t in trailers) + b"\r\n"


def body_input(control, stream, seed=7):
    return bytes([control, seed]) + stream


HTTP_BODY_SEEDS = {
    "publish_pipelined": body_input(BODY_MEDIUM, head(
        PUBLISH, "Host: hub", "Content-Type: application/json",
        "Content-Length: %d" % len(JSON), tail=JSON) + head(
        PUBLISH, "Host: hub", "Transfer-Encoding: chunked", tail=chunked(JSON[:20], JSON[20:])) +
        head("GET /health HTTP/1.1", "Host: hub", "Connection: close")),
    "chunked_extensions_trailers": body_input(BODY_SMALL, head(
        PUBLISH, "Host: hub", "Transfer-Encoding: chunked",
        tail=chunked(b"hello", b" world", ext=';name=value;q="a \\"b\\""',
                     trailers=("X-Checksum: 1234", "X-Other: x")))),
    "expect_continue": body_input(BODY_BYTE_BY_BYTE, head(
        PUBLISH, "Host: hub", "Expect: 100-continue", "Content-Length: 5", tail=b"hello")),
    "cl_and_te": body_input(BODY_SMALL, head(
        PUBLISH, "Host: hub", "Content-Length: 4", "Transfer-Encoding: chunked",
        tail=b"0\r\n\r\n")),
    "te_chunked_identity": body_input(BODY_MEDIUM, head(
        PUBLISH, "Host: hub", "Transfer-Encoding: chunked, identity", tail=chunked(b"x"))),
    "te_gzip": body_input(BODY_MEDIUM, head(
        PUBLISH, "Host: hub", "Transfer-Encoding: gzip, chunked", tail=chunked(b"x"))),
    "duplicate_cl_differ": body_input(BODY_SMALL, head(
        PUBLISH, "Host: hub", "Content-Length: 5", "Content-Length: 6", tail=b"hello!")),
    "duplicate_cl_same": body_input(BODY_SMALL, head(
        PUBLISH, "Host: hub", "Content-Length: 5, 5", tail=b"hello")),
    "negative_cl": body_input(BODY_SMALL, head(PUBLISH, "Host: hub", "Content-Length: -5")),
    "chunk_size_overflow": body_input(BODY_SMALL, head(
        PUBLISH, "Host: hub", "Transfer-Encoding: chunked",
        tail=b"10000000000000000\r\nx\r\n0\r\n\r\n")),
    "bad_chunk_end": body_input(BODY_BYTE_BY_BYTE, head(
        PUBLISH, "Host: hub", "Transfer-Encoding: chunked", tail=b"3\r\nhello\r\n0\r\n\r\n")),
    "body_longer_than_declared": body_input(BODY_SMALL, head(
        PUBLISH, "Host: hub", "Content-Length: 5",
        tail=b"helloGET /next HTTP/1.1\r\nHost: hub\r\n\r\n")),
    "body_shorter_than_declared": body_input(BODY_MEDIUM, head(
        PUBLISH, "Host: hub", "Content-Length: 50", tail=b"short")),
    "http10_keep_alive": body_input(BODY_MEDIUM, head(
        "POST /api/publish HTTP/1.0", "Connection: keep-alive", "Content-Length: 2", tail=b"{}") +
        head("GET / HTTP/1.0")),
    "small_limits_too_large": body_input(SMALL_LIMITS | BODY_SMALL, head(
        "POST / HTTP/1.1", "Host: h", "Transfer-Encoding: chunked",
        tail=chunked(b"abcdef", b"ghijklmnopqrstuvwxyz")), seed=0x28),
    "responses_keep_alive": body_input(RESPONSES | BODY_SMALL,
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 11\r\n"
        b"\r\n{\"ok\":true}"
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(b"abc", b"de") +
        b"HTTP/1.1 204 No Content\r\n\r\n"
        b"HTTP/1.0 200 OK\r\n\r\nuntil the server closes"),
    "responses_to_head": body_input(RESPONSES | ANSWER_HEAD | BODY_MEDIUM,
        b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
        b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n"),
}

# fuzz_frame_reader: [flags][frame limit / 4][message limit / 8][chunk seed], then the stream.
# flags bit 0: client role (unmasked frames), bit 1: RSV1 allowed, bits 3-7: max_fragments - 1.
SERVER, CLIENT, DEFLATE, MANY_FRAGMENTS = 0x00, 0x01, 0x02, 0xF8
MASK = b"\x37\xfa\x21\x3d"


def frame(opcode, payload=b"", fin=True, rsv=0, masked=True, key=MASK):
    first = (0x80 if fin else 0) | rsv | opcode
    n = len(payload)
    mask_bit = 0x80 if masked else 0
    if n < 126:
        out = bytes([first, mask_bit | n])
    elif n <= 0xFFFF:
        out = bytes([first, mask_bit | 126]) + struct.pack(">H", n)
    else:
        out = bytes([first, mask_bit | 127]) + struct.pack(">Q", n)
    if masked:
        out += key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    else:
        out += payload
    return out


def reader_input(flags, stream, frame_limit=0, message_limit=0, seed=3):
    return bytes([flags, frame_limit, message_limit, seed]) + stream


TEXT, BINARY, CONT, CLOSE, PING, PONG = 0x1, 0x2, 0x0, 0x8, 0x9, 0xA

FRAME_SEEDS = {
    "rfc_hello": reader_input(SERVER, frame(TEXT, b"Hello"), seed=0),
    "fragmented_text": reader_input(MANY_FRAGMENTS, frame(TEXT, b"Hel", fin=False) +
                                    frame(CONT, b"lo"), seed=1),
    "ping_between_fragments": reader_input(MANY_FRAGMENTS, frame(TEXT, b"ab", fin=False) +
                                           frame(PING, b"p") + frame(CONT, b"cd", fin=False) +
                                           frame(PONG) + frame(CONT, b"ef"), seed=2),
    "close_with_reason": reader_input(SERVER, frame(CLOSE, struct.pack(">H", 1000) + b"bye"),
                                      seed=1),
    "close_empty": reader_input(SERVER, frame(CLOSE), seed=0),
    "binary_16bit_length": reader_input(SERVER, frame(BINARY, bytes(range(200))), seed=2),
    "binary_64bit_length_truncated": reader_input(
        SERVER, bytes([0x82, 0xFF]) + struct.pack(">Q", 70000) + MASK + b"\x00" * 64, seed=3),
    "client_role_unmasked": reader_input(CLIENT | MANY_FRAGMENTS,
                                         frame(TEXT, b"hi", fin=False, masked=False) +
                                         frame(PING, b"", masked=False) +
                                         frame(CONT, b"!", masked=False) +
                                         frame(CLOSE, b"\x03\xe8", masked=False), seed=1),
    "deflate_rsv1": reader_input(DEFLATE | MANY_FRAGMENTS,
                                 frame(TEXT, b"\xf2\x48\xcd\xc9\xc9\x07\x00", fin=False,
                                       rsv=0x40) + frame(CONT, b"\x00"), seed=2),
    "utf8_split_across_fragments": reader_input(
        MANY_FRAGMENTS, frame(TEXT, b"a\xe2", fin=False) + frame(CONT, b"\x82", fin=False) +
        frame(CONT, b"\xac\xf0\x9f\x98", fin=False) + frame(CONT, b"\x80"), seed=1),
    "invalid_utf8_in_fragment": reader_input(
        MANY_FRAGMENTS, frame(TEXT, b"ok", fin=False) + frame(CONT, b"\xed\xa0\x80"), seed=0),
    "small_limits": reader_input(MANY_FRAGMENTS, frame(TEXT, b"12345678", fin=False) +
                                 frame(CONT, b"9abcdefgh"), frame_limit=2, message_limit=2,
                                 seed=1),
    "back_to_back": reader_input(SERVER, frame(TEXT, b"one") + frame(BINARY, b"\x00\xff") +
                                 frame(PONG, b"pong") + frame(TEXT, b"") +
                                 frame(CLOSE, struct.pack(">H", 4000)), seed=3),
}


def write(target, seeds):
    directory = os.path.join(HERE, "corpus", target)
    os.makedirs(directory, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(directory, name), "wb") as f:
            f.write(data)


write("fuzz_http_head", {name: bytes([control]) + data
                         for name, (control, data) in HTTP_SEEDS.items()})
write("fuzz_http_body", HTTP_BODY_SEEDS)
write("fuzz_frame_reader", FRAME_SEEDS)

# fuzz_utf8: byte 0 seeds the chunk sizes (seed % 4: 1 byte, up to 5, up to 70, up to 2000);
# then the text.
KOSME = "\u03ba\u1f79\u03c3\u03bc\u03b5".encode()
UTF8_SEEDS = {
    "ascii_long": b"\x02" + b"plain ascii json {\"k\": [1, 2, 3]} " * 4,
    "mixed_valid": b"\x01" + KOSME + "\u00e9t\u00e9 \u20ac \U0001F600 \uffff".encode() +
                   b"\xf4\x8f\xbf\xbf",
    "long_valid_multibyte": b"\x03" + KOSME * 60,
    "long_cjk_bad_at_end": b"\x03" + "\u4e2d\u6587".encode() * 100 + b"\xed\xa0\x80",
    "overlong": b"\x00" + b"ab\xc0\x80cd",
    "surrogate": b"\x01" + b"x" * 70 + b"\xed\xa0\x80",
    "above_max": b"\x00" + b"\xf4\x90\x80\x80",
    "truncated_end": b"\x02" + b"y" * 63 + b"\xf0\x9f\x98",
    "stray_continuation": b"\x01" + KOSME + b"\x80" + KOSME,
}
write("fuzz_utf8", UTF8_SEEDS)

# fuzz_hub_commands: byte 0 — bit 0 small limits (bits 1-3: max_batch - 1); then the frame.
HUB_DEFAULT, HUB_SMALL = 0x00, 0x01 | (2 << 1)  # small: at most 3 requests per frame
HUB_COMMAND_SEEDS = {
    "connect": (HUB_DEFAULT, b'{"t":"connect","id":1,"token":"eyJhbGciOiJIUzI1NiJ9.e30.sig",'
                b'"client":{"sdk":"js","version":"1.2"},"subs":{"news":{"since":{"ep":"a1b2","off":7}},'
                b'"chat:1":{}},"inbox":{"ep":"i9","acked":12}}'),
    "batch": (HUB_DEFAULT, b'[{"t":"subscribe","id":2,"ch":"chat:room#alice,bob","since":{"ep":"e","off":3}},'
              b'{"t":"publish","id":3,"ch":"chat:room","data":{"text":"hi \\u00e9","n":[1,2.5,-3e2]},"mid":"m-1"},'
              b'{"t":"rpc","id":4,"m":"get","data":null},{"t":"ack","upto":5},{"t":"pong"},{"t":"ping","id":6}]'),
    "every_other_type": (HUB_DEFAULT, b'[{"t":"unsubscribe","id":1,"ch":"a"},{"t":"history","id":2,"ch":"a",'
                         b'"limit":50},{"t":"presence","id":3,"ch":"$user:alice"},{"t":"refresh","id":4,"token":"t"}]'),
    "errors_answered": (HUB_DEFAULT, b'[{"t":"nope","id":1},{"id":2},{"t":"subscribe","id":3},'
                        b'{"t":"subscribe","id":4,"ch":7},{"t":5,"id":5}]'),
    "fatal_midway": (HUB_DEFAULT, b'[{"t":"ping","id":1},{"t":"ping","id":1.5},{"t":"ping","id":2}]'),
    "duplicate_keys": (HUB_DEFAULT, b'{"t":"ping","t":"publish","id":1,"id":2,"ch":"x","ch":"y",'
                       b'"data":1,"data":{"a":[]}}'),
    "escaped_keys": (HUB_DEFAULT, b' \r\n{"\\u0074":"subscribe","\\u0069d":9,"ch":"a\\/b"}\t '),
    "deep": (HUB_DEFAULT, b'{"t":"publish","id":1,"ch":"a","data":' + b"[" * 63 + b"]" * 63 + b"}"),
    "too_deep": (HUB_DEFAULT, b'[{"t":"publish","id":1,"ch":"a","data":' + b"[" * 63 + b"]" * 63 + b"}]"),
    "small_limits": (HUB_SMALL, b'[{"t":"subscribe","id":1,"ch":"abcdef"},{"t":"subscribe","id":2,"ch":"abcdefg"},'
                     b'{"t":"rpc","id":3,"m":"abcde","mid":"abcd"},{"t":"ping"}]'),
    "not_json": (HUB_DEFAULT, b'{"t":"ping","id":1}{"t":"ping"}'),
    "empty_batch": (HUB_DEFAULT, b"[]"),
    "scalar": (HUB_DEFAULT, b'"ping"'),
    "big_number": (HUB_DEFAULT, b'{"t":"publish","id":1,"ch":"a","data":123456789012345678901234567890}'),
}
write("fuzz_hub_commands", {name: bytes([control]) + data
                            for name, (control, data) in HUB_COMMAND_SEEDS.items()})

# fuzz_hub_answers: byte 0 % 6 — 0 channel name, 1 connect answer, 2 rpc answer, 3 decision
# answer, 4 connect subs (byte 1: the entry limit), 5 JSON string; then the text.
HUB_ANSWER_SEEDS = {
    "channel_regular": b"\x00" + b"chat:room-1",
    "channel_user_limited": b"\x00" + b"dm:talk#alice,bob,carol",
    "channel_personal": b"\x00" + b"$device:phone-1#x",
    "channel_admin": b"\x00" + b"$admin:stats",
    "channel_bad": b"\x00" + b"n$s:a b",
    "channel_empty_part": b"\x00" + b"a#u1,,u2",
    "connect_result": b"\x01" + b'{"result":{"user":"alice","device":"d1","channels":["news:*",5],'
                      b'"info":{"nick":"A"},"exp":1700000000}}',
    "connect_refusal": b"\x01" + b'{"error":{"code":4403,"message":"banned"}}',
    "connect_bad_exp": b"\x01" + b'{"result":{"user":"a","exp":9223372036854775807}}',
    "rpc_data": b"\x02" + b'{"data":{"order":7,"items":[1,2,{"x":null}]}}',
    "rpc_error": b"\x02" + b'{"error":{"code":1042,"message":"no such order"}}',
    "decision_rewrite": b"\x03" + b'{"result":{"data":{"text":"d**n"}}}',
    "decision_empty": b"\x03",
    "subs": b"\x04\x05" + b'{"news":{"since":{"ep":"e1","off":41}},"chat:1":{},"x":null}',
    "subs_over_limit": b"\x04\x01" + b'{"a":{},"b":{}}',
    "json_string": b"\x05" + "tab\there \"quoted\" back\\slash \x01\x1f \u00e9 \U0001F600".encode(),
}
write("fuzz_hub_answers", HUB_ANSWER_SEEDS)
