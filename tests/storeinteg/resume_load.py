# The load behind test_store_resume_load.py: many hub clients that subscribe with `since`, page
# through `more`, take live pubs, vanish without a close and resume, each checking that it sees
# every offset once; and publishers (keep-alive API clients and hub clients publishing) at a
# paced rate. Raw asyncio protocols rather than python3-websockets and http.client, so a
# thousand clients and thousands of publishes per second fit in a few Python processes.

import asyncio
import json
import random
import struct
import time

HANDSHAKE = ("GET /hub HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: cmVzdW1lLWxvYWQtdGVzdA==\r\nSec-WebSocket-Version: 13\r\n"
             "Sec-WebSocket-Protocol: wshub.v1.json\r\n\r\n").encode()
PONG = b'{"t":"pong"}'


def client_frame(payload, opcode=0x1):
    """A masked frame; the key is zero, so the payload goes as it is (RFC 6455 needs the bit)."""
    head = bytes([0x80 | opcode])
    size = len(payload)
    if size < 126:
        head += bytes([0x80 | size])
    elif size < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", size)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", size)
    return head + b"\0\0\0\0" + payload


class HubConnection(asyncio.Protocol):
    """One /hub connection: the upgrade, then server frames parsed as they come; every JSON item
    goes to `on_item` in arrival order, synchronously (so an answer and the pubs after it are
    seen in the order the server sent them). Heartbeats are answered here."""

    def __init__(self, on_item):
        self.on_item = on_item
        self.transport = None
        self.buffer = bytearray()
        self.upgraded = asyncio.get_running_loop().create_future()
        self.lost = asyncio.get_running_loop().create_future()
        self.fragments = bytearray()

    def connection_made(self, transport):
        self.transport = transport
        transport.write(HANDSHAKE)

    def data_received(self, data):
        self.buffer += data
        if not self.upgraded.done():
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(self.buffer[:12])
            del self.buffer[:end + 4]
            if not status.startswith(b"HTTP/1.1 101"):
                self.upgraded.set_exception(ConnectionError(f"upgrade answered {status!r}"))
                self.transport.abort()
                return
            self.upgraded.set_result(True)
        self.parse_frames()

    def parse_frames(self):
        buffer = self.buffer
        start = 0
        while len(buffer) - start >= 2:
            first, second = buffer[start], buffer[start + 1]
            size = second & 0x7F
            at = start + 2
            if size == 126:
                if len(buffer) - at < 2:
                    break
                size = struct.unpack_from("!H", buffer, at)[0]
                at += 2
            elif size == 127:
                if len(buffer) - at < 8:
                    break
                size = struct.unpack_from("!Q", buffer, at)[0]
                at += 8
            if len(buffer) - at < size:
                break
            payload = bytes(buffer[at:at + size])
            start = at + size
            opcode = first & 0x0F
            if opcode in (0x1, 0x0):
                self.fragments += payload
                if first & 0x80:
                    message = json.loads(self.fragments)
                    self.fragments = bytearray()
                    for item in message if isinstance(message, list) else (message,):
                        if item.get("t") == "ping" and "id" not in item:
                            self.send(PONG)
                        else:
                            self.on_item(item)
            elif opcode == 0x9:
                self.transport.write(client_frame(payload, 0xA))
            elif opcode == 0x8:
                self.transport.close()
        del buffer[:start]

    def send(self, payload):
        if not self.transport.is_closing():
            self.transport.write(client_frame(payload))

    def connection_lost(self, exc):
        if not self.upgraded.done():
            self.upgraded.set_exception(ConnectionError("closed before the upgrade"))
        if not self.lost.done():
            self.lost.set_result(exc)


async def open_hub(port, on_item):
    loop = asyncio.get_running_loop()
    _, connection = await loop.create_connection(lambda: HubConnection(on_item), "127.0.0.1", port)
    await asyncio.wait_for(connection.upgraded, 20)
    return connection


