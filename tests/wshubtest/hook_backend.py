# A webhook backend for the API's integration tests: a real HTTP/1.1 keep-alive server on
# 127.0.0.1:0 in a thread of the test process. It checks X-Wshub-Signature itself (HMAC-SHA256
# of t + "." + body, as docs/webhooks.md tells a backend to), records every call, counts the
# TCP connections it accepts, and answers each event as the test chose.

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import signature as webhook_signature
from .api_support import WEBHOOK_SECRET

# What an answer function may return instead of (status, body): close without answering.
DROP = "drop"


class Call:
    def __init__(self, path, headers, raw, connection, signature):
        self.path = path
        self.headers = headers          # lower-case name -> value
        self.raw = raw
        self.body = json.loads(raw) if raw else None
        self.type = self.body.get("type") if isinstance(self.body, dict) else None
        self.connection = connection    # which accepted TCP connection carried it (1, 2, ...)
        self.signature = signature      # "valid" or why not
        self.received = time.monotonic()

    def __repr__(self):
        return f"<{self.type} {self.raw[:200]!r} conn={self.connection} sig={self.signature}>"


def check_signature(header, body, secret=WEBHOOK_SECRET, tolerance_s=300):
    """What a backend does with X-Wshub-Signature; "valid" or the reason it is not."""
    return webhook_signature.check_signature(header, body, secret, tolerance_s)


def default_answer(call):
    """Connect: the token is the user id; rpc: echoes data; the rest: allow."""
    if call.type == "connect":
        return 200, {"result": {"user": call.body.get("token") or "anon", "info": {"via": "hook"}}}
    if call.type == "rpc":
        return 200, {"data": {"echo": call.body.get("data"), "m": call.body.get("m")}}
    return 200, {}


class HookBackend:
    def __init__(self):
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.calls = []
        self.connections = 0
        self.answer = default_answer
        self.release = threading.Event()  # ends every hang() in progress
        backend = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 120

            def setup(self):
                super().setup()
                with backend.lock:
                    backend.connections += 1
                    self.connection_number = backend.connections

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                call = Call(self.path, headers, raw, self.connection_number,
                            check_signature(headers.get("x-wshub-signature"), raw))
                with backend.changed:
                    backend.calls.append(call)
                    backend.changed.notify_all()
                if call.signature != "valid":
                    return self.reply(401, {"error": {"code": 101, "message": call.signature}})
                answer = backend.answer(call)
                if answer == DROP:
                    self.close_connection = True
                    return
                self.reply(*answer)

            def reply(self, status, body):
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client gave up on this call

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def hang(self, seconds=60):
        """For an answer function: hold the call until release is set, then drop it."""
        self.release.wait(seconds)
        return DROP

    def of_type(self, kind):
        with self.lock:
            return [c for c in self.calls if c.type == kind]

    def wait_for(self, kind, count=1, timeout=20):
        """The first `count` calls of `kind`, waiting for them to arrive."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                found = [c for c in self.calls if c.type == kind]
                if len(found) >= count:
                    return found[:count]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{count} {kind} calls did not arrive within {timeout}s; "
                                         f"calls: {self.calls}")
                self.changed.wait(left)
