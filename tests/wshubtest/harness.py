# Starts the real wshub binary for integration tests and talks raw HTTP to it.
# Knows nothing about wshub's internals: only its command line, its log lines and the wire.
# Runs under /usr/bin/python3 with the standard library only (plus websockets in the tests).

import contextlib
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

_LISTENING = re.compile(r"listening on 127\.0\.0\.1:(\d+) (?!\(API)")
# The backend API's listener is logged after the WebSocket one(s), as "(API, HTTP; ...)".
_API_LISTENING = re.compile(r"listening on 127\.0\.0\.1:(\d+) \(API")
_METRIC_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
_METRIC_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
_binary = None
io_backend = None  # --io BACKEND on the command line: the proxy tests run wshub with it


def wshub_binary():
    """The binary under test: --wshub PATH on the command line, else $WSHUB_BIN."""
    path = _binary or os.environ.get("WSHUB_BIN")
    if not path:
        raise RuntimeError("no wshub binary: pass --wshub PATH or set WSHUB_BIN")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"wshub binary {path!r} is not executable")
    return path


def main():
    """unittest.main() after taking --wshub PATH (and --io BACKEND) out of argv."""
    global _binary, io_backend
    argv = list(sys.argv)
    if "--wshub" in argv:
        i = argv.index("--wshub")
        _binary = argv[i + 1]
        del argv[i:i + 2]
    if "--io" in argv:
        i = argv.index("--io")
        io_backend = argv[i + 1]
        del argv[i:i + 2]
    unittest.main(argv=argv, verbosity=2)


def stop_process(process, sig=signal.SIGTERM, timeout=30.0):
    """Sends `sig` to `process` (a subprocess.Popen) by its PID, never by name, and waits for
    it; SIGKILL when it has not exited within `timeout` seconds. Returns (exit code, whether it
    had to be killed)."""
    if process.poll() is not None:
        return process.returncode, False
    process.send_signal(sig)
    try:
        process.wait(timeout)
        return process.returncode, False
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return process.returncode, True


def free_port():
    """A loopback port nothing listens on (just freed), for a process that cannot take port 0
    and report the port it got."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def toml_value(value):
    """`value` as TOML: booleans, numbers, strings, lists and inline tables."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string for the names and paths tests use
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML for {value!r}")


def toml_table(header, values):
    """A TOML table: `header` ("[api]", "[[route]]") and one `key = value` line per item."""
    return f"{header}\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in values.items())


class Metrics:
    """The samples of one /metrics answer (Prometheus text): value(name, label=value, ...).
    A line that is neither a comment nor a sample fails the test."""

    def __init__(self, text):
        self.text = text
        self.samples = {}  # (name, frozenset of (label, value)) -> number
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            match = _METRIC_SAMPLE.match(line)
            if not match:
                raise AssertionError(f"not a Prometheus sample line: {line!r}")
            labels = frozenset(_METRIC_LABEL.findall(match.group(2) or ""))
            self.samples[(match.group(1), labels)] = float(match.group(3))

    def value(self, name, **labels):
        key = (name, frozenset(labels.items()))
        if key not in self.samples:
            raise AssertionError(f"no sample {name}{labels} in /metrics")
        return self.samples[key]

    def get(self, name, default=0.0, **labels):
        return self.samples.get((name, frozenset(labels.items())), default)


