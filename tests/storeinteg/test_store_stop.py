# A clean stop under load: SIGTERM while several API clients publish without pause, under
# durability "fast" and "sync". wshub exits 0; after a restart every publish that was answered
# 200 is in history with its data, the history runs from 1 without a gap, and nothing claims an
# offset beyond the last stored one (the next publish continues right after it).

import http.client
import os
import sqlite3
import threading
import time
import unittest

from store_support import ApiClient, DurableServer, main, publish, store_config, wait_ready, whole_history

CHANNELS = ["stop-a", "stop-b", "stop-c"]
PUBLISHERS = 6


class Publisher(threading.Thread):
    """Publishes to the channels in turn until the server goes away; keeps what was answered 200."""

    def __init__(self, port, number):
        super().__init__(daemon=True)
        self.port = port
        self.number = number
        self.acknowledged = []  # (channel, offset, data)
        self.other = []         # answers other than 200 (the server stopping)
        self.ended_by = None

    def run(self):
        client = ApiClient(self.port, timeout=10)
        seq = 0
        try:
            while True:
                channel = CHANNELS[seq % len(CHANNELS)]
                data = {"p": self.number, "seq": seq}
                answer = client.post("/api/publish", {"channel": channel, "data": data})
                if answer.status == 200:
                    self.acknowledged.append((channel, answer.json["offset"], data))
                else:
                    self.other.append(answer.status)
                    if len(self.other) > 100:
                        return
                seq += 1
        except (OSError, http.client.HTTPException) as error:
            self.ended_by = error
        finally:
            client.close()


class CleanStop(unittest.TestCase):
    def stop_under_load(self, durability):
        server = DurableServer(config=store_config(durability=durability), threads=2)
        self.addCleanup(server.close)
        server.start()
        wait_ready(server)
        publishers = [Publisher(server.api_port, n) for n in range(PUBLISHERS)]
        for p in publishers:
            p.start()
        deadline = time.monotonic() + 10
        while sum(len(p.acknowledged) for p in publishers) < 3000 and time.monotonic() < deadline:
            time.sleep(0.05)
        code = server.stop()  # SIGTERM by PID, mid-stream
        for p in publishers:
            p.join(30)
            self.assertFalse(p.is_alive(), "a publisher still runs after the server stopped")
        self.assertEqual(code, 0, f"exit code after SIGTERM; stderr:\n{server.log()}")
        acknowledged = [a for p in publishers for a in p.acknowledged]
        self.assertGreater(len(acknowledged), 1000, "too few publishes before the stop to mean anything")
        self.assertTrue(all(p.ended_by is not None or p.other for p in publishers))

        # A clean stop leaves no WAL to replay: the database file alone holds everything.
        wal = server.database() + "-wal"
        self.assertFalse(os.path.exists(wal) and os.path.getsize(wal) > 0, "SIGTERM left a WAL behind")
        db = sqlite3.connect(f"file:{server.database()}?mode=ro", uri=True)
        stored = dict(db.execute("SELECT name, last_offset FROM channels").fetchall())
        db.close()

        server.start()
        wait_ready(server)
        api = ApiClient(server.api_port)
        self.addCleanup(api.close)
        by_channel = {}
        for channel, offset, data in acknowledged:
            by_channel.setdefault(channel, {})[offset] = data
        for channel in CHANNELS:
            position = publish(api, channel, "after the restart")
            history, page = whole_history(server.api_port, channel, position["epoch"])
            offsets = [p["offset"] for p in history]
            self.assertEqual(offsets, list(range(1, len(offsets) + 1)), f"{channel}: a gap or a repeat")
            last_before = len(offsets) - 1
            self.assertEqual(position["offset"], last_before + 1,
                             f"{channel}: the next publish does not follow the last stored offset")
            self.assertEqual(stored.get(channel), last_before, f"{channel}: the channel's row and its history differ")
            self.assertEqual(page["offset"], position["offset"])
            data_at = {p["offset"]: p["data"] for p in history}
            acked = by_channel.get(channel, {})
            self.assertTrue(acked)
            missing = sorted(off for off in acked if off not in data_at)
            self.assertEqual(missing, [], f"{channel}: publishes answered 200 are not in history")
            wrong = [off for off, data in acked.items() if data_at[off] != data]
            self.assertEqual(wrong, [], f"{channel}: history holds other data at acknowledged offsets")
            self.assertLessEqual(max(acked), last_before)
        self.assertEqual(server.stop(), 0)

    def test_sigterm_under_fast_keeps_every_acknowledged_publish(self):
        self.stop_under_load("fast")

    def test_sigterm_under_sync_keeps_every_acknowledged_publish(self):
        self.stop_under_load("sync")


if __name__ == "__main__":
    main()
