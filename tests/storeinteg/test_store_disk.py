# Disk trouble under the real binary (docs/durability.md, "Disk trouble"): a full disk (a small
# tmpfs), a read-only or immutable database, and a database deleted under a running server.
# Each must answer publishers 503 with a body naming the problem, log it, count it in
# wshub_store_append_errors_total, and never answer 200 for a publication that is not stored.
# The tmpfs and chattr cases need root (CAP_SYS_ADMIN, CAP_LINUX_IMMUTABLE) and are skipped,
# with the reason, without it.

import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
import unittest

from store_support import ApiClient, DurableServer, main, start_durable, store_config, wait_ready

CHANNEL = "disk"
PAD = "x" * 4000  # about one SQLite page of data per publication: a 3 MiB disk fills quickly


def mount_tmpfs(case, size):
    """A fresh tmpfs of `size` (e.g. "3m"), unmounted in cleanup (after the server stops)."""
    directory = tempfile.mkdtemp(prefix="wshub-disk-")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", directory],
                          capture_output=True, text=True)
    if done.returncode != 0:
        os.rmdir(directory)
        case.skipTest(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
    case.addCleanup(os.rmdir, directory)
    case.addCleanup(subprocess.run, ["umount", directory], capture_output=True)
    return directory


def stored_publications(database):
    """{offset: data} of CHANNEL as a fresh start would find it: the database and its WAL copied
    to a roomy disk and opened by Python's sqlite3 (which replays only committed frames)."""
    with tempfile.TemporaryDirectory() as roomy:
        for suffix in ("", "-wal"):
            if os.path.exists(database + suffix):
                shutil.copyfile(database + suffix, os.path.join(roomy, "copy.db" + suffix))
        connection = sqlite3.connect(os.path.join(roomy, "copy.db"))
        try:
            rows = connection.execute(
                "SELECT off, data FROM pubs JOIN channels ON channels.id = pubs.channel_id "
                "WHERE channels.name = ? ORDER BY off", (CHANNEL,)).fetchall()
        finally:
            connection.close()
    return {offset: json.loads(data) for offset, data in rows}


def store_lines(server, words):
    return [line for line in server.log().splitlines() if "store:" in line and words in line]


class DiskTrouble(unittest.TestCase):
    def publish(self, client, n):
        return client.post("/api/publish", {"channel": CHANNEL, "data": {"n": n, "pad": PAD}})

    def assert_refusal(self, answer, words):
        self.assertEqual(answer.status, 503, answer)
        message = answer.json["error"]["message"]
        self.assertIn(words, message, answer)
        return message

    def test_full_disk_refuses_then_recovers_when_space_is_freed(self):
        disk = mount_tmpfs(self, "3m")
        filler = os.path.join(disk, "filler")
        with open(filler, "wb") as f:
            f.write(b"\0" * (512 * 1024))
        database = os.path.join(disk, "hub.db")
        server = start_durable(self, store_config(path=database))
        client = ApiClient(server.api_port)
        self.addCleanup(client.close)
        acked, refused, n, streak = {}, 0, 0, 0
        # Until the disk has refused 20 publications in a row (a checkpoint after a refusal may
        # make room for a few more first).
        while streak < 20:
            self.assertLess(n, 5000, "3 MiB never filled")
            answer = self.publish(client, n)
            if answer.status == 200:
                acked[answer.json["offset"]] = n
                streak = 0
            else:
                message = self.assert_refusal(answer, "is full")
                self.assertIn(database, message)
                refused += 1
                streak += 1
            n += 1
        self.assertGreater(len(acked), 50, "the disk filled almost at once")
        lines = store_lines(server, "is full")
        self.assertTrue(lines, f"no log line about the full disk; log:\n{server.log()[-2000:]}")
        # One line a second at most, however many publications were refused.
        self.assertLess(len(lines), refused, lines[:3])
        self.assertGreaterEqual(server.metric("wshub_store_append_errors_total"), refused)

        os.unlink(filler)
        for _ in range(5):
            answer = self.publish(client, n)
            self.assertEqual(answer.status, 200, f"after space was freed: {answer}")
            acked[answer.json["offset"]] = n
            n += 1
        self.assertEqual(server.stop(), 0, server.log()[-3000:])

        stored = stored_publications(database)
        missing = [offset for offset, sent in acked.items() if stored.get(offset, {}).get("n") != sent]
        self.assertEqual(missing, [], f"{len(missing)} of {len(acked)} answered publications are not stored")
        self.assertEqual(sorted(stored), list(range(1, len(stored) + 1)), "stored offsets have a gap")
        print(f"\nfull disk: {len(acked)} publications answered 200 and stored, {refused} refused with 503")

    def stopped_server_on_tmpfs(self):
        """A server that made its database on a fresh tmpfs and stopped: (server, disk, path)."""
        disk = mount_tmpfs(self, "4m")
        database = os.path.join(disk, "hub.db")
        server = DurableServer(config=store_config(path=database), threads=1)
        self.addCleanup(server.close)
        server.start()
        wait_ready(server)
        server.stop()
        return server, disk, database

    def assert_start_refused(self, server, database, sentence):
        with self.assertRaises(RuntimeError) as refused:
            server.start()
        line = [line for line in str(refused.exception).splitlines() if "store:" in line]
        self.assertTrue(line, str(refused.exception))
        self.assertIn(database, line[0])
        self.assertIn(sentence, line[0])

    def test_read_only_file_system_refuses_to_start(self):
        server, disk, database = self.stopped_server_on_tmpfs()
        subprocess.run(["mount", "-o", "remount,ro", disk], check=True)
        self.addCleanup(subprocess.run, ["mount", "-o", "remount,rw", disk])
        self.assert_start_refused(server, database, "read-only file system")

    def test_immutable_database_refuses_to_start(self):
        if shutil.which("chattr") is None:
            self.skipTest("no chattr (e2fsprogs) to make the database immutable")
        # tmpfs takes chattr +i; the test's own directory may not
        server, _, database = self.stopped_server_on_tmpfs()
        done = subprocess.run(["chattr", "+i", database], capture_output=True, text=True)
        if done.returncode != 0:
            self.skipTest(f"chattr +i refused: {done.stderr.strip()}")
        self.addCleanup(subprocess.run, ["chattr", "-i", database], capture_output=True)
        self.assert_start_refused(server, database, "immutable")

    def test_read_only_remount_under_a_running_server(self):
        """Linux refuses to remount a file system read-only while a file on it is open for
        writing (EBUSY), and checks immutability only when a file is opened: a running wshub
        keeps its database writable. Should the remount succeed (another kernel), every publish
        must then be refused with a sentence, none answered 200."""
        disk = mount_tmpfs(self, "4m")
        database = os.path.join(disk, "hub.db")
        server = start_durable(self, store_config(path=database))
        client = ApiClient(server.api_port)
        self.addCleanup(client.close)
        self.assertEqual(self.publish(client, 0).status, 200)
        done = subprocess.run(["mount", "-o", "remount,ro", disk], capture_output=True, text=True)
        if done.returncode == 0:
            self.addCleanup(subprocess.run, ["mount", "-o", "remount,rw", disk])
            for n in range(1, 4):
                self.assertIn(database, self.assert_refusal(self.publish(client, n), "cannot be written"))
            return
        self.assertIn("busy", done.stderr.lower(), done.stderr)
        answers = [self.publish(client, n) for n in range(1, 4)]
        self.assertEqual([a.status for a in answers], [200] * 3, answers)
        self.assertEqual(server.stop(), 0, server.log()[-3000:])
        self.assertEqual(sorted(stored_publications(database)), [1, 2, 3, 4])

    def test_database_deleted_under_a_running_server(self):
        server = start_durable(self, store_config())
        client = ApiClient(server.api_port)
        self.addCleanup(client.close)
        first = self.publish(client, 0)
        self.assertEqual(first.status, 200, first)
        database = server.database()
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(database + suffix):
                os.unlink(database + suffix)
        for n in range(1, 6):
            message = self.assert_refusal(self.publish(client, n), "was deleted")
            self.assertIn(database, message)
        lines = store_lines(server, "was deleted")
        self.assertIn(len(lines), (1, 2), f"one line a second at most: {lines}")
        self.assertGreaterEqual(server.metric("wshub_store_append_errors_total"), 5)
        # A restart starts a new database: a new epoch, and nothing of the refused publications.
        self.assertEqual(server.stop(), 0, server.log()[-3000:])
        server.start()
        wait_ready(server)
        client = ApiClient(server.api_port)
        self.addCleanup(client.close)
        answer = self.publish(client, 6)
        self.assertEqual(answer.status, 200, answer)
        self.assertNotEqual(answer.json["epoch"], first.json["epoch"])
        self.assertEqual(answer.json["offset"], 1)

    def test_wal_deleted_under_a_running_server(self):
        server = start_durable(self, store_config())
        client = ApiClient(server.api_port)
        self.addCleanup(client.close)
        self.assertEqual(self.publish(client, 0).status, 200)
        os.unlink(server.database() + "-wal")
        message = self.assert_refusal(self.publish(client, 1), "was deleted")
        self.assertIn(server.database() + "-wal", message)
        self.assertTrue(store_lines(server, "-wal was deleted"), server.log()[-2000:])
        self.assertEqual(server.stop(), 0, server.log()[-3000:])


if __name__ == "__main__":
    main()
