# The durable store against the real binary: offsets and epochs across restarts, `subscribe`
# with `since` (the missed publications, then live ones, none twice and none skipped, also while
# the API publishes), pages for a client far behind, gaps that cannot be filled, the `history`
# request, /api/history, and the sentences wshub refuses to start with.

import asyncio
import os
import sqlite3
import subprocess
import threading
import unittest

from store_support import (ApiClient, harness, main, publish, start_durable, store_config, wait_ready,
                           whole_history)
from wshubtest.api_support import ServerPerClass
from wshubtest.hub_client import HubClient, run


class Restarts(unittest.TestCase):
    def test_offsets_and_epoch_survive_a_restart(self):
        server = start_durable(self, store_config())
        api = ApiClient(server.api_port)
        first = [publish(api, "news", {"n": n}) for n in range(3)]
        self.assertEqual([p["offset"] for p in first], [1, 2, 3])
        api.close()
        server.restart()
        api = ApiClient(server.api_port)
        self.addCleanup(api.close)
        after = publish(api, "news", {"n": 3})
        self.assertEqual(after, {"epoch": first[0]["epoch"], "offset": 4})
        history, page = whole_history(server.api_port, "news", after["epoch"])
        self.assertEqual([p["offset"] for p in history], [1, 2, 3, 4])
        self.assertEqual([p["data"] for p in history], [{"n": n} for n in range(4)])
        self.assertTrue(page["recovered"])

    def test_a_namespace_without_history_starts_a_new_epoch(self):
        server = start_durable(self, store_config())
        api = ApiClient(server.api_port)
        before = publish(api, "none:x", 1)
        api.close()
        server.restart()
        api = ApiClient(server.api_port)
        self.addCleanup(api.close)
        after = publish(api, "none:x", 2)
        self.assertEqual(after["offset"], 1)
        self.assertNotEqual(after["epoch"], before["epoch"])
        answer = api.get("/api/history?channel=none:x")
        self.assertEqual((answer.status, answer.error_code), (400, 108))

    def test_subscribe_since_after_a_restart_gets_what_was_missed_then_live(self):
        server = start_durable(self, store_config())

        async def body():
            client = await HubClient.open(server, user="ann")
            answer = await client.ok("subscribe", ch="news")
            epoch = answer["ep"]
            api = ApiClient(server.api_port)
            publish(api, "news", "one")
            publish(api, "news", "two")
            seen = [(await client.push("pub"))["off"] for _ in range(2)]
            self.assertEqual(seen, [1, 2])
            await client.close()
            api.close()
            server.restart()
            api = ApiClient(server.api_port)
            for text in ("three", "four", "five"):
                publish(api, "news", text)
            client = await HubClient.open(server, user="ann")
            answer = await client.ok("subscribe", ch="news", since={"ep": epoch, "off": 2})
            self.assertEqual((answer["ep"], answer["off"], answer["rec"], answer["more"]), (epoch, 5, True, False))
            self.assertEqual([(p["off"], p["data"]) for p in answer["pubs"]], [(3, "three"), (4, "four"), (5, "five")])
            publish(api, "news", "six")
            live = await client.push("pub")
            self.assertEqual((live["off"], live["data"]), (6, "six"))
            api.close()
        run(body())


