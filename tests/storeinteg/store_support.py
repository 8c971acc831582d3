# What the store's integration tests share: a config with namespaces that keep history, a
# server whose database stays in one directory across restarts (SIGTERM or SIGKILL), and
# readers of a channel's whole history through /api/history.

import os

from wshubtest import api_support, harness
from wshubtest.api_support import API_KEY, ApiClient, make_config, wait_ready  # noqa: F401

# "": history kept (10,000 per channel); "short": three kept; "none": no history.
HISTORY_NAMESPACES = [
    {"name": "", "subscribe": "authenticated", "publish": "subscribers", "history_size": 10000},
    {"name": "short", "subscribe": "authenticated", "publish": "subscribers", "history_size": 3},
    {"name": "none", "subscribe": "authenticated", "publish": "subscribers"},
]


def store_config(durability="sync", namespaces=HISTORY_NAMESPACES, path="hub.db"):
    return make_config(namespaces=namespaces) + f'\n[store]\npath = "{path}"\ndurability = "{durability}"\n'


class DurableServer(harness.WshubWithApi):
    """A wshub whose directory (config and database) outlives restarts."""

    def restart(self):
        self.stop()
        self.start()
        wait_ready(self)

    def kill(self):
        """SIGKILL, by PID: nothing gets to flush."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None
            self._log_file.close()
            self._log_file = None

    def database(self):
        return os.path.join(self.dir.name, "hub.db")


def start_durable(case, config, threads=2):
    server = DurableServer(config=config, threads=threads)
    case.addCleanup(server.close)
    server.start()
    wait_ready(server)
    return server


def publish(client, channel, data):
    answer = client.post("/api/publish", {"channel": channel, "data": data})
    if answer.status != 200:
        raise AssertionError(f"publish to {channel} answered {answer}")
    return answer.json


def whole_history(port, channel, epoch):
    """Every kept publication of `channel`, oldest first, read in pages with since."""
    client = ApiClient(port)
    try:
        out, since = [], 0
        while True:
            answer = client.get(f"/api/history?channel={channel}&epoch={epoch}&since={since}&limit=1000")
            if answer.status != 200:
                raise AssertionError(f"history answered {answer}")
            page = answer.json
            out += page["publications"]
            if not page["more"] or not page["publications"]:
                return out, page
            since = page["publications"][-1]["offset"]
    finally:
        client.close()


main = harness.main
