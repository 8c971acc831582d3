# A hub protocol client for the API's integration tests, over python3-websockets: connect,
# requests answered by id, pushes queued in arrival order, heartbeat pings answered, the close
# code kept. Only what the API's tests need to watch the API's effects; the hub protocol's own
# tests live in tests/hubinteg.

import asyncio
import json

import websockets
from websockets.exceptions import ConnectionClosed

from .api_support import mint_token


_open_clients = []


class HubClient:
    def __init__(self, ws):
        self.ws = ws
        self.next_id = 1
        self.answers = {}             # id -> Future
        self.pushes = asyncio.Queue()
        self.all_pushes = []
        self.arrivals = []            # every answer and push, in arrival order
        self.close_code = None
        self.close_reason = None
        self.reader = asyncio.create_task(self._read())
        self.connected = None         # the connect answer

    @classmethod
    async def open(cls, server, user=None, device=None, channels=None, info=None, token=None,
                   connect=True, **fields):
        """Opens /hub and sends connect: with a token for `user` (or `token` as given; no
        token at all when both are None). Returns the client; its connect answer is in
        `connected` (an error answer too, for the caller to check)."""
        ws = await websockets.connect(server.url("/hub"), subprotocols=["wshub.v1.json"],
                                      compression=None, max_size=None, open_timeout=20)
        client = cls(ws)
        _open_clients.append(client)
        if connect:
            if token is None and user is not None:
                token = mint_token(user, device=device, channels=channels, info=info)
            if token is not None:
                fields["token"] = token
            client.connected = await client.request("connect", **fields)
        return client

    async def _read(self):
        try:
            async for frame in self.ws:
                message = json.loads(frame)
                for item in message if isinstance(message, list) else [message]:
                    await self._take(item)
        except ConnectionClosed:
            pass
        finally:
            if self.ws.close_code is not None:
                self.close_code = self.ws.close_code
                self.close_reason = self.ws.close_reason
            for future in self.answers.values():
                if not future.done():
                    future.set_exception(ConnectionError(f"closed with {self.close_code}"))
            await self.pushes.put(None)

    async def _take(self, item):
        self.arrivals.append(item)
        kind = item.get("t")
        if kind == "ping" and "id" not in item:
            await self.ws.send('{"t":"pong"}')
            return
        if kind in ("ok", "err") and item.get("id") in self.answers:
            future = self.answers.pop(item["id"])
            if not future.done():
                future.set_result(item)
            return
        self.all_pushes.append(item)
        await self.pushes.put(item)

    async def request(self, kind, timeout=20, **fields):
        request_id = self.next_id
        self.next_id += 1
        future = asyncio.get_running_loop().create_future()
        self.answers[request_id] = future
        await self.ws.send(json.dumps({"t": kind, "id": request_id, **fields}))
        return await asyncio.wait_for(future, timeout)

    async def ok(self, kind, timeout=20, **fields):
        answer = await self.request(kind, timeout=timeout, **fields)
        if answer.get("t") != "ok":
            raise AssertionError(f"{kind} {fields} answered {answer}")
        return answer

    async def push(self, kind=None, timeout=20):
        """The next push (of type `kind`, skipping others); AssertionError on close/timeout."""
        async def wait():
            while True:
                item = await self.pushes.get()
                if item is None:
                    await self.pushes.put(None)  # later callers see the close too
                    raise AssertionError(f"closed ({self.close_code}) while waiting for a "
                                         f"{kind or 'push'} push; got {self.all_pushes}")
                if kind is None or item.get("t") == kind:
                    return item
        return await asyncio.wait_for(wait(), timeout)

    async def no_push(self, kind, settle):
        """Asserts no push of `kind` arrived after `settle` (an awaitable that makes sure the
        server has done its work, such as a ping round trip)."""
        await settle
        found = [p for p in self.all_pushes if p.get("t") == kind]
        if found:
            raise AssertionError(f"unexpected {kind} pushes: {found}")

    async def round_trip(self):
        """A ping answered by id: every push the server queued before it has arrived."""
        await self.ok("ping")

    async def closed(self, timeout=20):
        await asyncio.wait_for(self.reader, timeout)
        return self.close_code, self.close_reason

    async def close(self):
        await self.ws.close()
        try:
            await asyncio.wait_for(self.reader, 20)
        except asyncio.TimeoutError:
            self.reader.cancel()


def run(coroutine, timeout=120):
    """Runs a test's async body with an overall bound, then closes every client it opened
    (so the server's shutdown does not wait for them)."""
    async def body():
        try:
            return await asyncio.wait_for(coroutine, timeout)
        finally:
            clients = list(_open_clients)
            _open_clients.clear()
            for client in clients:
                try:
                    await asyncio.wait_for(client.close(), 5)
                except (asyncio.TimeoutError, ConnectionError, OSError):
                    client.ws.transport.abort()
    return asyncio.run(body())