class Resume(ServerPerClass):
    config = store_config(durability="fast")
    threads = 2

    def api(self):
        client = ApiClient(self.server.api_port)
        self.addCleanup(client.close)
        return client

    def test_no_publication_is_doubled_or_skipped_at_the_switch_to_live(self):
        """Two API clients publish without pause while clients resume at different offsets:
        each sees every offset after its `since` exactly once, in order."""
        api = self.api()
        epoch = publish(api, "switch", 0)["epoch"]
        for n in range(1, 50):
            publish(api, "switch", n)
        stop = threading.Event()

        def publisher():
            client = ApiClient(self.server.api_port)
            while not stop.is_set():
                publish(client, "switch", "live")
            client.close()

        threads = [threading.Thread(target=publisher) for _ in range(2)]
        for thread in threads:
            thread.start()

        async def resume(since):
            client = await HubClient.open(self.server, user=f"r{since}")
            answer = await client.ok("subscribe", ch="switch", since={"ep": epoch, "off": since})
            self.assertTrue(answer["rec"], answer)
            self.assertFalse(answer["more"])
            offsets = [p["off"] for p in answer["pubs"]]
            self.assertEqual(offsets, list(range(since + 1, answer["off"] + 1)))
            target = answer["off"] + 30
            while offsets[-1:] != [target] and (not offsets or offsets[-1] < target):
                offsets.append((await client.push("pub"))["off"])
            self.assertEqual(offsets, list(range(since + 1, offsets[-1] + 1)), "a gap or a repeat at the switch")
            # Live publications placed while the history was read come after the answer.
            first_pub = next(i for i, item in enumerate(client.arrivals) if item.get("t") == "pub")
            answered = next(i for i, item in enumerate(client.arrivals) if item.get("t") == "ok" and "pubs" in item)
            self.assertLess(answered, first_pub, "a live pub overtook the subscribe answer")
            await client.close()

        async def body():
            await asyncio.gather(*(resume(since) for since in (0, 5, 17, 33, 48)))
            await asyncio.gather(*(resume(since) for since in (1, 20, 40)))
        try:
            run(body())
        finally:
            stop.set()
            for thread in threads:
                thread.join()

    def test_connect_subs_resume_and_the_answer_comes_before_any_pub(self):
        """A reconnect resumes through connect's `subs` while the API publishes: the connect
        answer carries the missed publications, and the first `pub` after it continues them."""
        api = self.api()
        epoch = None
        for n in range(20):
            epoch = publish(api, "recon", n)["epoch"]
        stop = threading.Event()

        def publisher():
            client = ApiClient(self.server.api_port)
            while not stop.is_set():
                publish(client, "recon", "live")
            client.close()

        thread = threading.Thread(target=publisher)
        thread.start()

        async def body():
            for since in (3, 11, 19):
                client = await HubClient.open(self.server, user=f"c{since}",
                                              subs={"recon": {"since": {"ep": epoch, "off": since}},
                                                    "none:y": {}, "nope:z": {}})
                self.assertEqual(client.connected["t"], "ok", client.connected)
                entry = client.connected["subs"]["recon"]
                self.assertTrue(entry["rec"], entry)
                offsets = [p["off"] for p in entry["pubs"]]
                self.assertEqual(offsets, list(range(since + 1, entry["off"] + 1)))
                self.assertEqual(client.connected["subs"]["nope:z"]["err"]["code"], 102)
                self.assertIn("ep", client.connected["subs"]["none:y"])
                self.assertEqual(client.arrivals[0]["t"], "ok", "something came before the connect answer")
                nxt = await client.push("pub")
                self.assertEqual(nxt["off"], entry["off"] + 1)
                await client.close()
        try:
            run(body())
        finally:
            stop.set()
            thread.join()

    def test_a_client_far_behind_gets_pages_and_subscribes_again(self):
        api = self.api()
        epoch = None
        for n in range(1500):
            epoch = publish(api, "far", n)["epoch"]

        async def body():
            client = await HubClient.open(self.server, user="far")
            first = await client.ok("subscribe", ch="far", since={"ep": epoch, "off": 0})
            self.assertEqual((first["rec"], first["more"], first["off"]), (True, True, 1500))
            self.assertEqual([p["off"] for p in first["pubs"]], list(range(1, 1001)))
            # Not subscribed yet: a publication now is not pushed, it comes with the next page.
            publish(api, "far", 1500)
            await client.round_trip()
            self.assertFalse([p for p in client.all_pushes if p.get("t") == "pub"])
            second = await client.ok("subscribe", ch="far", since={"ep": epoch, "off": 1000})
            self.assertEqual((second["rec"], second["more"], second["off"]), (True, False, 1501))
            self.assertEqual([p["off"] for p in second["pubs"]], list(range(1001, 1502)))
            publish(api, "far", 1501)
            self.assertEqual((await client.push("pub"))["off"], 1502)
        run(body())

    def test_a_gap_that_cannot_be_filled_says_rec_false_with_the_current_position(self):
        api = self.api()
        for n in range(10):
            last = publish(api, "short:gap", n)

        async def body():
            client = await HubClient.open(self.server, user="gap")
            gone = await client.ok("subscribe", ch="short:gap", since={"ep": last["epoch"], "off": 2})
            self.assertEqual((gone["rec"], gone["ep"], gone["off"], gone["pubs"]), (False, last["epoch"], 10, []))
            await client.ok("unsubscribe", ch="short:gap")
            kept = await client.ok("subscribe", ch="short:gap", since={"ep": last["epoch"], "off": 7})
            self.assertEqual((kept["rec"], [p["off"] for p in kept["pubs"]]), (True, [8, 9, 10]))
            await client.ok("unsubscribe", ch="short:gap")
            other = await client.ok("subscribe", ch="short:gap", since={"ep": "elsewhere", "off": 7})
            self.assertEqual((other["rec"], other["ep"], other["off"]), (False, last["epoch"], 10))
        run(body())

    def test_history_request_pages_and_says_whether_more_follow(self):
        api = self.api()
        for n in range(12):
            last = publish(api, "hist", {"n": n})

        async def body():
            client = await HubClient.open(self.server, user="h")
            page = await client.ok("history", ch="hist", since={"ep": last["epoch"], "off": 4}, limit=5)
            self.assertEqual([p["off"] for p in page["pubs"]], [5, 6, 7, 8, 9])
            self.assertEqual((page["rec"], page["more"], page["off"], page["ep"]), (True, True, 12, last["epoch"]))
            latest = await client.ok("history", ch="hist", limit=2)
            self.assertEqual([(p["off"], p["data"]) for p in latest["pubs"]], [(11, {"n": 10}), (12, {"n": 11})])
            self.assertFalse(latest["more"])
            trimmed = await client.ok("history", ch="short:none-yet")
            self.assertEqual(trimmed["pubs"], [])
            off = await client.request("history", ch="none:x")
            self.assertEqual((off["t"], off["code"]), ("err", 108))
        run(body())

    def test_api_history_by_get_and_post(self):
        api = self.api()
        for n in range(5):
            last = publish(api, "apih", n)
        got = api.get(f"/api/history?channel=apih&epoch={last['epoch']}&since=3")
        self.assertEqual(got.status, 200, got)
        self.assertEqual([(p["offset"], p["data"]) for p in got.json["publications"]], [(4, 3), (5, 4)])
        self.assertEqual((got.json["recovered"], got.json["more"], got.json["offset"]), (True, False, 5))
        posted = api.post("/api/history", {"channel": "apih", "epoch": last["epoch"], "since": 1, "limit": 2})
        self.assertEqual([p["offset"] for p in posted.json["publications"]], [2, 3])
        self.assertTrue(posted.json["more"])
        wrong = api.get("/api/history?channel=apih&epoch=other&since=1")
        self.assertEqual((wrong.json["recovered"], wrong.json["publications"]), (False, []))
        self.assertEqual(api.get("/api/history?channel=apih&since=1").status, 400)
        self.assertEqual(api.get("/api/history?channel=apih&since=x&epoch=e").status, 400)


