"""How to start, wait for and stop each server that bench/ compares: wshub and its peers.

Shared by bench/smoke_peers.py and bench/run_bench.py. Knows command lines and process
handling only; nothing about load generation or reporting.
"""
import atexit
import os
import resource
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PEERS_DIR = ROOT / "build" / "peers"
WSHUB = ROOT / "build" / "release" / "wshub"

# Order used in reports: wshub first, then the peers. "wshub" runs with its default I/O
# backend (--io auto); "wshub-epoll" forces the epoll backend.
WSHUB_VARIANTS = ["wshub", "wshub-epoll"]
PEERS = ["beast", "websocketpp", "lws", "gorilla", "node"]
ALL_SERVERS = WSHUB_VARIANTS + PEERS

LABELS = {
    "wshub": "wshub (1 thread)",
    "wshub-epoll": "wshub (1 thread, --io epoll)",
    "beast": "Boost.Beast",
    "websocketpp": "websocketpp",
    "lws": "libwebsockets",
    "gorilla": "gorilla/websocket",
    "node": "Node ws",
}


def server_command(name, port, peers_dir=None, wshub=None):
    """The argv that starts server `name` listening on 127.0.0.1:port; the binaries are
    looked up in PEERS_DIR and WSHUB unless given."""
    peers_dir = peers_dir or PEERS_DIR
    wshub = wshub or WSHUB
    if name == "wshub":
        return [str(wshub), "--listen", f"127.0.0.1:{port}", "--threads", "1"]
    if name == "wshub-epoll":
        return [str(wshub), "--listen", f"127.0.0.1:{port}", "--threads", "1", "--io", "epoll"]
    if name not in PEERS:
        raise ValueError(f"unknown server {name!r}; known: {', '.join(ALL_SERVERS)}")
    return [str(Path(peers_dir) / f"{name}-echo"), str(port)]


def frozen_copies(binaries, parent):
    """Copies each binary into a directory of this process under `parent`, removed at exit, and
    returns the copies' paths: a rebuild of build/release during a long run, or another run,
    cannot change (or briefly remove) what is measured."""
    into = Path(parent) / f"bin-{os.getpid()}"
    into.mkdir(parents=True, exist_ok=True)
    atexit.register(shutil.rmtree, into, True)
    copies = []
    for binary in binaries:
        copy = into / Path(binary).name
        shutil.copy2(binary, copy)
        copies.append(copy)
    return copies


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raise_open_file_limit():
    # The idle scenario holds 10,000 connections: every server gets the hard limit.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class ServerProcess:
    """One server process, pinned to `cpu` when given, run under `prefix` (e.g. valgrind)
    when given. start() returns once its port accepts TCP connections."""

    def __init__(self, name, port, cpu=None, log_path=None, prefix=(), peers_dir=None,
                 wshub=None, command=None):
        """`command`, when given, is the server's argv instead of server_command(name, …)."""
        self.name = name
        self.port = port
        self.argv = ["taskset", "-c", str(cpu)] if cpu is not None else []
        self.argv += list(prefix) + (list(command) if command else server_command(name, port, peers_dir, wshub))
        self.log_path = log_path
        self.process = None
        self._log = None

    @property
    def pid(self):
        return self.process.pid

    def start(self, timeout=30.0):
        if self.log_path:
            self._log = open(self.log_path, "ab")
            out = self._log
        else:
            out = subprocess.DEVNULL
        # taskset execs the server, so the PID is the server's own.
        self.process = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=out,
                                        stderr=subprocess.STDOUT, preexec_fn=raise_open_file_limit,
                                        start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            code = self.process.poll()
            if code is not None:
                raise RuntimeError(f"{self.name} exited with {code} before listening "
                                   f"(command: {' '.join(self.argv)}; log: {self.log_path})")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"{self.name} did not listen on port {self.port} "
                                       f"within {timeout:.0f} s")
                time.sleep(0.05)

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def stop(self, grace=5.0):
        """SIGTERM by PID, SIGKILL after `grace` seconds. Returns the exit status."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            try:
                os.kill(self.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self._log:
            self._log.close()
            self._log = None
        return self.process.returncode

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