class LogFile:
    """A child process's output in the file at self.log_path, read while it runs."""

    log_path = None

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def wait_for_log(self, pattern, timeout=10.0):
        """The first log line matching regex `pattern`, waiting for it to be written."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            for line in self.log().splitlines():
                if regex.search(line):
                    return line
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.02)


class Wshub(LogFile):
    """One wshub process on 127.0.0.1:<ephemeral>, its stderr captured to a file.

    Use as a context manager, or call start() and stop(). stop() sends SIGTERM to this
    process only (by its PID) and returns the exit code. When the config has an [api] table
    (or --api-listen is passed), start() also waits for the API's listening line: its port is
    api_port, and api() and metrics() talk to it.
    """

    def __init__(self, config=None, threads=1, extra_args=(), listen="127.0.0.1:0",
                 api_key=None):
        self.config = config
        self.listen = listen  # None: the config's [[listen]] entries
        self.threads = threads
        self.extra_args = list(extra_args)
        self.dir = tempfile.TemporaryDirectory(prefix="wshub-integ-")
        self.log_path = os.path.join(self.dir.name, "stderr.log")
        self.config_path = None
        self.process = None
        self._log_file = None
        self.port = None
        self.api_port = None
        self.api_key = api_key
        self.exit_code = None

    def expects_api(self):
        return (self.config is not None and re.search(r"^\s*\[api\]", self.config, re.M) is not None) \
            or "--api-listen" in self.extra_args

    def start(self, timeout=20.0):
        args = [wshub_binary(), "--threads", str(self.threads)]
        if self.listen is not None:
            args += ["--listen", self.listen]
        if self.config is not None:
            self.config_path = os.path.join(self.dir.name, "wshub.toml")
            with open(self.config_path, "w") as f:
                f.write(self.config)
            args += ["--config", self.config_path]
        args += self.extra_args
        self._log_file = open(self.log_path, "wb")
        if self.exit_code == 0:
            self.exit_code = None  # a clean earlier run: the next stop reports this one (a failure stays)
        # The server's own directory as its working one: a run without a config opens wshub.db
        # there, not in the test's directory (where parallel tests would share it).
        options = {"cwd": self.dir.name, **self.popen_options()}
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=self._log_file, **options)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            log = self.log()
            match = _LISTENING.search(log)
            api = _API_LISTENING.search(log)
            if match and (api or not self.expects_api()):
                self.port = int(match.group(1))
                self.api_port = int(api.group(1)) if api else None
                return self
            if self.process.poll() is not None:
                raise RuntimeError(f"wshub exited with {self.process.returncode} before "
                                   f"listening; stderr:\n{self.log()}")
            time.sleep(0.02)
        self.process.kill()
        self.process.wait()
        raise RuntimeError(f"wshub did not log 'listening on' within {timeout}s; "
                           f"stderr:\n{self.log()}")

    def stop(self, timeout=30.0):
        """SIGTERM, wait, and return the exit code (None-safe to call twice)."""
        if self.process is None:
            if self._log_file:
                self._log_file.close()
            return self.exit_code
        code, killed = stop_process(self.process, signal.SIGTERM, timeout)
        if killed:
            self.exit_code = "killed after SIGTERM timeout"
        if self.exit_code is None:
            self.exit_code = code
        self.process = None
        self._log_file.close()
        self._log_file = None
        return self.exit_code

    def close(self):
        self.stop()
        self.dir.cleanup()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def popen_options(self):
        """Extra subprocess.Popen arguments (env, preexec_fn, ...) for subclasses."""
        return {}

    def url(self, path):
        return f"ws://127.0.0.1:{self.port}{path}"

    def api(self, method, path, body=None, key=None, timeout=30.0):
        """One request to the backend API: (status, parsed JSON body or the text if not JSON).
        `key` defaults to the api_key given to the constructor; "" sends none. The request goes
        out in one write (head and body together)."""
        key = self.api_key if key is None else key
        data = b""
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.api_port}", "Connection: close"]
        if key:
            lines.append(f"Authorization: Bearer {key}")
        if body is not None:
            lines += ["Content-Type: application/json", f"Content-Length: {len(data)}"]
        with connect(self.api_port, timeout) as sock:
            sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + data)
            response = http.client.HTTPResponse(sock, method=method)
            response.begin()
            text = response.read().decode("utf-8", "replace")
        try:
            return response.status, json.loads(text)
        except ValueError:
            return response.status, text

    def metrics(self):
        """GET /metrics parsed: {(name, frozenset of (label, value)): number}."""
        status, text = self.api("GET", "/metrics")
        if status != 200:
            raise AssertionError(f"/metrics answered {status}: {text}")
        return Metrics(text).samples

    def metric(self, name, **labels):
        """One sample of /metrics (0 when the sample is not there)."""
        return self.metrics().get((name, frozenset(labels.items())), 0)


class ServerTestCase(unittest.TestCase):
    """A fresh server per test, stopped with SIGTERM afterwards; the test fails unless it
    exits 0 (under ASan a leak or an error report makes the exit code non-zero)."""

    config = None

    def setUp(self):
        self.server = Wshub(config=self.config)
        self.addCleanup(self.server.close)
        self.server.start()
        self.addCleanup(self._assert_clean_exit)

    def _assert_clean_exit(self):
        code = self.server.stop()
        self.assertEqual(code, 0, f"wshub exit code after SIGTERM; stderr:\n{self.server.log()}")


@contextlib.contextmanager
def server_with(cfg, threads=1):
    """A Wshub with config `cfg` for a `with` block; stopped after it, and the block fails
    unless the server exits 0 on SIGTERM."""
    server = Wshub(config=cfg, threads=threads)
    server.start()
    try:
        yield server
        code = server.stop()
        assert code == 0, f"wshub exit code {code}; stderr:\n{server.log()}"
    finally:
        server.close()


class HttpResponse:
    def __init__(self, raw):
        self.raw = raw
        head, sep, body = raw.partition(b"\r\n\r\n")
        if not sep:
            raise AssertionError(f"no complete HTTP response head in {raw[:300]!r}")
        lines = head.decode("latin-1").split("\r\n")
        self.status_line = lines[0]
        parts = lines[0].split(" ", 2)
        self.version = parts[0]
        self.status = int(parts[1])
        self.headers = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.headers.append((name.strip().lower(), value.strip()))
        self.rest = body  # the body, or for a 101 the first frame bytes

    def header(self, name):
        values = [v for n, v in self.headers if n == name.lower()]
        return values[0] if values else None

    @property
    def body(self):
        length = self.header("content-length")
        return self.rest if length is None else self.rest[:int(length)]

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")


def connect(port, timeout=10.0):
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def peer_name(sock):
    """How the server names this client in its log: 'ip:port'."""
    host, port = sock.getsockname()[:2]
    return f"{host}:{port}"


def read_until_close(sock, limit=1 << 20):
    data = b""
    while len(data) < limit:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data


def read_head(sock, data=b""):
    """Reads up to and including the end of a response head, after the bytes `data` already
    read; returns (head+extra bytes)."""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed before a response head: {data!r}")
        data += chunk
    return data


def exchange(port, request, chunk_size=None, pause=0.0):
    """Sends `request` (whole, or in chunks of `chunk_size` bytes), reads until the server
    closes, and returns (HttpResponse, our 'ip:port' as the server logs it)."""
    with connect(port) as sock:
        name = peer_name(sock)
        if chunk_size is None:
            sock.sendall(request)
        else:
            for i in range(0, len(request), chunk_size):
                try:
                    sock.sendall(request[i:i + chunk_size])
                except (BrokenPipeError, ConnectionResetError):
                    break  # the server answered early and closed; read its answer
                if pause:
                    time.sleep(pause)
        return HttpResponse(read_until_close(sock)), name


def http_get(port, path, headers=()):
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"] + list(headers)
    return exchange(port, ("\r\n".join(lines) + "\r\n\r\n").encode())[0]


# A client's frame (RFC 6455 §5.2): FIN set, masked with `mask`.
def client_frame(opcode, payload, mask=b"\x37\xfa\x21\x3d", fin=True):
    first = (0x80 if fin else 0) | opcode
    n = len(payload)
    if n < 126:
        header = bytes([first, 0x80 | n])
    elif n < 65536:
        header = bytes([first, 0x80 | 126]) + n.to_bytes(2, "big")
    else:
        header = bytes([first, 0x80 | 127]) + n.to_bytes(8, "big")
    # One big-integer XOR: the same bytes as masking one by one, fast enough for MiB payloads.
    key = (mask * (n // 4 + 1))[:n]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")
    return header + mask + masked


def parse_server_frame(data):
    """(fin, opcode, payload, remaining bytes) of an unmasked server frame, or None if
    `data` does not yet hold a whole frame."""
    if len(data) < 2:
        return None
    fin = bool(data[0] & 0x80)
    opcode = data[0] & 0x0F
    if data[1] & 0x80:
        raise AssertionError("server frame is masked")
    n = data[1] & 0x7F
    offset = 2
    if n == 126:
        if len(data) < 4:
            return None
        n = int.from_bytes(data[2:4], "big")
        offset = 4
    elif n == 127:
        if len(data) < 10:
            return None
        n = int.from_bytes(data[2:10], "big")
        offset = 10
    if len(data) < offset + n:
        return None
    return fin, opcode, data[offset:offset + n], data[offset + n:]


def read_server_frame(sock, data=b""):
    """Reads one whole server frame; returns (fin, opcode, payload, remaining bytes)."""
    while True:
        frame = parse_server_frame(data)
        if frame:
            return frame
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed inside a frame; have {data!r}")
        data += chunk


def upgrade_request(path="/echo", host="127.0.0.1", extra=()):
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", "Upgrade: websocket",
             "Connection: Upgrade", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
             "Sec-WebSocket-Version: 13"] + list(extra)
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


# The accept value for the key above, from RFC 6455 §1.3.
SAMPLE_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


_API_HTTP_LISTENING = re.compile(r"listening on 127\.0\.0\.1:(\d+) \(API, HTTP")


class WshubWithApi(Wshub):
    """A Wshub whose config has an [api] listener on 127.0.0.1:0: self.api_port is its port,
    from the 'listening on ... (API, HTTP' log line (self.port stays the ws listener's)."""

    api_port = None

    def start(self, timeout=20.0):
        super().start(timeout)
        line = self.wait_for_log(_API_HTTP_LISTENING.pattern, timeout)
        if line is None:
            self.stop()
            raise RuntimeError(f"wshub logged no API listener; is [api] in the config? "
                               f"stderr:\n{self.log()}")
        self.api_port = int(_API_HTTP_LISTENING.search(line).group(1))
        return self
