# A permessage-deflate WebSocket client on raw sockets and Python's zlib, for the compression
# tests: it offers whatever extension text a test gives, reads back what the server agreed, and
# sends and receives messages compressed or not, whole or fragmented, valid or deliberately
# broken. It also holds an independent model of RFC 7692 §7.1 negotiation (expected_response)
# to check the server's answer against. Standard library only; knows nothing about wshub.

import base64
import os
import random
import socket
import struct
import zlib

TAIL = b"\x00\x00\xff\xff"
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def mask_bytes(payload, key):
    if not payload:
        return b""
    n = len(payload)
    repeated = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(repeated, "little")).to_bytes(n, "little")


def frame(opcode, payload, fin=True, rsv1=False, rsv=0, masked=True):
    first = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | rsv | opcode
    n = len(payload)
    mask_bit = 0x80 if masked else 0
    if n < 126:
        header = bytes([first, mask_bit | n])
    elif n < 65536:
        header = bytes([first, mask_bit | 126]) + struct.pack(">H", n)
    else:
        header = bytes([first, mask_bit | 127]) + struct.pack(">Q", n)
    if not masked:
        return header + payload
    key = os.urandom(4)
    return header + key + mask_bytes(payload, key)


def parse_params(value):
    """Parameters of a permessage-deflate response value: {name: value or True}."""
    parts = [p.strip() for p in value.split(";")]
    assert parts[0] == "permessage-deflate", value
    params = {}
    for p in parts[1:]:
        name, _, v = p.partition("=")
        name = name.strip()
        assert name not in params, f"duplicate {name} in {value!r}"
        params[name] = int(v.strip().strip('"')) if v else True
    return params


def expected_response(offer_params, policy):
    """RFC 7692 §7.1 as this project applies it, written independently of the server: the
    response value for one offer ({name: int or True}) under `policy`, or None to decline."""
    smwb = offer_params.get("server_max_window_bits")
    if smwb == 8:
        return None  # zlib cannot compress with a 256-byte window
    snct = "server_no_context_takeover" in offer_params or policy["server_no_context_takeover"]
    cnct = "client_no_context_takeover" in offer_params or policy["client_no_context_takeover"]
    out = ["permessage-deflate"]
    if snct:
        out.append("server_no_context_takeover")
    if cnct:
        out.append("client_no_context_takeover")
    if smwb is not None:
        out.append(f"server_max_window_bits={min(smwb, policy['server_max_window_bits'])}")
    if "client_max_window_bits" in offer_params:
        cmwb = offer_params["client_max_window_bits"]
        offered = 15 if cmwb is True else cmwb
        bits = min(offered, policy["client_max_window_bits"])
        if bits < 15:
            out.append(f"client_max_window_bits={bits}")
    return "; ".join(out)


class Closed(Exception):
    def __init__(self, code, reason):
        super().__init__(f"close {code} {reason!r}")
        self.code = code
        self.reason = reason


