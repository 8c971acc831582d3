# What the backend API's integration tests share: a config maker, a server per test (or per
# class) with its API port, a keep-alive API client (http.client), raw-socket helpers, JWTs
# (python3-jwt) and a reader of the Prometheus text at /metrics. Knows wshub only through its
# config keys, its log lines and the wire.

import http.client
import json
import socket
import time
import unittest

from . import harness, tokens
from .harness import Metrics, toml_table

API_KEY = "api-integ-key"
JWT_SECRET = "api-integ-secret-of-at-least-32-bytes!"
WEBHOOK_SECRET = "api-integ-webhook-secret"

# "" (names without ':'): any user subscribes, subscribers publish, presence with join/leave;
# "quiet": no presence; "dev": channels granted by the token; "hooked": the subscribe and
# publish webhooks decide.
DEFAULT_NAMESPACES = [
    {"name": "", "subscribe": "authenticated", "publish": "subscribers", "presence": True,
     "join_leave": True},
    {"name": "quiet", "subscribe": "authenticated", "publish": "subscribers"},
    {"name": "dev", "subscribe": "token", "publish": "backend"},
]


def make_config(api=None, limits=None, hub=None, namespaces=DEFAULT_NAMESPACES, jwt_keys=True,
                webhooks=(), ping_interval_ms=60000):
    """A wshub config with [api] on 127.0.0.1:0 (key API_KEY unless `api` says otherwise), a
    /hub route, HS256 tokens signed with JWT_SECRET, and the given extra settings."""
    parts = [toml_table("[server]", {"log_level": "debug"})]
    parts.append(toml_table("[api]", {"listen": "127.0.0.1:0", "key": API_KEY, **(api or {})}))
    if limits:
        parts.append(toml_table("[limits]", limits))
    parts.append(toml_table("[hub]", hub or {}))
    for ns in namespaces:
        parts.append(toml_table("[[hub.namespace]]", ns))
    if jwt_keys:
        parts.append("[hub.jwt]\nkeys = [{ alg = \"HS256\", secret = %s }]\n" % json.dumps(JWT_SECRET))
    for hook in webhooks:
        parts.append(toml_table("[[webhook]]", {"name": "backend", "secret": WEBHOOK_SECRET, **hook}))
    parts.append(toml_table("[[route]]", {"path": "/hub", "handler": "hub",
                                          "ping_interval_ms": ping_interval_ms}))
    return "\n".join(parts)


def start_server(case, config, threads=1):
    """A wshub with the API, stopped after the test; the test fails unless it exits 0."""
    server = harness.WshubWithApi(config=config, threads=threads)
    case.addCleanup(server.close)
    server.start()
    case.addCleanup(assert_clean_exit, case, server)
    wait_ready(server)
    return server


def wait_ready(server):
    """Waits for /ready to say 200: the listeners accept (and the log says so) a moment before
    the server counts as started, and /ready answers 503 until then."""
    def ready():
        client = ApiClient(server.api_port)  # with the key, in case open_metrics is off
        try:
            return client.get("/ready").status == 200
        finally:
            client.close()
    wait_until(ready, 20, "/ready answering 200")


def assert_clean_exit(case, server):
    code = server.stop()
    case.assertEqual(code, 0, f"wshub exit code after SIGTERM; stderr:\n{server.log()}")


class ServerPerClass(unittest.TestCase):
    """One server for every test of the class (tests that only read deltas can share it)."""

    config = None
    threads = 1

    @classmethod
    def setUpClass(cls):
        cls.server = harness.WshubWithApi(config=cls.config or make_config(), threads=cls.threads)
        try:
            cls.server.start()
            wait_ready(cls.server)
        except Exception:
            cls.server.close()
            raise

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        log = cls.server.log()
        cls.server.close()
        if code != 0:
            raise AssertionError(f"wshub exit code after SIGTERM: {code}; stderr:\n{log}")

    def api(self, **kwargs):
        client = ApiClient(self.server.api_port, **kwargs)
        self.addCleanup(client.close)
        return client


def mint_token(user, device=None, channels=None, info=None, ttl=600, secret=JWT_SECRET):
    return tokens.mint(tokens.claims_for(user, device, ttl, channels, info), secret)