class ResumingClient:
    """One client of one channel. It starts at `since` (inside history) and then, until told to
    finish: subscribes with since (pages while `more`), takes live pubs for a while, drops the
    connection without a close, stays away for a while, and resumes from its last offset or
    sometimes from an older one. `problems` gets every broken expectation."""

    def __init__(self, port, token, channel, epoch, since, rng, timing):
        self.port, self.token, self.channel, self.epoch = port, token, channel, epoch
        self.rng = rng
        self.timing = timing          # (online min, online max, offline min, offline max) seconds
        self.first_since = since
        self.covered_to = since       # every offset up to here was seen, in some session
        self.since = since            # where the next session starts
        self.expected = None          # the next offset this session must see
        self.live = False
        self.answers = {}
        self.next_id = 1
        self.connection = None
        self.problems = []
        self.sessions = self.rewinds = self.pages = self.live_pubs = self.paged_pubs = self.refused_upgrades = 0
        self.closed_by_server = 0
        self.caught_up = None         # set while waiting for the final head

    def problem(self, text):
        if len(self.problems) < 5:
            self.problems.append(f"{self.channel} client (since {self.first_since}): {text}")

    def on_item(self, item):
        kind = item.get("t")
        if kind == "pub":
            if item.get("ch") != self.channel:
                return self.problem(f"a pub of another channel: {item.get('ch')}")
            if not self.live:
                return self.problem(f"pub {item['off']} before the subscription was live")
            self.take(item["off"], live=True)
            return
        future = self.answers.pop(item.get("id"), None)
        if future is None:
            return self.problem(f"unexpected {item}")
        if kind == "ok" and "pubs" in item:
            # Applied here, before any frame after it: a pub that follows is checked against it.
            offsets = [p["off"] for p in item["pubs"]]
            if offsets != list(range(self.expected, self.expected + len(offsets))):
                self.problem(f"subscribe since {self.expected - 1} answered offsets {offsets[:5]}..{offsets[-3:]}")
            if offsets:
                self.take(offsets[-1], live=False, count=len(offsets))
            self.paged_pubs += len(offsets)
            self.live = not item["more"]
        if not future.done():
            future.set_result(item)

    def take(self, offset, live, count=1):
        if offset != self.expected + count - 1:
            kind = "a repeat" if offset < self.expected + count - 1 else "a gap"
            self.problem(f"{kind}: offset {offset} where {self.expected + count - 1} was due")
        self.expected = offset + 1
        if live:
            self.live_pubs += 1
        if offset > self.covered_to:
            self.covered_to = offset
        if self.caught_up is not None and not self.caught_up[1].done() and offset >= self.caught_up[0]:
            self.caught_up[1].set_result(True)

    async def request(self, kind, **fields):
        request_id = self.next_id
        self.next_id += 1
        future = asyncio.get_running_loop().create_future()
        self.answers[request_id] = future
        self.connection.send(json.dumps({"t": kind, "id": request_id, **fields}).encode())
        return await asyncio.wait_for(future, 30)

    async def resume(self):
        """A new connection, subscribed live from self.since."""
        self.sessions += 1
        self.live = False
        self.answers = {}
        for attempt in range(5):
            try:
                self.connection = await open_hub(self.port, self.on_item)
                break
            except ConnectionError:
                # An upgrade the loaded machine did not get through in time (408 after the
                # handshake timeout, a dropped SYN): a real client tries again, from the same since.
                self.refused_upgrades += 1
                if attempt == 4:
                    raise
                await asyncio.sleep(0.5)
        connected = await self.request("connect", token=self.token)
        if connected.get("t") != "ok":
            raise AssertionError(f"connect answered {connected}")
        self.expected = self.since + 1
        since = self.since
        while True:
            answer = await self.request("subscribe", ch=self.channel, since={"ep": self.epoch, "off": since})
            self.pages += 1
            if answer.get("t") != "ok" or not answer.get("rec") or answer.get("ep") != self.epoch:
                self.problem(f"subscribe since {since} answered {str(answer)[:200]}")
                return False
            if not answer["more"]:
                return True
            since = self.expected - 1

    def drop(self):
        """Gone without a close frame, as a client whose network vanished."""
        self.live = False
        if self.connection is not None:
            if self.connection.lost.done():
                self.closed_by_server += 1  # e.g. a reader too slow for the server's send queue
            self.connection.transport.abort()
            self.connection = None
        self.since = self.expected - 1
        if self.rng.random() < 0.15 and self.since > self.first_since:
            # Sometimes from an older offset (a client that lost its last state): still in history.
            self.since = self.rng.randint(max(self.first_since, self.since - 1500), self.since)
            self.rewinds += 1

    async def run(self, finish):
        """Sessions until `finish` (an asyncio.Event) is set."""
        online_min, online_max, offline_min, offline_max = self.timing
        await asyncio.sleep(self.rng.uniform(0, offline_max))
        while not finish.is_set():
            if not await self.resume():
                return
            try:
                await asyncio.wait_for(finish.wait(), self.rng.uniform(online_min, online_max))
            except asyncio.TimeoutError:
                pass
            if finish.is_set():
                return  # stays connected: catch_up() checks it reaches the head
            self.drop()
            try:
                await asyncio.wait_for(finish.wait(), self.rng.uniform(offline_min, offline_max))
            except asyncio.TimeoutError:
                pass

    async def catch_up(self, head, timeout):
        """After the publishers stopped: connected (or resumed once more) until `head` is seen."""
        if not self.problems and (self.connection is None or self.connection.lost.done()):
            if self.connection is not None:
                self.closed_by_server += 1
                self.connection = None
                self.since = self.expected - 1
            await self.resume()
        if self.covered_to < head:
            self.caught_up = (head, asyncio.get_running_loop().create_future())
            try:
                await asyncio.wait_for(self.caught_up[1], timeout)
            except asyncio.TimeoutError:
                pass
        if self.covered_to != head:
            self.problem(f"covered up to {self.covered_to}, the channel's head is {head}")
        if self.connection is not None:
            self.connection.transport.abort()


