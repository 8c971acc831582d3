# Shared pieces of the hardening tests: a wshub started with a chosen I/O backend and resource
# limits, its memory and CPU time from /proc, /health, a well-behaved probe client, hostile raw
# sockets from several loopback source addresses, and a base test case that fails when the
# server does not exit 0 (under ASan/LSan a leak or an error report makes the exit non-zero).
# Knows nothing of wshub's internals: only its command line, its log lines, /health and the wire.

import functools
import json
import os
import resource
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import unittest

from . import harness
from .harness import (HttpResponse, client_frame, read_head,  # noqa: F401
                      read_until_close, upgrade_request, wshub_binary)

main = harness.main

# Hostile clients need thousands of sockets in this process: take the hard limit.
_soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if _soft < _hard:
    resource.setrlimit(resource.RLIMIT_NOFILE, (_hard, _hard))

IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)

# How long a well-behaved client may take for connect + handshake + one echo + close while an
# attack runs. Not a speed claim: an unhurt server answers in milliseconds, a starved one never;
# the bound is wide because two shared cores also run the attacker and, in the debug preset,
# an ASan build.
GOOD_CLIENT_SECONDS = 5.0


# UBSan's vptr check, on a miss in its type cache, probes the object's memory by writing it into
# a pipe (compiler-rt's IsAccessibleMemoryRange). With the descriptor table full, pipe() fails
# and the check reports any virtual call as "invalid vptr ... <memory cannot be printed>" and
# aborts (-fno-sanitize-recover). Reproduced with an 8-line program; not a server bug.
STARVED_SANITIZER = ("UBSan needs a free descriptor for its vptr check and the test filled the "
                     "table on purpose: its 'invalid vptr' report is a false positive")


def _starved(log):
    return ("object has invalid vptr" in log and "<memory cannot be printed>" in log)


def tolerates_starved_sanitizer(method):
    """For tests that fill the server's descriptor table: when the sanitized server dies of
    the false vptr report above, the test is skipped with that reason instead of failing."""
    @functools.wraps(method)
    def run(self):
        try:
            return method(self)
        except Exception:
            if any(server.starved_sanitizer() for server in getattr(self, "servers", [])):
                self.skipTest(STARVED_SANITIZER)
            raise
    return run


def thread_stacks(pid):
    """Every thread's state and, with gdb installed, its stack: for a server that hangs."""
    lines = []
    for tid in sorted(os.listdir(f"/proc/{pid}/task"), key=int):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{pid}/task/{tid}/wchan") as f:
                wchan = f.read().strip()
        except OSError:
            continue
        lines.append(f"thread {tid}: state {fields[0]}, CPU {int(fields[11]) + int(fields[12])} "
                     f"ticks, waiting in {wchan}")
    try:
        gdb = subprocess.run(["gdb", "-p", str(pid), "-batch", "-ex", "thread apply all bt 8"],
                             capture_output=True, text=True, timeout=60)
        lines.append(gdb.stdout[-6000:])
    except (OSError, subprocess.TimeoutExpired) as e:
        lines.append(f"(no stacks: {e})")
    return "\n".join(lines)


