#!/usr/bin/python3
"""A field terminal for the device dashboard: gets a device token from the backend, holds a
wshub connection as that device (so it receives commands on its personal channel
$device:ID), carries the commands out (toggle_led flips its LED) and reports its state to the
backend over HTTPS every second. Runs under Debian's python3 with python3-websockets.

    terminal.py --device term-1 --base https://127.0.0.1:8443 --ca ca.pem
"""

import argparse
import asyncio
import json
import logging
import random
import signal
import ssl
import time
import urllib.error
import urllib.request

import websockets

log = logging.getLogger("terminal")


class HubRefusal(Exception):
    """wshub answered connect with an error."""


class Terminal:
    def __init__(self, device, base, tls, interval):
        self.device = device
        self.base = base.rstrip("/")
        self.hub_url = "wss://" + self.base.split("://", 1)[1] + "/hub"
        self.tls = tls
        self.interval = interval
        self.started = time.monotonic()
        self.seq = 0
        self.led = False
        self.temperature = 20.0 + random.random() * 5
        self.last_command = ""
        self.hub_connected = False

    # HTTP to the backend: blocking urllib, run in a thread.
    def _post(self, path, body):
        request = urllib.request.Request(self.base + path, data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, context=self.tls, timeout=5) as answer:
            return json.loads(answer.read())

    async def post(self, path, body):
        return await asyncio.to_thread(self._post, path, body)

    def report(self):
        self.seq += 1
        self.temperature += random.uniform(-0.2, 0.2)
        return {
            "device": self.device,
            "seq": self.seq,
            "led": self.led,
            "temperature_c": round(self.temperature, 2),
            "uptime_s": int(time.monotonic() - self.started),
            "hub_connected": self.hub_connected,
            "last_command": self.last_command,
        }

    async def report_forever(self):
        failing = False
        while True:
            try:
                await self.post("/report", self.report())
                if failing:
                    log.info("reports reach the backend again")
                failing = False
            except (OSError, urllib.error.URLError, ValueError) as e:
                if not failing:
                    log.warning("report not delivered: %s", e)
                failing = True
            await asyncio.sleep(self.interval)

    async def hub_forever(self):
        delay = 1.0
        while True:
            try:
                token = (await self.post("/token/device", {"device": self.device}))["token"]
                async with websockets.connect(self.hub_url, ssl=self.tls, subprotocols=["wshub.v1.json"],
                                              ping_interval=None, open_timeout=10) as ws:
                    await self.hello(ws, token)
                    delay = 1.0
                    async for frame in ws:
                        await self.on_frame(ws, frame)
                    log.warning("wshub closed the connection: %s %s", ws.close_code, ws.close_reason)
            except (OSError, urllib.error.URLError, ValueError, KeyError, HubRefusal,
                    asyncio.TimeoutError, websockets.WebSocketException) as e:
                log.warning("wshub connection: %s", e)
            finally:
                self.hub_connected = False
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, 10.0)

    async def hello(self, ws, token):
        await ws.send(json.dumps({"t": "connect", "id": 1, "token": token,
                                  "client": {"sdk": "device-dashboard-terminal", "version": "1"}}))
        answer = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if answer.get("t") != "ok":
            raise HubRefusal(f"connect refused: {answer}")
        self.hub_connected = True
        log.info("connected to wshub as device %s (cid %s)", answer.get("device"), answer.get("cid"))

    async def on_frame(self, ws, frame):
        message = json.loads(frame)
        kind = message.get("t")
        if kind == "ping":
            await ws.send('{"t":"pong"}')
        elif kind == "pub" and message.get("ch") == "$device:" + self.device:
            self.carry_out(message.get("data") or {})
        elif kind == "disconnect":
            log.warning("wshub disconnects us: %s %s", message.get("code"), message.get("reason"))

    def carry_out(self, command):
        if command.get("action") == "toggle_led":
            self.led = not self.led
            log.info("command %s: LED %s", command.get("command"), "on" if self.led else "off")
        else:
            log.warning("command %s: unknown action %r", command.get("command"), command.get("action"))
        self.last_command = command.get("command", "")


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", required=True, help="this terminal's id")
    parser.add_argument("--base", required=True, help="https://HOST:PORT of nginx in front of the backend and wshub")
    parser.add_argument("--ca", help="CA certificate to trust (wshub cert's ca.pem); default: the system's")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between reports")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s {args.device} %(levelname)s %(message)s")
    tls = ssl.create_default_context(cafile=args.ca)
    terminal = Terminal(args.device, args.base, tls, args.interval)
    work = asyncio.gather(terminal.report_forever(), terminal.hub_forever())
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, work.cancel)
    try:
        await work
    except asyncio.CancelledError:
        log.info("stopped")


if __name__ == "__main__":
    asyncio.run(main())
