# What the hub's integration tests share: configs, tokens minted with python3-jwt, the webhook
# backend process (hub_backend.py), an asyncio hub client over python3-websockets, and a test case
# base class that starts and stops the real wshub binary (harness.py).
# Knows the hub only through its wire protocol, its HTTP API, its log and its config.

import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest

import websockets  # python3-websockets
from websockets.exceptions import ConnectionClosed

from . import harness, tokens
from .harness import toml_table
from .tokens import claims_for

HERE = os.path.dirname(os.path.abspath(__file__))

PROTOCOL = "wshub.v1.json"
HS_SECRET = "integration-secret-of-at-least-32-bytes!"
API_KEY = "integration-api-key"
WEBHOOK_SECRET = "integration-webhook-secret"
TIMEOUT = 30.0  # generous: the debug (ASan) build is several times slower


class Regex:
    """Equal to any string matching `pattern` as a whole (for cids, epochs, sentences)."""

    def __init__(self, pattern):
        self.pattern = re.compile(pattern)

    def __eq__(self, other):
        return isinstance(other, str) and self.pattern.fullmatch(other) is not None

    def __repr__(self):
        return f"Regex({self.pattern.pattern!r})"


class Between:
    """Equal to any number from `low` to `high` (for exp in ms, hb)."""

    def __init__(self, low, high):
        self.low, self.high = low, high

    def __eq__(self, other):
        return isinstance(other, (int, float)) and not isinstance(other, bool) and self.low <= other <= self.high

    def __repr__(self):
        return f"Between({self.low}, {self.high})"


CID = Regex(r"[0-9]+-[0-9a-z]+")
EPOCH = Regex(r"[0-9a-f]{8}")


# ---------------------------------------------------------------------------------------------
# Tokens (python3-jwt only: never the server's own minting)

def mint(claims, key=HS_SECRET, alg="HS256", headers=None):
    return tokens.mint(claims, key, alg, headers)


def token(user, device=None, ttl=3600, channels=None, info=None, **extra):
    return mint(claims_for(user, device, ttl, channels, info, **extra))


# ---------------------------------------------------------------------------------------------
# Configs

def namespace(name, subscribe="authenticated", publish="subscribers", presence=False, join_leave=False):
    return {"name": name, "subscribe": subscribe, "publish": publish, "presence": presence,
            "join_leave": join_leave}


# The namespaces most tests use; a test that needs others passes its own.
DEFAULT_NAMESPACES = [
    namespace(""),
    namespace("anyone", subscribe="anyone"),
    namespace("news", publish="backend"),
    namespace("tok", subscribe="token"),
    namespace("hook", subscribe="webhook", publish="webhook"),
    namespace("pres", presence=True, join_leave=True),
    namespace("seen", presence=True),
]

DEFAULT_JWT_KEYS = [{"alg": "HS256", "secret": HS_SECRET}]


def hub_config(namespaces=None, hub=None, jwt_keys=None, jwt_policy=None, webhook_url=None,
               webhook_events=("connect", "rpc", "publish", "subscribe", "disconnect"),
               webhook=None, ping_interval_ms=25000, pong_timeout_ms=10000, limits=None):
    """A complete config: debug log, the API on 127.0.0.1:0 with API_KEY, [hub] with `hub`'s
    keys, the namespaces, [hub.jwt] (None for jwt_keys: the HS256 test secret; [] leaves
    [hub.jwt] out), an optional [[webhook]] and the /hub route with its heartbeat."""
    parts = ['[server]\nlog_level = "debug"\n']
    if limits:
        parts.append(toml_table("[limits]", limits))
    parts.append(toml_table("[api]", {"listen": "127.0.0.1:0", "key": API_KEY}))
    parts.append(toml_table("[hub]", hub or {}))
    for ns in DEFAULT_NAMESPACES if namespaces is None else namespaces:
        parts.append(toml_table("[[hub.namespace]]", ns))
    keys = DEFAULT_JWT_KEYS if jwt_keys is None else jwt_keys
    if keys:
        parts.append(toml_table("[hub.jwt]", dict({"keys": keys}, **(jwt_policy or {}))))
    if webhook_url:
        entry = {"name": "backend", "url": webhook_url, "secret": WEBHOOK_SECRET,
                 "events": list(webhook_events), "timeout_ms": 2000, "connect_timeout_ms": 1000,
                 "breaker_failure_threshold": 1000}
        entry.update(webhook or {})
        parts.append(toml_table("[[webhook]]", entry))
    parts.append(toml_table("[[route]]", {"path": "/hub", "handler": "hub",
                                          "ping_interval_ms": ping_interval_ms,
                                          "pong_timeout_ms": pong_timeout_ms}))
    return "\n".join(parts)