class Server(harness.Wshub):
    """harness.Wshub with an I/O backend (--io), an optional open-file limit set before exec
    (both soft and hard, so the server cannot raise it), and extra environment variables."""

    def __init__(self, config=None, threads=1, io=None, nofile=None, env=None, extra_args=()):
        args = list(extra_args)
        if io:
            args += ["--io", io]
        super().__init__(config=config, threads=threads, extra_args=args)
        self.io = io
        self.nofile = nofile
        self.env = env
        self.refused_health_polls = 0
        self.is_sanitized = False

    def popen_options(self):
        nofile = self.nofile

        def limit_files():
            if nofile:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

        env = dict(os.environ)
        env.update(self.env or {})
        return {"env": env, "preexec_fn": limit_files, "close_fds": True}

    def starved_sanitizer(self):
        """True when a sanitized server with an open-file limit died of UBSan's vptr check
        failing for want of a descriptor (see STARVED_SANITIZER), not of a server bug."""
        if not (self.is_sanitized and self.nofile):
            return False
        if self.process is not None:
            try:
                self.process.wait(2)  # UBSan aborts at once
            except subprocess.TimeoutExpired:
                return False
        return _starved(self.log())

    @property
    def pid(self):
        return self.process.pid

    def stop(self, timeout=15.0):
        """SIGTERM and wait, as harness.Wshub.stop; a server still running after `timeout`
        (three times the default shutdown_grace_ms) has its threads' stacks appended to its log
        (gdb, where installed) before it is killed, so the failure shows where it hung."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                stacks = thread_stacks(self.process.pid)
                with open(self.log_path, "ab") as f:
                    f.write(f"\n[hardening] still running {timeout:.0f} s after SIGTERM; "
                            f"threads:\n{stacks}\n".encode())
                self.process.kill()
                self.process.wait()
                self.exit_code = f"killed: still running {timeout:.0f} s after SIGTERM"
        return super().stop(timeout)

    def backend(self):
        """The backend the server says it runs ('epoll' or 'io_uring'), from its log."""
        line = self.wait_for_log(r"io backend: ", timeout=5.0) or ""
        return "io_uring" if "io backend: io_uring" in line else "epoll"

    def sanitized(self):
        """True when the binary runs with AddressSanitizer (the debug preset)."""
        try:
            with open(f"/proc/{self.pid}/maps") as f:
                return "libasan" in f.read()
        except OSError:
            return False

    # --- /proc ------------------------------------------------------------------------------
    def status_kib(self, field):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        raise AssertionError(f"no {field} in /proc/{self.pid}/status")

    def rss_kib(self):
        return self.status_kib("VmRSS")

    def reset_peak_rss(self):
        """Resets VmHWM to the current RSS (clear_refs 5), so a later peak_rss_kib() is the peak
        of what happened in between. False where the kernel does not allow it."""
        try:
            with open(f"/proc/{self.pid}/clear_refs", "w") as f:
                f.write("5")
            return True
        except OSError:
            return False

    def peak_rss_kib(self):
        return self.status_kib("VmHWM")

    def cpu_seconds(self):
        """utime + stime of the whole process (all threads), in seconds."""
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        # fields[0] is the state (field 3); utime and stime are fields 14 and 15.
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def open_fds(self):
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    # --- HTTP -------------------------------------------------------------------------------
    def health(self):
        response = harness.http_get(self.port, "/health")
        if response.status != 200:
            raise AssertionError(f"/health answered {response.status_line}: {response.text}")
        return json.loads(response.text)

    def limit_count(self, name):
        return self.health()["counters"]["limits"].get(name, 0)

    def wait_health(self, predicate, timeout=20.0, interval=0.1):
        """Polls /health until predicate(health) holds; returns the last health seen and
        whether it held. A 503 (the server at its connection limit, /health included) counts
        as not yet, and in refused_health_polls (the server counts it as max_connections)."""
        deadline = time.monotonic() + timeout
        health = None
        while True:
            response = harness.http_get(self.port, "/health")
            if response.status == 200:
                health = json.loads(response.text)
                if predicate(health):
                    return health, True
            elif response.status == 503:
                self.refused_health_polls += 1
            else:
                raise AssertionError(f"/health answered {response.status_line}: {response.text}")
            if time.monotonic() >= deadline:
                return health, False
            time.sleep(interval)


def known_server_bug(method):
    """The test `method`, expected to fail because of a reported server bug, as a new function
    (so a variant of the same test for another backend is not marked too). Once the server is
    fixed the test passes, unittest reports an unexpected success and the suite fails: remove
    the marker with the fix."""
    @functools.wraps(method)
    def expected_to_fail(self):
        return method(self)
    return unittest.expectedFailure(expected_to_fail)


def note(text):
    """A measured figure, printed to stderr so ctest's log keeps it beside the verdict."""
    print(f"  [measured] {text}", file=sys.stderr, flush=True)


def others(health):
    """Open connections in a /health answer, not counting the one that asked for it."""
    return health["connections"] - 1