def client_worker(port, plan, timing, seed, finish_event, heads_queue, results):
    """A process's share of the clients: plan is [(token, channel, epoch, since)]."""
    async def main():
        rng = random.Random(seed)
        clients = [ResumingClient(port, token, channel, epoch, since, random.Random(rng.random()), timing)
                   for token, channel, epoch, since in plan]
        finish = asyncio.Event()
        tasks = [asyncio.create_task(c.run(finish)) for c in clients]
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, finish_event.wait)
        finish.set()
        failures = []
        for task in await asyncio.gather(*tasks, return_exceptions=True):
            if isinstance(task, BaseException):
                failures.append(repr(task))
        heads = await loop.run_in_executor(None, heads_queue.get)
        await asyncio.gather(*(c.catch_up(heads[c.channel], 30) for c in clients), return_exceptions=True)
        totals = {k: sum(getattr(c, k) for c in clients)
                  for k in ("sessions", "rewinds", "pages", "live_pubs", "paged_pubs", "refused_upgrades",
                                  "closed_by_server")}
        totals["problems"] = [p for c in clients for p in c.problems] + failures
        totals["clients"] = len(clients)
        results.put(totals)
    asyncio.run(main())


class ApiPublisher(asyncio.Protocol):
    """One keep-alive API connection sending POST /api/publish, up to `window` pipelined, paced
    to `rate` per second over `channels` in turn, until `stop_at`; counts the answers."""

    def __init__(self, key, channels, rate, stop_at, counts, first, window=2):
        self.head = (f"POST /api/publish HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
                     f"Content-Type: application/json\r\nContent-Length: ").encode()
        self.channels, self.interval, self.stop_at, self.counts = channels, 1.0 / rate, stop_at, counts
        self.n, self.window, self.in_flight = first, window, 0
        self.buffer = bytearray()
        self.transport = None
        self.done = asyncio.get_running_loop().create_future()
        self.due = time.monotonic()
        self.timer = None

    def connection_made(self, transport):
        self.transport = transport
        self.send_due()

    def send_due(self):
        self.timer = None
        now = time.monotonic()
        while self.in_flight < self.window and self.due <= now and now < self.stop_at:
            channel = self.channels[self.n % len(self.channels)]
            body = b'{"channel":"%s","data":{"n":%d}}' % (channel.encode(), self.n)
            self.transport.write(self.head + b"%d\r\n\r\n" % len(body) + body)
            self.n += 1
            self.in_flight += 1
            self.due += self.interval
        if now >= self.stop_at:
            if not self.in_flight:
                self.finish(None)
        elif self.in_flight < self.window and self.timer is None:
            self.timer = asyncio.get_running_loop().call_later(max(0.0, self.due - now), self.send_due)

    def data_received(self, data):
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).lower()
            length = int(head.split(b"content-length:")[1].split(b"\r\n")[0])
            if len(self.buffer) < end + 4 + length:
                return
            del self.buffer[:end + 4 + length]
            self.counts["api" if head.startswith(b"http/1.1 200") else "refused"] += 1
            self.in_flight -= 1
            if self.timer is None:
                self.send_due()

    def finish(self, error):
        if not self.done.done():
            if error:
                self.done.set_exception(error)
            else:
                self.done.set_result(None)
        self.transport.close()

    def connection_lost(self, exc):
        if not self.done.done():
            self.done.set_exception(ConnectionError(f"the API connection closed: {exc}"))


