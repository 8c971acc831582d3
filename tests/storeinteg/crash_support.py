# What the kill -9 loops share (test_store_crash.py: publishes; test_inbox_crash.py: sends, and
# devices that take and ack them): keep-alive API clients that keep every answer 200, and the
# loop that starts a round of workers, SIGKILLs the server at a random moment, waits for the
# workers to see the cut, and restarts the server on the same database.

import http.client
import json
import sys
import threading
import time

from store_support import API_KEY, wait_ready


class ApiWorker(threading.Thread):
    """POSTs `request(n)` -> (path, body) on one keep-alive connection, n = 0, 1, ..., until the
    connection fails; calls `keep(n, body, answer)` for every answer 200. A request cut by the
    kill has no answer, so nothing is promised for it."""

    def __init__(self, port, request, keep):
        super().__init__(daemon=True)
        self.port, self.request, self.keep = port, request, keep

    def run(self):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
        n = 0
        try:
            while True:
                path, body = self.request(n)
                connection.request("POST", path, json.dumps(body), headers)
                response = connection.getresponse()
                answer = response.read()
                if response.status == 200:
                    self.keep(n, body, json.loads(answer))
                n += 1
        except (OSError, http.client.HTTPException):
            pass
        finally:
            connection.close()


def kill_loop(server, kills, rng, start_round, after_restart=None):
    """`kills` rounds of: start_round(round) -> started threads; sleep 0.05 to 0.4 s; SIGKILL;
    join the threads; restart and wait until ready; after_restart(round) when given."""
    for round_number in range(kills):
        workers = start_round(round_number)
        time.sleep(rng.uniform(0.05, 0.4))
        server.kill()
        for worker in workers:
            worker.join(15)
            if worker.is_alive():
                raise AssertionError(f"round {round_number}: a worker did not see the kill")
        server.start()
        wait_ready(server)
        if after_restart is not None:
            after_restart(round_number)


def take_kills_argument(default):
    """--kills N (fewer under the sanitizers) out of sys.argv; `default` without it."""
    if "--kills" in sys.argv:
        i = sys.argv.index("--kills")
        kills = int(sys.argv[i + 1])
        del sys.argv[i:i + 2]
        return kills
    return default