class DeflateClient:
    """One connection. `offer` is the whole Sec-WebSocket-Extensions value (None: no header)."""

    def __init__(self, port, path="/echo", offer="permessage-deflate; client_max_window_bits",
                 timeout=20.0, extra_headers=(), tls=None, server_name=None):
        """`tls`: an ssl.SSLContext to speak wss:// with (server_name for SNI and checks)."""
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls is not None:
            self.sock = tls.wrap_socket(self.sock, server_hostname=server_name)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Upgrade: websocket",
                 "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        if offer is not None:
            lines.append(f"Sec-WebSocket-Extensions: {offer}")
        lines += list(extra_headers)
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise AssertionError(f"closed during the handshake: {data!r}")
            data += chunk
        head, _, self.rx = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        assert lines[0].startswith("HTTP/1.1 101"), lines[0]
        self.headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.headers.setdefault(name.strip().lower(), []).append(value.strip())
        ext = self.headers.get("sec-websocket-extensions")
        assert ext is None or len(ext) == 1, ext
        self.extension = ext[0] if ext else None
        self.params = parse_params(self.extension) if self.extension else None
        offered = {}
        if offer:
            first = offer.split(",")[0]
            if first.strip().startswith("permessage-deflate"):
                for p in first.split(";")[1:]:
                    n, _, v = p.strip().partition("=")
                    offered[n.strip()] = int(v) if v else True
        p = self.params or {}
        offered_bits = offered.get("client_max_window_bits")
        self.client_bits = p.get("client_max_window_bits") or (
            offered_bits if type(offered_bits) is int else 15)
        self.server_bits = p.get("server_max_window_bits") or 15
        self.client_no_context = "client_no_context_takeover" in p
        self.server_no_context = "server_no_context_takeover" in p
        self._compressor = None
        self._decompressor = None

    # --- compression state, as the agreement says
    def _compress(self, payload):
        if self._compressor is None or self.client_no_context:
            self._compressor = zlib.compressobj(6, zlib.DEFLATED, -self.client_bits, 8)
        data = self._compressor.compress(payload) + self._compressor.flush(zlib.Z_SYNC_FLUSH)
        assert data.endswith(TAIL)
        return data[:-4]

    def inflate_server_message(self, data):
        """Inflates as RFC 7692 §7.2.2 says, with the agreed server window. Output comes in
        steps of at most half the window, so a distance beyond the window fails even when zlib
        would find its target in the same call's output."""
        if self._decompressor is None or self.server_no_context:
            self._decompressor = zlib.decompressobj(-self.server_bits)
        d = self._decompressor
        step = 1 << (self.server_bits - 1)
        out = [d.decompress(data + TAIL, step)]
        while d.unconsumed_tail:
            out.append(d.decompress(d.unconsumed_tail, step))
        return b"".join(out)

    # --- sending
    def send_raw(self, data):
        self.sock.sendall(data)

    def message_frames(self, opcode, payload, compress=True, fragment=None):
        body = self._compress(payload) if compress else payload
        if not fragment:
            return frame(opcode, body, rsv1=compress)
        pieces = [body[i:i + fragment] for i in range(0, len(body), fragment)] or [b""]
        out = b""
        for i, piece in enumerate(pieces):
            out += frame(opcode if i == 0 else OP_CONT, piece, fin=i == len(pieces) - 1,
                         rsv1=compress and i == 0)
        return out

    def send_message(self, opcode, payload, compress=True, fragment=None):
        self.send_raw(self.message_frames(opcode, payload, compress, fragment))

    def close(self, code=1000):
        try:
            self.send_raw(frame(OP_CLOSE, struct.pack(">H", code)))
        except OSError:
            pass

    # --- receiving
    def _need(self, n):
        while len(self.rx) < n:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise EOFError(f"server closed TCP with {len(self.rx)} bytes buffered")
            self.rx += chunk

    def recv_frame(self):
        self._need(2)
        b0, b1 = self.rx[0], self.rx[1]
        assert not b1 & 0x80, "server frames are never masked"
        n, at = b1 & 0x7F, 2
        if n == 126:
            self._need(4)
            n, at = struct.unpack(">H", self.rx[2:4])[0], 4
        elif n == 127:
            self._need(10)
            n, at = struct.unpack(">Q", self.rx[2:10])[0], 10
        self._need(at + n)
        payload = self.rx[at:at + n]
        self.rx = self.rx[at + n:]
        return {"fin": bool(b0 & 0x80), "rsv1": bool(b0 & 0x40), "rsv23": b0 & 0x30,
                "opcode": b0 & 0x0F, "payload": payload}

    def recv_message(self, answer_pings=True):
        """(opcode, payload, compressed). Raises Closed on a close frame. Checks RSV bits:
        RSV1 only on a compressed message's first frame, never on control frames."""
        parts, opcode, compressed = [], None, False
        while True:
            f = self.recv_frame()
            assert f["rsv23"] == 0, f
            if f["opcode"] >= 0x8:
                assert not f["rsv1"], "a control frame with RSV1"
                if f["opcode"] == OP_CLOSE:
                    p = f["payload"]
                    code = struct.unpack(">H", p[:2])[0] if len(p) >= 2 else 1005
                    raise Closed(code, p[2:].decode("utf-8", "replace"))
                if f["opcode"] == OP_PING and answer_pings:
                    self.send_raw(frame(OP_PONG, f["payload"]))
                continue
            if opcode is None:
                assert f["opcode"] in (OP_TEXT, OP_BINARY), f
                opcode, compressed = f["opcode"], f["rsv1"]
                assert not compressed or self.params is not None, "RSV1 without the extension"
            else:
                assert f["opcode"] == OP_CONT and not f["rsv1"], "RSV1 on a continuation"
            parts.append(f["payload"])
            if f["fin"]:
                break
        data = b"".join(parts)
        if compressed:
            data = self.inflate_server_message(data)
        return opcode, data, compressed

    def expect_close(self):
        """The close code the server sends next (messages before it are skipped), then EOF."""
        while True:
            try:
                self.recv_message()
            except Closed as c:
                try:
                    self._need(len(self.rx) + 1)
                except (EOFError, ConnectionResetError):
                    pass
                return c.code
            except (EOFError, ConnectionResetError):
                return None
            except TimeoutError:
                return "timeout"

    def shutdown(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.shutdown()
        return False


# Test payloads, the same for every client that sends them (seeded).

def text_message(size, seed):
    """Valid UTF-8 of exactly `size` bytes: device reports with Chinese place names."""
    rnd = random.Random(seed)
    places = ["上海市浦东新区", "北京市海淀区", "深圳市南山区", "成都市武侯区"]
    out = []
    total = 0
    while total < size:
        s = ('{"device":"dev-%04d","ts":%d,"lat":%.5f,"lon":%.5f,"battery":%d,"place":"%s"}'
             % (rnd.randrange(10000), 1700000000 + rnd.randrange(10 ** 6), rnd.uniform(20, 40),
                rnd.uniform(100, 125), rnd.randrange(101), rnd.choice(places)))
        out.append(s)
        total += len(s.encode())
    data = "".join(out).encode()[:size]
    while True:  # cut back to a character boundary, then pad with ASCII
        try:
            text = data.decode()
            break
        except UnicodeDecodeError:
            data = data[:-1]
    return text + "x" * (size - len(data))


def binary_message(size, seed):
    """Half compressible, half noise: exercises both stored and Huffman blocks."""
    rnd = random.Random(seed)
    pattern = bytes(range(256)) * (size // 512 + 1)
    noise = bytes(rnd.getrandbits(8) for _ in range(size - size // 2))
    return (pattern[:size // 2] + noise)[:size]
