# Resume at the switch under load (issue 11, "Crash safety"): publications arrive at 5,000/s
# (keep-alive API clients and hub clients publishing into channels they subscribe to) while
# 1,000 clients disconnect abruptly and resume at random offsets; every client sees every offset
# of its channel exactly once per session (last+1, last+2, ... after each resume, whether from its
# last offset or an older one), and in the end covers its channel up to the head.
#
# The scale is set by arguments (defaults: the full load, for the release build):
#   --clients 1000 --rate 5000 --duration 25 --channels 50 --processes 2
# The clients are split over --processes Python processes; the publishers run in three more.

import multiprocessing
import random
import sys
import time
import unittest

import resume_load
from store_support import ApiClient, API_KEY, DurableServer, main, store_config, wait_ready
from wshubtest.api_support import mint_token

SCALE = {"clients": 1000, "rate": 5000, "duration": 25.0, "channels": 50, "processes": 2}
API_CLIENTS = 24         # keep-alive API connections, split over the publishing processes
PUBLISHER_PROCESSES = 3
HUB_PUBLISHERS = 4
HUB_SHARE = 0.1          # of the rate, published by hub clients
PREFILL = 400            # publications per channel before the clients start
TIMING = (0.2, 1.0, 0.5, 2.5)  # online for 0.2-1 s, then away for 0.5-2.5 s

NAMESPACES = [{"name": "", "subscribe": "authenticated", "publish": "subscribers", "history_size": 1000000}]


def take_scale_arguments():
    for name in SCALE:
        flag = f"--{name}"
        if flag in sys.argv:
            i = sys.argv.index(flag)
            SCALE[name] = type(SCALE[name])(sys.argv[i + 1])
            del sys.argv[i:i + 2]


class ResumeUnderLoad(unittest.TestCase):
    def test_every_client_sees_every_offset_once_across_abrupt_resumes(self):
        clients, rate, duration = SCALE["clients"], SCALE["rate"], SCALE["duration"]
        channels = [f"load-{n}" for n in range(SCALE["channels"])]
        server = DurableServer(config=store_config(durability="fast", namespaces=NAMESPACES), threads=2)
        self.addCleanup(server.close)
        server.start()
        wait_ready(server)
        context = multiprocessing.get_context("fork")

        # History first, so the clients can start at earlier offsets inside it.
        start, done = context.Event(), context.Queue()
        prefill = context.Process(target=resume_load.publisher_worker,
                                  args=(server.port, server.api_port, API_KEY, channels, [], 5000,
                                        10.0 * PREFILL * len(channels) / 5000, API_CLIENTS, 0.0, start, done))
        api = ApiClient(server.api_port)
        self.addCleanup(api.close)
        epoch = api.post("/api/publish", {"channel": channels[0], "data": "first"}).json["epoch"]
        prefill.start()
        start.set()
        deadline = time.monotonic() + 60
        while min(self.head(api, c) for c in channels) < PREFILL and time.monotonic() < deadline:
            time.sleep(0.2)
        prefill.terminate()
        prefill.join()
        heads = {c: self.head(api, c) for c in channels}
        self.assertGreaterEqual(min(heads.values()), PREFILL)

        rng = random.Random(11)
        plan = [(mint_token(f"resumer{n}", ttl=3600), channels[n % len(channels)], epoch,
                 rng.randint(0, heads[channels[n % len(channels)]] - 1)) for n in range(clients)]
        finish, heads_queue, results = context.Event(), context.Queue(), context.Queue()
        workers = [context.Process(target=resume_load.client_worker,
                                   args=(server.port, plan[i::SCALE["processes"]], TIMING, i, finish, heads_queue,
                                         results))
                   for i in range(SCALE["processes"])]
        for worker in workers:
            worker.start()
        start, published = context.Event(), context.Queue()
        hub_tokens = [mint_token(f"publisher{n}", ttl=3600) for n in range(HUB_PUBLISHERS)]
        # The rate split over PUBLISHER_PROCESSES processes; the hub clients' share all in the first.
        shares = [(hub_tokens, PUBLISHER_PROCESSES * HUB_SHARE)] + [([], 0.0)] * (PUBLISHER_PROCESSES - 1)
        publishers = [context.Process(target=resume_load.publisher_worker,
                                      args=(server.port, server.api_port, API_KEY, channels, tokens,
                                            rate / PUBLISHER_PROCESSES, duration, API_CLIENTS // PUBLISHER_PROCESSES,
                                            share, start, published))
                      for tokens, share in shares]
        for publisher in publishers:
            publisher.start()
        time.sleep(1.0)  # the clients connect meanwhile
        start.set()
        parts = [published.get(timeout=duration + 60) for _ in publishers]
        for publisher in publishers:
            publisher.join()
        counts = {k: sum(part[k] for part in parts) for k in ("api", "hub", "refused")}
        counts["elapsed"] = max(part["elapsed"] for part in parts)
        counts["errors"] = [e for part in parts for e in part["errors"]]
        heads = {c: self.head(api, c) for c in channels}
        finish.set()
        for _ in workers:
            heads_queue.put(heads)
        totals = [results.get(timeout=120) for _ in workers]
        for worker in workers:
            worker.join()

        achieved = (counts["api"] + counts["hub"]) / counts["elapsed"]
        sessions = sum(t["sessions"] for t in totals)
        print(f"\npublished {counts['api']} through the API and {counts['hub']} from hub clients in "
              f"{counts['elapsed']:.1f} s: {achieved:,.0f}/s (asked {rate:,}/s); {clients} clients, "
              f"{sessions} sessions ({sum(t['rewinds'] for t in totals)} from an older offset), "
              f"{sum(t['pages'] for t in totals)} subscribe answers, "
              f"{sum(t['paged_pubs'] for t in totals)} publications in answers, "
              f"{sum(t['live_pubs'] for t in totals)} live; "
              f"{sum(t['refused_upgrades'] for t in totals)} upgrades tried again, "
              f"{sum(t['closed_by_server'] for t in totals)} connections closed by the server", file=sys.stderr)
        timeouts = server.log().count("handshake timeout")
        if timeouts:
            print(f"the server logged {timeouts} handshake timeouts", file=sys.stderr)
        self.assertEqual(counts["errors"], [])
        self.assertEqual(counts["refused"], 0)
        problems = [p for t in totals for p in t["problems"]]
        self.assertEqual(problems[:20], [], f"{len(problems)} problems")
        self.assertEqual(sum(t["clients"] for t in totals), clients)
        self.assertGreaterEqual(sessions, 2 * clients, "too few resumes to mean anything")
        self.assertGreater(sum(t["rewinds"] for t in totals), 0)
        self.assertEqual(server.stop(), 0, server.log())

    @staticmethod
    def head(api, channel):
        answer = api.get(f"/api/history?channel={channel}&limit=1")
        if answer.status != 200:
            raise AssertionError(f"history of {channel} answered {answer}")
        return answer.json["offset"]


if __name__ == "__main__":
    take_scale_arguments()
    main()
