#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_inflate under tests/fuzz/corpus/fuzz_inflate/.

Layout (see fuzz_inflate.cpp): byte 0 — bit 0 context takeover, bits 1-3 window bits
(9 + value % 7), bits 4-5 chunk mode; bytes 1-2 the limit / 4 (little-endian); byte 3 the chunk
seed; then messages as a 2-byte little-endian length and the compressed bytes. The compressed
bytes come from Python's zlib, not from the code under test.
"""
import json
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "fuzz_inflate")


def control(takeover, bits, chunks, limit, seed=7):
    return bytes([(1 if takeover else 0) | (((bits - 9) & 7) << 1) | (chunks << 4)]) + \
        struct.pack("<H", min(limit // 4, 0xFFFF)) + bytes([seed])


def messages(*payloads):
    return b"".join(struct.pack("<H", len(p)) + p for p in payloads)


def sync(obj, data):
    out = obj.compress(data) + obj.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


def report(i):
    return json.dumps({"device": f"dev-{i % 7}", "ts": 1700000000 + i, "battery": 80 - i % 9,
                       "gps": [31.2304, 121.4737], "place": "上海市浦东新区"},
                      ensure_ascii=False).encode()


def fresh(bits=15, level=6):
    return zlib.compressobj(level, zlib.DEFLATED, -bits, 8)


SEEDS = {}
SEEDS["one_report"] = control(False, 15, 2, 65536) + messages(sync(fresh(), report(1)))
c = fresh()
SEEDS["takeover_sequence"] = control(True, 15, 1, 65536) + messages(
    *[sync(c, report(i)) for i in range(4)])
c = fresh(9)
SEEDS["window_9_takeover"] = control(True, 9, 3, 65536) + messages(
    *[sync(c, report(i) * 3) for i in range(3)])
SEEDS["no_takeover_many"] = control(False, 12, 0, 4096) + messages(
    *[sync(fresh(12), report(i)) for i in range(3)])
SEEDS["bfinal"] = control(False, 15, 1, 4096) + messages(
    zlib.compressobj(6, zlib.DEFLATED, -15).compress(b"Hello") +
    zlib.compressobj(6, zlib.DEFLATED, -15).flush())
f = zlib.compressobj(6, zlib.DEFLATED, -15)
SEEDS["bfinal_then_empty_block"] = control(False, 15, 1, 4096) + messages(
    f.compress(report(2)) + f.flush() + b"\x00")
SEEDS["bomb"] = control(False, 15, 2, 65536) + messages(sync(fresh(15, 9), b"\x00" * (1 << 20)))
SEEDS["bomb_takeover"] = control(True, 15, 0, 1000) + messages(
    sync(fresh(15, 9), b"a" * 200000))
SEEDS["empty_messages"] = control(False, 15, 0, 16) + messages(b"", b"\x00", b"\x02\x00")
SEEDS["stored_block"] = control(False, 15, 1, 100) + messages(
    b"\x00\x05\x00\xfa\xffhello", b"\x00\x05\x00\x05\x00hello")
SEEDS["truncated"] = control(False, 15, 1, 65536) + messages(sync(fresh(), report(3) * 5)[:-6])
SEEDS["zero_limit"] = control(False, 15, 3, 0) + messages(sync(fresh(), b"x"), b"\x00")

os.makedirs(OUT, exist_ok=True)
for name, data in SEEDS.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
print(f"wrote {len(SEEDS)} seeds to {OUT}")
