#!/usr/bin/python3
"""A hub-protocol client for the backend SDKs' tests (Go and Node have no WebSocket client
without a dependency): python3-websockets, driven through pipes.

Usage: hub_client.py ws://HOST:PORT/hub
Each line on stdin is a JSON frame to send; each text frame received is written to stdout as
one line. The server's {"t":"ping"} is answered with {"t":"pong"} (and still printed). When
the server closes, {"t":"_closed","code":N,"reason":R} is printed and the script exits; at the
end of stdin it closes the connection itself and exits.
"""
import asyncio
import json
import sys

import websockets


async def main(url: str) -> None:
    async with websockets.connect(url, subprotocols=["wshub.v1.json"], max_size=None) as ws:
        loop = asyncio.get_running_loop()

        async def forward_stdin() -> None:
            while True:
                line = await loop.run_in_executor(None, sys.stdin.readline)
                if not line:
                    await ws.close()
                    return
                if line.strip():
                    await ws.send(line.strip())

        sender = asyncio.ensure_future(forward_stdin())
        try:
            async for frame in ws:
                print(frame, flush=True)
                if json.loads(frame).get("t") == "ping":
                    await ws.send('{"t":"pong"}')
        except websockets.ConnectionClosed:
            pass
        print(json.dumps({"t": "_closed", "code": ws.close_code, "reason": ws.close_reason}), flush=True)
        sender.cancel()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
    # The stdin reader thread may still block in readline; leave without waiting for it.
    sys.stdout.flush()
    import os
    os._exit(0)
