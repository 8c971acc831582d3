#!/usr/bin/python3
"""The device dashboard end to end: run.sh starts wshub, the backend, nginx and two terminals
on free loopback ports; headless Chromium opens the page, sees both terminals, clicks term-1's
button and sees the command's effect in a later report. Then run.sh is stopped with SIGTERM
and every process it started must be gone.

    test_dashboard.py --wshub PATH --build-dir DIR
"""

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
RUN_SH = os.path.join(os.path.dirname(HERE), "run.sh")
options = None


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class Dashboard(unittest.TestCase):
    def setUp(self):
        self.output_path = os.path.join(options.build_dir, "run.sh.log")
        self.output = open(self.output_path, "wb")
        self.run_sh = subprocess.Popen(
            [RUN_SH, "--wshub", options.wshub, "--build-dir", options.build_dir, "--free-ports"],
            stdin=subprocess.DEVNULL, stdout=self.output, stderr=subprocess.STDOUT)
        self.addCleanup(self.stop)

    def read_output(self):
        with open(self.output_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def logs(self):
        logs = os.path.join(options.build_dir, "run", "logs")
        text = ""
        for name in sorted(os.listdir(logs)) if os.path.isdir(logs) else []:
            with open(os.path.join(logs, name), "rb") as f:
                text += f"--- {name}\n" + f.read().decode("utf-8", "replace")[-3000:]
        return text

    def wait_for_url(self, timeout=240):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(r"open (https://127\.0\.0\.1:\d+/)", self.read_output())
            if found:
                return found.group(1)
            if self.run_sh.poll() is not None:
                self.fail(f"run.sh exited with {self.run_sh.returncode}:\n{self.read_output()}\n{self.logs()}")
            time.sleep(0.2)
        self.fail(f"run.sh printed no URL within {timeout} s:\n{self.read_output()}")

    def started_pids(self):
        path = os.path.join(options.build_dir, "run", "pids")
        if not os.path.exists(path):
            return {}
        with open(path) as f:
            return {name: int(pid) for name, pid in (line.split() for line in f if line.strip())}

    def stop(self):
        """SIGTERM to run.sh, which stops what it started by PID; anything left is killed here
        by its PID and fails the test."""
        if self.run_sh.poll() is None:
            os.kill(self.run_sh.pid, signal.SIGTERM)
            try:
                self.run_sh.wait(60)
            except subprocess.TimeoutExpired:
                os.kill(self.run_sh.pid, signal.SIGKILL)
                self.run_sh.wait()
        self.output.close()
        left = {name: pid for name, pid in self.started_pids().items() if alive(pid)}
        for pid in left.values():
            os.kill(pid, signal.SIGKILL)
        self.assertEqual(left, {}, "run.sh left these running")

    def test_command_reaches_terminal_and_shows_in_its_next_report(self):
        url = self.wait_for_url()
        screenshot = os.path.join(options.build_dir, "dashboard.png")
        check = subprocess.run(["node", os.path.join(HERE, "dashboard_check.mjs"), url, screenshot],
                               cwd=HERE, capture_output=True, text=True, timeout=180)
        self.assertEqual(check.returncode, 0, f"stdout:\n{check.stdout}\nstderr:\n{check.stderr}")
        page = json.loads(check.stdout.strip().splitlines()[-1])
        print(f"screenshot: {screenshot}", file=sys.stderr)
        self.assertNotIn("error", page, f"{json.dumps(page, indent=1)}\n{self.logs()}")
        self.assertEqual(page["pageErrors"], [])
        self.assertIn("Chrome/", page["userAgent"])
        self.assertIn("connected as operator", page["hub"])

        before, answered, after = page["before"], page["answered"], page["after"]
        self.assertEqual(sorted(before), ["term-1", "term-2"])
        # The rpc's answer names the command the backend sent.
        command = answered["commandId"]
        self.assertRegex(command, r"^cmd-\d+$")
        self.assertIn(answered["commandStatus"], ("queued", "applied"))
        # A later report of term-1 says it carried that command out: its LED flipped.
        term1 = after["term-1"]
        self.assertEqual(term1["commandStatus"], "applied", term1)
        self.assertEqual(term1["lastCommand"], command)
        self.assertGreater(term1["seq"], before["term-1"]["seq"])
        self.assertNotEqual(term1["led"], before["term-1"]["led"])
        self.assertIn(f"{command} applied: LED {'on' if term1['led'] == 'true' else 'off'}", term1["commandText"])
        # term-2 got no command.
        self.assertEqual(after["term-2"]["lastCommand"], "")
        self.assertEqual(after["term-2"]["led"], before["term-2"]["led"])
        # The terminal itself logged it: the command came over its wshub connection.
        with open(os.path.join(options.build_dir, "run", "logs", "term-1.log")) as f:
            self.assertIn(f"command {command}: LED", f.read())
        self.assertTrue(os.path.getsize(screenshot) > 0)

        self.stop()
        self.assertEqual(self.run_sh.returncode, 0, self.read_output())
        self.assertEqual(sorted(self.started_pids()), ["backend", "nginx", "term-1", "term-2", "wshub"])


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--wshub", required=True)
    parser.add_argument("--build-dir", required=True)
    options, rest = parser.parse_known_args()
    os.makedirs(options.build_dir, exist_ok=True)
    options.build_dir = os.path.abspath(options.build_dir)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