class Refusals(unittest.TestCase):
    def refusal(self, prepare):
        server = harness.WshubWithApi(config=store_config())
        self.addCleanup(server.close)
        prepare(os.path.join(server.dir.name, "hub.db"))
        config = os.path.join(server.dir.name, "wshub.toml")
        with open(config, "w") as f:
            f.write(server.config)
        done = subprocess.run([harness.wshub_binary(), "--config", config, "--listen", "127.0.0.1:0"],
                              capture_output=True, timeout=30, text=True)
        self.assertNotEqual(done.returncode, 0)
        return done.stderr

    def test_a_file_that_is_not_a_database(self):
        def garbage(path):
            with open(path, "wb") as f:
                f.write(b"not a database at all " * 400)
        self.assertIn("is not a usable wshub database", self.refusal(garbage))

    def test_a_database_from_a_newer_wshub(self):
        def newer(path):
            db = sqlite3.connect(path)
            db.execute("PRAGMA user_version = 7")
            db.commit()
            db.close()
        self.assertIn("was written by a newer wshub (schema 7", self.refusal(newer))

    def test_a_database_another_wshub_uses(self):
        first = start_durable(self, store_config())
        config = os.path.join(first.dir.name, "wshub.toml")
        done = subprocess.run([harness.wshub_binary(), "--config", config, "--listen", "127.0.0.1:0"],
                              capture_output=True, timeout=30, text=True)
        self.assertNotEqual(done.returncode, 0)
        self.assertIn("is locked by another process", done.stderr)


if __name__ == "__main__":
    main()
