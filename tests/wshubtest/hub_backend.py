#!/usr/bin/python3
# A webhook backend for the hub's integration tests, run as its own process on 127.0.0.1:0:
# prints "PORT n" once listening, checks X-Wshub-Signature with hmac on every call, appends
# each call (with the check's outcome) as a JSON line to --calls, and answers by the first rule
# in --rules (a JSON file the test may rewrite at any time) whose `type` and `match` fit.
# Knows nothing about wshub beyond the webhook bodies and signatures of docs/webhooks.md.
#
# A rule: {"type": "rpc", "match": {"m": "add"}, "action": ACTION, ...}. Actions:
#   json      answer `status` (200) with `body` as JSON, after `delay` seconds (0)
#   raw       answer `status` (200) with the text `text` as is (garbage, an empty body)
#   echo      rpc: {"data": <the request's data>}
#   token     connect: the token is JSON; answer {"result": <it>}
#   hang      read the request and never answer (the connection stays open)
#   close     send a status line, headers promising more and half a body, then close
# No rule fits: 200 {} (allow), so notices like disconnect need no rule.

import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# A script: its own directory, tests/wshubtest, is first on sys.path.
from signature import check_signature


class Backend(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as libcurl reuses connections
    server_version = "hubinteg-backend"

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    def do_POST(self):  # noqa: N802 - the base class's name
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        verdict = check_signature(self.headers.get("X-Wshub-Signature"), raw, self.server.secret)
        problem = None if verdict == "valid" else verdict
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        self.server.record({"path": self.path, "body": body, "raw": raw.decode("utf-8", "replace"),
                            "sig_ok": problem is None, "sig_problem": problem,
                            "content_type": self.headers.get("Content-Type"),
                            "delivery": self.headers.get("X-Wshub-Delivery"),
                            "attempt": self.headers.get("X-Wshub-Attempt")})
        if problem is not None:
            return self.answer(401, json.dumps({"error": {"code": 101, "message": problem}}))
        rule = self.server.rule_for(body if isinstance(body, dict) else {})
        action = rule.get("action", "json")
        if action == "hang":
            self.close_connection = True
            while True:
                time.sleep(3600)
        if action == "close":
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             b"Content-Length: 100\r\n\r\n{\"data\":")
            self.wfile.flush()
            self.close_connection = True
            return
        time.sleep(rule.get("delay", 0))
        status = rule.get("status", 200)
        if action == "raw":
            return self.answer(status, rule.get("text", ""))
        if action == "echo":
            return self.answer(status, json.dumps({"data": body.get("data")}))
        if action == "token":
            try:
                result = json.loads(body.get("token") or "")
            except ValueError:
                return self.answer(status, json.dumps({"error": {"code": 101, "message": "bad token"}}))
            return self.answer(status, json.dumps({"result": result}))
        return self.answer(status, json.dumps(rule.get("body", {})))

    def answer(self, status, text):
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, secret, rules_path, calls_path):
        super().__init__(("127.0.0.1", 0), Backend)
        self.secret = secret
        self.rules_path = rules_path
        self.calls_path = calls_path
        self.lock = threading.Lock()

    def record(self, call):
        with self.lock, open(self.calls_path, "a") as f:
            f.write(json.dumps(call) + "\n")

    def rule_for(self, body):
        try:
            with open(self.rules_path) as f:
                rules = json.load(f)
        except (OSError, ValueError):
            rules = []
        for rule in rules:
            if rule.get("type") not in (None, body.get("type")):
                continue
            if all(body.get(k) == v for k, v in rule.get("match", {}).items()):
                return rule
        return {}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--secret", required=True)
    parser.add_argument("--rules", required=True)
    parser.add_argument("--calls", required=True)
    args = parser.parse_args()
    server = Server(args.secret, args.rules, args.calls)
    sys.stdout.write(f"PORT {server.server_address[1]}\n")
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