async def api_publisher(port, key, channels, rate, stop_at, counts, first=0):
    loop = asyncio.get_running_loop()
    _, publisher = await loop.create_connection(lambda: ApiPublisher(key, channels, rate, stop_at, counts, first),
                                                "127.0.0.1", port)
    await publisher.done


async def hub_publisher(port, token, channel, rate, stop_at, counts, window=16):
    """A hub client subscribed to `channel` publishing into it (publish = "subscribers")."""
    pending = asyncio.Queue()

    def on_item(item):
        if "id" in item:
            pending.put_nowait(item)

    connection = await open_hub(port, on_item)
    connection.send(json.dumps({"t": "connect", "id": 1, "token": token}).encode())
    connection.send(json.dumps({"t": "subscribe", "id": 2, "ch": channel}).encode())
    for _ in range(2):
        answer = await asyncio.wait_for(pending.get(), 20)
        if answer.get("t") != "ok":
            raise AssertionError(f"hub publisher: {answer}")
    interval, due, sent, answered = 1.0 / rate, time.monotonic(), 0, 0
    while time.monotonic() < stop_at:
        while sent - answered < window and due <= time.monotonic():
            connection.send(json.dumps({"t": "publish", "id": 3 + sent, "ch": channel, "data": {"h": sent}}).encode())
            sent += 1
            due += interval
        answer = await asyncio.wait_for(pending.get(), 20)
        answered += 1
        counts["hub" if answer.get("t") == "ok" else "refused"] += 1
        if sent - answered < window and due > time.monotonic():
            await asyncio.sleep(max(0.0, due - time.monotonic()))
    while answered < sent:
        answer = await asyncio.wait_for(pending.get(), 20)
        answered += 1
        counts["hub" if answer.get("t") == "ok" else "refused"] += 1
    connection.transport.abort()


def publisher_worker(port, api_port, key, channels, hub_tokens, rate, duration, api_clients, hub_share,
                     start_event, results):
    """Publishes at `rate` for `duration` s: `hub_share` of it from hub clients (one per token, each
    into one channel), the rest from `api_clients` keep-alive API connections over all channels."""
    async def main():
        counts = {"api": 0, "hub": 0, "refused": 0}
        await asyncio.get_running_loop().run_in_executor(None, start_event.wait)
        started = time.monotonic()
        stop_at = started + duration
        hub_rate = rate * hub_share / max(1, len(hub_tokens))
        api_rate = rate * (1 - hub_share) / api_clients
        tasks = [api_publisher(api_port, key, channels, api_rate, stop_at, counts, first=i * 7)
                 for i in range(api_clients)]
        tasks += [hub_publisher(port, token, channels[i % len(channels)], hub_rate, stop_at, counts)
                  for i, token in enumerate(hub_tokens)]
        outcome = await asyncio.gather(*tasks, return_exceptions=True)
        counts["elapsed"] = time.monotonic() - started
        counts["errors"] = [repr(o) for o in outcome if isinstance(o, BaseException)]
        results.put(counts)
    asyncio.run(main())
