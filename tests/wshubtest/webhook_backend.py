#!/usr/bin/env python3
"""A webhook backend for the webhook client's tests: a real HTTP/1.1 server on 127.0.0.1 whose
behaviour is chosen per request path. It prints "PORT <n>" once listening and runs until killed.

POST paths (what a webhook call hits):
  /ok                  200 {"ok":true}
  /verify              checks X-Wshub-Signature with --secret like a real backend would:
                       200 {"valid":true,...} or 401 {"valid":false,"reason":...}
  /status/<code>       that status with a small JSON body
  /garbage             200 with bytes that are not JSON
  /big/<n>             200 with an n-byte body (Content-Length)
  /big-chunked/<n>     200 with an n-byte body in chunks (no Content-Length)
  /hang                never answers (holds the connection for a minute)
  /slow/<ms>           200 after <ms> milliseconds
  /close-mid           promises 1000 body bytes, sends 10, closes the connection
  /flaky/<name>/<k>    503 for the first k calls on <name>, then 200
  /switch/<name>       200 while switch <name> is up, else 500 (switches start down)
GET paths (what the test uses to steer and inspect):
  /stats               "connections N\nmax_active N\n": TCP connections accepted, peak
                       concurrent requests
  /count/<path>        how many POSTs <path> received
  /switch-up/<name>    sets switch <name> up
"""
import argparse
import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# A script: its own directory, tests/wshubtest, is first on sys.path.
from signature import check_signature

lock = threading.Lock()
state = {"connections": 0, "active": 0, "max_active": 0}
counts = {}
switches = set()
SECRET = b""
TOLERANCE_S = 300


def verify(header, body):
    """What a backend does with X-Wshub-Signature (signature.py)."""
    return check_signature(header, body, SECRET, TOLERANCE_S)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        with lock:
            state["connections"] += 1

    def log_message(self, *args):
        pass

    def send(self, status, body, content_type="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        parts = self.path.strip("/").split("/")
        if parts[0] == "stats":
            with lock:
                text = f"connections {state['connections']}\nmax_active {state['max_active']}\n"
            self.send(200, text.encode(), "text/plain")
        elif parts[0] == "count":
            path = "/" + "/".join(parts[1:])
            with lock:
                n = counts.get(path, 0)
            self.send(200, str(n).encode(), "text/plain")
        elif parts[0] == "switch-up" and len(parts) == 2:
            with lock:
                switches.add(parts[1])
            self.send(200, b"up", "text/plain")
        else:
            self.send(404, b"unknown control path", "text/plain")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with lock:
            counts[self.path] = counts.get(self.path, 0) + 1
            seen = counts[self.path]
            state["active"] += 1
            state["max_active"] = max(state["max_active"], state["active"])
        try:
            self.answer(body, seen)
        finally:
            with lock:
                state["active"] -= 1

    def answer(self, body, seen):
        parts = self.path.strip("/").split("/")
        kind = parts[0]
        if kind == "ok":
            self.send(200, b'{"ok":true}')
        elif kind == "verify":
            verdict = verify(self.headers.get("X-Wshub-Signature"), body)
            reply = {
                "valid": verdict == "valid",
                "reason": verdict,
                "content_type": self.headers.get("Content-Type"),
                "user_agent": self.headers.get("User-Agent"),
                "delivery": self.headers.get("X-Wshub-Delivery"),
                "attempt": self.headers.get("X-Wshub-Attempt"),
                "body": body.decode("utf-8", "replace"),
            }
            self.send(200 if verdict == "valid" else 401, json.dumps(reply).encode())
        elif kind == "status":
            self.send(int(parts[1]), b'{"error":{"code":500,"message":"as asked"}}')
        elif kind == "garbage":
            self.send(200, b"\x00\xff<html>not json", "text/html")
        elif kind == "big":
            self.send(200, b"x" * int(parts[1]))
        elif kind == "big-chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            left = int(parts[1])
            while left > 0:
                n = min(left, 4096)
                self.wfile.write(b"%x\r\n" % n + b"y" * n + b"\r\n")
                left -= n
            self.wfile.write(b"0\r\n\r\n")
        elif kind == "hang":
            time.sleep(60)
            self.close_connection = True
        elif kind == "slow":
            time.sleep(int(parts[1]) / 1000)
            self.send(200, b'{"ok":true}')
        elif kind == "close-mid":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b'{"partial"')
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
        elif kind == "flaky":
            if seen <= int(parts[2]):
                self.send(503, b'{"error":"not yet"}')
            else:
                self.send(200, b'{"ok":true}')
        elif kind == "switch":
            with lock:
                up = parts[1] in switches
            self.send(200 if up else 500, b'{"switch":true}')
        else:
            self.send(404, b'{"error":"unknown test path"}')


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        pass  # the client aborting a transfer on purpose is part of the tests


def main():
    global SECRET
    parser = argparse.ArgumentParser()
    parser.add_argument("--secret", required=True)
    args = parser.parse_args()
    SECRET = args.secret.encode()
    server = Server(("127.0.0.1", 0), Handler)
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