class HardeningCase(unittest.TestCase):
    """Starts servers through self.start_server; each is stopped with SIGTERM at the end of the
    test, and the test fails unless it exits 0. `io` selects the backend in subclasses."""

    io = None

    def start_server(self, config, threads=2, measures_memory=False, **kwargs):
        """A server for this test. `measures_memory` turns ASan's quarantine off in the debug
        preset: freed blocks would otherwise sit in a quarantine of up to 256 MiB instead of
        being reused, and RSS would measure the quarantine, not the server."""
        if measures_memory:
            env = dict(kwargs.pop("env", None) or {})
            saved = env.get("ASAN_OPTIONS", os.environ.get("ASAN_OPTIONS", ""))
            env["ASAN_OPTIONS"] = (saved + ":" if saved else "") + "quarantine_size_mb=0"
            kwargs["env"] = env
        server = Server(config=config, threads=threads, io=self.io, **kwargs)
        self.addCleanup(server.close)
        server.start()
        server.is_sanitized = server.sanitized()
        self.servers = getattr(self, "servers", []) + [server]
        self.addCleanup(self._assert_clean_exit, server)
        if self.io == "io_uring" and server.backend() != "io_uring":
            self.skipTest("io_uring is not available here: the server fell back to epoll")
        return server

    def _assert_clean_exit(self, server):
        code = server.stop()
        log = server.log()
        if server.starved_sanitizer():
            self.skipTest(STARVED_SANITIZER)
        self.assertEqual(code, 0, f"wshub exit code after SIGTERM; stderr tail:\n{log[-9000:]}")
        self.assertNotIn("ERROR: AddressSanitizer", log)
        self.assertNotIn("ERROR: LeakSanitizer", log)
        self.assertNotIn("runtime error:", log)  # UBSan

    def assert_good_client_served(self, server, path="/echo", source="127.0.0.1"):
        """A well-behaved client connects, upgrades, gets its message echoed and closes
        cleanly, within GOOD_CLIENT_SECONDS."""
        elapsed = probe_echo(server.port, path=path, source=source, timeout=GOOD_CLIENT_SECONDS)
        self.assertLess(elapsed, GOOD_CLIENT_SECONDS)
        return elapsed

    def assert_served_during(self, server, attack, seconds=2.0, path="/echo",
                             source="127.0.0.1", interval=0.2):
        """Runs attack(stop_event) in a thread and, while it runs, has a well-behaved client
        served again and again for `seconds`. Returns the probes' durations. An exception in
        the attack fails the test after the probes."""
        stop = threading.Event()
        failure = []

        def run():
            try:
                attack(stop)
            except Exception as e:  # reported below, on the test's thread
                failure.append(e)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        probes = []
        try:
            time.sleep(0.3)  # let the attack get going
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                probes.append(self.assert_good_client_served(server, path=path, source=source))
                time.sleep(interval)
        finally:
            stop.set()
            thread.join(60)
        self.assertFalse(thread.is_alive(), "the attack did not stop")
        if failure:
            raise failure[0]
        return probes

    def assert_log_line(self, server, pattern, timeout=10.0):
        line = server.wait_for_log(pattern, timeout=timeout)
        self.assertIsNotNone(line, f"no log line matching {pattern!r}; stderr tail:\n"
                                   f"{server.log()[-4000:]}")
        return line


def on_both_backends(namespace, *mixins):
    """For each test mixin, defines <Name>IoUring and <Name>Epoll test cases in `namespace`
    (a module's globals()), running the same tests with --io io_uring and --io epoll."""
    for mixin in mixins:
        for io, suffix in (("io_uring", "IoUring"), ("epoll", "Epoll")):
            name = mixin.__name__ + suffix
            namespace[name] = type(name, (mixin, HardeningCase), {"io": io,
                                                                  "__module__": mixin.__module__})


# --- clients --------------------------------------------------------------------------------

def source_socket(source, blocking=True, rcvbuf=None):
    """A TCP socket bound to `source` (an address in 127.0.0.0/8) before connecting, so
    thousands of connections can spread over several source addresses' port ranges."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.bind((source, 0))
    sock.setblocking(blocking)
    return sock


def open_socket(port, source="127.0.0.1", timeout=10.0, rcvbuf=None):
    sock = source_socket(source, rcvbuf=rcvbuf)
    sock.settimeout(timeout)
    sock.connect(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def reset_close(sock):
    """Closes with SO_LINGER 0: the kernel sends RST instead of FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