# ---------------------------------------------------------------------------------------------
# The webhook backend (its own process, stopped by PID)

class Backend:
    def __init__(self, rules=()):
        self.dir = tempfile.TemporaryDirectory(prefix="wshub-backend-")
        self.rules_path = os.path.join(self.dir.name, "rules.json")
        self.calls_path = os.path.join(self.dir.name, "calls.jsonl")
        self.set_rules(rules)
        self.process = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "hub_backend.py"), "--secret", WEBHOOK_SECRET,
             "--rules", self.rules_path, "--calls", self.calls_path],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
        line = self.process.stdout.readline().decode()
        self.process.stdout.close()
        if not line.startswith("PORT "):
            self.stop()
            raise RuntimeError(f"the backend did not start: {line!r}")
        self.port = int(line.split()[1])
        self.url = f"http://127.0.0.1:{self.port}/hook"

    def set_rules(self, rules):
        """Takes effect for the next call (the backend reads the file on every call)."""
        tmp = self.rules_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(list(rules), f)
        os.replace(tmp, self.rules_path)

    def calls(self, type_=None):
        try:
            with open(self.calls_path) as f:
                calls = [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []
        return [c for c in calls if type_ is None or (c["body"] or {}).get("type") == type_]

    async def wait_calls(self, type_, count=1, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            calls = self.calls(type_)
            if len(calls) >= count:
                return calls
            if time.monotonic() >= deadline:
                raise AssertionError(f"{len(calls)} {type_} calls within {timeout}s, expected {count}: {calls}")
            await asyncio.sleep(0.02)

    def stop(self):
        harness.stop_process(self.process, timeout=10)

    def close(self):
        self.stop()
        self.dir.cleanup()


def refused_url():
    """A webhook URL where nothing listens (a port just freed)."""
    return f"http://127.0.0.1:{harness.free_port()}/hook"


# ---------------------------------------------------------------------------------------------
# The hub client

class HubClient:
    """One hub connection. A reader task keeps every frame (parsed JSON) in `messages` in
    arrival order; server pings are answered with a pong and kept out of `messages` unless
    auto_pong is False. After the close, close_code and close_reason hold the server's."""

    def __init__(self, ws, auto_pong):
        self.ws = ws
        self.auto_pong = auto_pong
        self.messages = []
        self.texts = []  # every text frame as received, pings included
        self.pings = []  # monotonic times of the server's pings
        self.close_code = None
        self.close_reason = None
        self.closed = asyncio.Event()
        self._changed = asyncio.Event()
        self._next_id = 0
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def open(cls, url, auto_pong=True, subprotocols=(PROTOCOL,), **kwargs):
        kwargs.setdefault("open_timeout", TIMEOUT)
        kwargs.setdefault("close_timeout", TIMEOUT)
        kwargs.setdefault("max_size", None)
        kwargs.setdefault("ping_interval", None)  # WebSocket pings are not the hub's heartbeat
        kwargs.setdefault("compression", None)
        ws = await websockets.connect(url, subprotocols=list(subprotocols) or None, **kwargs)
        return cls(ws, auto_pong)

    async def _read(self):
        try:
            async for frame in self.ws:
                if isinstance(frame, bytes):
                    self.messages.append({"binary": frame})
                else:
                    self.texts.append(frame)
                    message = json.loads(frame)
                    if message == {"t": "ping"}:
                        self.pings.append(time.monotonic())
                        if self.auto_pong:
                            await self.ws.send('{"t":"pong"}')
                            self._changed.set()
                            continue
                    self.messages.append(message)
                self._changed.set()
        except ConnectionClosed:
            pass
        finally:
            self.close_code = self.ws.close_code
            self.close_reason = self.ws.close_reason
            self.closed.set()
            self._changed.set()

    def new_id(self):
        self._next_id += 1
        return self._next_id

    async def send(self, message):
        await self.ws.send(message if isinstance(message, (str, bytes)) else json.dumps(message))

    async def request(self, t, **fields):
        """Sends {"t": t, "id": NEW, ...}; returns the id."""
        id_ = self.new_id()
        await self.send(dict({"t": t, "id": id_}, **fields))
        return id_

    async def call(self, t, timeout=TIMEOUT, **fields):
        return await self.answer(await self.request(t, **fields), timeout)

    async def next(self, match=lambda m: True, timeout=TIMEOUT, what="a message"):
        """Takes the first kept message for which match(message) holds, waiting for it."""
        def take():
            for i, message in enumerate(self.messages):
                if match(message):
                    return [self.messages.pop(i)]
            return None
        return (await self.wait_until(take, timeout, what))[0]

    async def wait_pings(self, count, timeout=TIMEOUT):
        """Waits until the server has sent `count` pings."""
        await self.wait_until(lambda: len(self.pings) >= count, timeout, f"{count} server pings")

    async def wait_until(self, condition, timeout=TIMEOUT, what="a condition"):
        """condition()'s first true value, checked at every frame received."""
        deadline = time.monotonic() + timeout
        while True:
            result = condition()
            if result:
                return result
            if self.closed.is_set():
                raise AssertionError(f"closed ({self.close_code} {self.close_reason!r}) while waiting for "
                                     f"{what}; kept: {self.messages}")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {what} within {timeout}s; kept: {self.messages[:20]}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    async def answer(self, id_, timeout=TIMEOUT):
        return await self.next(lambda m: m.get("id") == id_ and m.get("t") in ("ok", "err"), timeout,
                               f"the answer to request {id_}")

    async def push(self, t, timeout=TIMEOUT, **fields):
        return await self.next(lambda m: "id" not in m and m.get("t") == t
                               and all(m.get(k) == v for k, v in fields.items()), timeout, f"a {t} push {fields}")

    async def barrier(self):
        """A ping with an id, answered after everything the server sent before it."""
        answer = await self.call("ping")
        if answer.get("t") != "ok":
            raise AssertionError(f"ping answered {answer}")

    def take_all(self):
        taken, self.messages = self.messages, []
        return taken

    async def wait_closed(self, timeout=TIMEOUT):
        """(code, reason) of the close, waiting for it."""
        try:
            await asyncio.wait_for(self.closed.wait(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"still open after {timeout}s; kept: {self.messages[:20]}") from None
        return self.close_code, self.close_reason

    async def close(self):
        if not self.closed.is_set():
            await self.ws.close()
        await self._reader


# ---------------------------------------------------------------------------------------------
# The test case

def ok(id_, **fields):
    return dict({"t": "ok", "id": id_}, **fields)


def err(id_, code, msg, retry=False):
    return {"t": "err", "id": id_, "code": code, "msg": msg, "retry": retry}


def subscribed(ep=EPOCH, off=0, rec=False):
    """The fields of a subscribe answer without history (this build)."""
    return {"ep": ep, "off": off, "rec": rec, "pubs": [], "more": False}


class HubTestCase(unittest.IsolatedAsyncioTestCase):
    """Starts servers and backends per test and stops them afterwards; a server that does not
    exit 0 after SIGTERM (under ASan: a leak or error report) fails the test."""

    maxDiff = None

    async def asyncSetUp(self):
        # IsolatedAsyncioTestCase runs its loop in debug mode, which reports every blocking
        # call of the test (reading the log, /metrics) as a slow callback.
        asyncio.get_running_loop().set_debug(False)

    def start_backend(self, rules=()):
        backend = Backend(rules)
        self.addCleanup(backend.close)
        return backend

    def start_hub(self, config=None, threads=1, **config_args):
        server = harness.Wshub(config=config or hub_config(**config_args), threads=threads, api_key=API_KEY)
        self.addCleanup(server.close)
        server.start()
        self.addCleanup(self._assert_clean_exit, server)
        self.hub = server
        return server

    def _assert_clean_exit(self, server):
        code = server.stop()
        self.assertEqual(code, 0, f"wshub exit code after SIGTERM; stderr:\n{server.log()[-20000:]}")

    async def open(self, path="/hub", server=None, **kwargs):
        client = await HubClient.open((server or self.hub).url(path), **kwargs)
        self.addAsyncCleanup(client.close)
        return client

    async def connect(self, token_=None, user="alice", server=None, subs=None, **claims):
        """A connected client: (client, connect answer). `token_` or a token for `user`."""
        client = await self.open(server=server)
        fields = {"token": token_ if token_ is not None else token(user, **claims)}
        if subs is not None:
            fields["subs"] = subs
        answer = await client.call("connect", **fields)
        self.assertEqual(answer.get("t"), "ok", f"connect answered {answer}")
        return client, answer

    async def refused(self, client, answer, code, msg, close_code, retry=False):
        """Asserts the error answer and the close that follows it, with no other frame between."""
        self.assertEqual(answer, err(answer.get("id"), code, msg, retry))
        self.assertEqual(await client.wait_closed(), (close_code, Regex(".*")))
        self.assertEqual(client.messages, [])

    def assert_log(self, pattern, server=None, timeout=10.0):
        line = (server or self.hub).wait_for_log(pattern, timeout)
        self.assertIsNotNone(line, f"no log line matching {pattern!r}; log:\n{(server or self.hub).log()[-8000:]}")
        return line

    def metric(self, name, **labels):
        return self.hub.metric(name, **labels)


def main():
    harness.main()