class Answer:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-case name -> value
        self.body = body

    @property
    def json(self):
        return json.loads(self.body)

    @property
    def error_code(self):
        return self.json["error"]["code"]

    def __repr__(self):
        return f"<{self.status} {self.body[:300]!r}>"


class ApiClient:
    """One keep-alive connection to the API (http.client reconnects after a close)."""

    def __init__(self, port, key=API_KEY, key_header="bearer", timeout=20):
        self.port = port
        self.key = key
        self.key_header = key_header
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def close(self):
        self.connection.close()

    def request(self, method, path, body=None, key="default", key_header=None, headers=None):
        key = self.key if key == "default" else key
        key_header = key_header or self.key_header
        sent = dict(headers or {})
        if key is not None:
            if key_header == "bearer":
                sent["Authorization"] = f"Bearer {key}"
            else:
                sent["X-API-Key"] = key
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        if body is not None:
            sent.setdefault("Content-Type", "application/json")
        self.connection.request(method, path, body=body, headers=sent)
        response = self.connection.getresponse()
        data = response.read()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, body=None, **kwargs):
        return self.request("POST", path, body=body, **kwargs)


def read_metrics(port):
    client = ApiClient(port, key=None)
    try:
        answer = client.get("/metrics")
    finally:
        client.close()
    if answer.status != 200:
        raise AssertionError(f"/metrics answered {answer}")
    return Metrics(answer.body.decode())


def wait_until(predicate, timeout=10.0, what="the condition"):
    """Polls `predicate` until it returns a true value, which is returned."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} did not hold within {timeout}s")
        time.sleep(0.02)


def raw_connect(port, timeout=10.0):
    return harness.connect(port, timeout)


def read_response(sock, rest=b""):
    """One whole HTTP response (Content-Length framed, or none for HEAD/1xx callers) from
    `sock`; returns (HttpResponse, bytes after it)."""
    head, _, after = harness.read_head(sock, rest).partition(b"\r\n\r\n")
    response = harness.HttpResponse(head + b"\r\n\r\n")
    length = int(response.header("content-length") or 0)
    if response.status < 200:
        length = 0
    while len(after) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed inside a body: {after!r}")
        after += chunk
    response.rest = after[:length]
    return response, after[length:]


def read_responses(sock, count, head_only=()):
    """`count` responses in order; indices in `head_only` answer HEAD (no body read)."""
    responses, rest = [], b""
    for i in range(count):
        if i in head_only:
            head, _, rest = harness.read_head(sock, rest).partition(b"\r\n\r\n")
            responses.append(harness.HttpResponse(head + b"\r\n\r\n"))
            continue
        response, rest = read_response(sock, rest)
        responses.append(response)
    return responses, rest


def closed_by_peer(sock, timeout=10.0):
    """True when the server closes `sock` (EOF or reset) within `timeout` with no more bytes;
    the bytes otherwise."""
    sock.settimeout(timeout)
    try:
        data = sock.recv(65536)
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False
    return True if not data else data


def request_bytes(method, path, body=b"", headers=(), key=API_KEY, version="HTTP/1.1"):
    lines = [f"{method} {path} {version}", "Host: 127.0.0.1"]
    if key is not None:
        lines.append(f"X-API-Key: {key}")
    lines += list(headers)
    if body and not any(h.lower().startswith(("content-length", "transfer-encoding")) for h in headers):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def one_write_request(port, method, path, body=b"", key=API_KEY):
    """A request in one write on a connection of its own (Connection: close): unlike
    http.client, which writes head and body apart, no request timeout can fall between them
    however slow the machine. Returns (status, JSON body or None)."""
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
    with raw_connect(port) as sock:
        sock.sendall(request_bytes(method, path, body, headers=["Connection: close"], key=key))
        response, _ = read_response(sock)
    try:
        return response.status, json.loads(response.body)
    except ValueError:
        return response.status, None


def chunked(body, size):
    out = b""
    for i in range(0, len(body), size):
        piece = body[i:i + size]
        out += b"%x\r\n" % len(piece) + piece + b"\r\n"
    return out + b"0\r\n\r\n"


def process_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


main = harness.main