class WsClient:
    """A raw WebSocket client on a blocking socket: the upgrade, masked frames out, server
    frames in. Every byte on the wire is the test's choice."""

    def __init__(self, port, path="/echo", source="127.0.0.1", timeout=10.0, rcvbuf=None,
                 upgrade=True):
        self.sock = open_socket(port, source=source, timeout=timeout, rcvbuf=rcvbuf)
        self.buffer = bytearray()  # server bytes received; those before `offset` are parsed
        self.offset = 0
        self.response = None
        if upgrade:
            self.sock.sendall(upgrade_request(path))
            self.response = HttpResponse(read_head(self.sock))
            if self.response.status != 101:
                raise AssertionError(f"upgrade to {path} answered {self.response.status_line}: "
                                     f"{self.response.text}")
            self.buffer = bytearray(self.response.rest)

    def send(self, data):
        self.sock.sendall(data)

    def send_frame(self, opcode, payload, fin=True):
        self.sock.sendall(client_frame(opcode, payload, fin=fin))

    def read_frame(self):
        """(fin, opcode, payload) of the next server frame; AssertionError on EOF. Parses in
        place from an offset, so a reader with megabytes buffered costs linear time and keeps
        up with the server as a real client would."""
        while True:
            frame = self._parse_frame()
            if frame:
                return frame
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise AssertionError(f"connection closed inside a frame; have "
                                     f"{bytes(self.buffer[:64])!r}")
            if self.offset > (1 << 20):
                del self.buffer[:self.offset]
                self.offset = 0
            self.buffer += chunk

    def _parse_frame(self):
        data, at = self.buffer, self.offset
        if len(data) - at < 2:
            return None
        fin, opcode = bool(data[at] & 0x80), data[at] & 0x0F
        if data[at + 1] & 0x80:
            raise AssertionError("server frame is masked")
        n, start = data[at + 1] & 0x7F, at + 2
        if n == 126:
            if len(data) - at < 4:
                return None
            n, start = int.from_bytes(data[at + 2:at + 4], "big"), at + 4
        elif n == 127:
            if len(data) - at < 10:
                return None
            n, start = int.from_bytes(data[at + 2:at + 10], "big"), at + 10
        if len(data) < start + n:
            return None
        self.offset = start + n
        return fin, opcode, bytes(data[start:start + n])

    def read_until_close(self, skip=(0x9, 0xA)):
        """Reads frames until the server's close frame; returns (code, reason, frames before).
        Pings and pongs (`skip`) are counted in the frames before, not returned separately."""
        frames = []
        while True:
            fin, opcode, payload = self.read_frame()
            if opcode == 0x8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                return code, payload[2:].decode("utf-8", "replace"), frames
            frames.append((opcode, payload))

    def eof_after_close(self, timeout=10.0):
        """True when the server closes TCP after its close frame (FIN or RST), within timeout."""
        self.sock.settimeout(timeout)
        try:
            while self.sock.recv(65536):
                pass
        except ConnectionResetError:
            pass
        except socket.timeout:
            return False
        return True

    def echo(self, payload=b"hello", opcode=0x1):
        self.send_frame(opcode, payload)
        while True:
            fin, op, data = self.read_frame()
            if op in (0x9, 0xA):
                continue
            if (op, data) != (opcode, payload):
                raise AssertionError(f"echo of {payload[:32]!r} answered opcode {op} "
                                     f"{data[:64]!r}")
            return data

    def close(self, code=1000):
        try:
            self.send_frame(0x8, struct.pack("!H", code))
            while True:
                fin, op, data = self.read_frame()
                if op == 0x8:
                    break
        finally:
            self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.sock.close()
        return False


def masked_frame(opcode, payload, mask=b"\x5a\xc3\x0f\x96", fin=True):
    """harness.client_frame with the hardening tests' own mask."""
    return harness.client_frame(opcode, payload, mask, fin)


def probe_echo(port, path="/echo", source="127.0.0.1", timeout=GOOD_CLIENT_SECONDS):
    """A well-behaved client: connect, upgrade, one echo, clean close. Returns the seconds it
    took; raises if any step fails or stalls past `timeout`."""
    started = time.monotonic()
    client = WsClient(port, path=path, source=source, timeout=timeout)
    try:
        payload = f"probe {time.monotonic_ns()}".encode()
        client.echo(payload)
        client.close()
    finally:
        client.sock.close()
    return time.monotonic() - started


def http_request(port, request, source="127.0.0.1", timeout=10.0):
    """Sends raw request bytes from `source`, reads until the server closes; HttpResponse."""
    with open_socket(port, source=source, timeout=timeout) as sock:
        try:
            sock.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            pass
        return HttpResponse(read_until_close(sock))
