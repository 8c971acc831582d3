# Runs wshub, nginx and HAProxy as real processes on loopback for the proxy and browser tests.
# Each process gets its own temporary directory (prefix, config, logs, pid file) and is
# stopped by its own PID. Knows wshub only through its command line, log lines and the wire.
# Runs under /usr/bin/python3 (Debian's, with python3-websockets).

import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

from . import harness

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_LISTENING = re.compile(r"listening on ([0-9.]+):(\d+) \((wss|ws)")
# The test's main (--wshub PATH, --io BACKEND: every wshub here runs with that I/O backend).
main = harness.main
wshub_binary = harness.wshub_binary
free_port = harness.free_port


def wait_for_port(port, process, what, log, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}:\n{log()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port} within {timeout}s:\n{log()}")


def make_certs(directory, *hosts, key="p256"):
    """`wshub cert` into `directory`; returns (ca, cert, key) paths."""
    args = [wshub_binary(), "cert", "--out", directory, "--key", key]
    for host in hosts:
        args += ["--host", host]
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    return tuple(os.path.join(directory, name) for name in ("ca.pem", "cert.pem", "key.pem"))


class Process(harness.LogFile):
    """A child process with its stderr in a file, stopped by PID."""

    def __init__(self, name, workdir):
        self.name = name
        self.dir = workdir
        self.log_path = os.path.join(workdir, f"{name}.log")
        self.process = None

    def spawn(self, args, cwd=None):
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self._log,
                                        stderr=subprocess.STDOUT, cwd=cwd or self.dir)

    def send_signal(self, number):
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, number)

    def stop(self, sig=signal.SIGTERM, timeout=20.0):
        if self.process is None:
            return None
        code, _ = harness.stop_process(self.process, sig, timeout)
        self.process = None
        self._log.close()
        return code


class Wshub(harness.Wshub):
    """harness.Wshub on its config's [[listen]] entries (ws:// and wss://), with the I/O backend
    the test was given (--io); `ports` maps "ws"/"wss" to the bound ports in order."""

    def __init__(self, config):
        io = ["--io", harness.io_backend] if harness.io_backend else []
        super().__init__(config=config, listen=None, extra_args=io)
        self.ports = {"ws": [], "wss": []}

    def start(self, threads=1, timeout=20.0):
        self.threads = threads
        super().start(timeout)  # up to the first listener's line
        expected = self.config.count("[[listen]]")
        deadline = time.monotonic() + timeout
        while True:
            found = _LISTENING.findall(self.log())
            if len(found) >= expected:
                for _, port, kind in found:
                    self.ports[kind].append(int(port))
                return self
            if self.process.poll() is not None or time.monotonic() >= deadline:
                self.stop()
                raise RuntimeError(f"wshub logged {len(found)} of {expected} listeners:\n{self.log()}")
            time.sleep(0.02)

    def send_signal(self, number):
        if self.process and self.process.poll() is None:
            self.process.send_signal(number)

    def health(self):
        port = self.ports["ws"][0]
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            data = read_until_close(s)
        return json.loads(data.split(b"\r\n\r\n", 1)[1])


class Nginx(Process):
    """nginx -p PREFIX with `http_config` inside http { }: no daemon, no master."""

    def __init__(self, workdir, http_config):
        super().__init__("nginx", workdir)
        self.prefix = os.path.join(workdir, "nginx")
        os.makedirs(os.path.join(self.prefix, "logs"), exist_ok=True)
        self.conf = os.path.join(self.prefix, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(f"""daemon off;
master_process off;
worker_processes 1;
pid {self.prefix}/nginx.pid;
error_log {self.prefix}/logs/error.log info;
events {{ worker_connections 1024; }}
http {{
    access_log {self.prefix}/logs/access.log;
    client_body_temp_path {self.prefix}/client_body;
    proxy_temp_path {self.prefix}/proxy;
    fastcgi_temp_path {self.prefix}/fastcgi;
    uwsgi_temp_path {self.prefix}/uwsgi;
    scgi_temp_path {self.prefix}/scgi;
{http_config}
}}
""")

    def start(self, port):
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        check = subprocess.run([nginx, "-t", "-p", self.prefix, "-c", self.conf],
                               capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"nginx -t refused the config:\n{check.stderr}")
        self.spawn([nginx, "-p", self.prefix, "-c", self.conf])
        wait_for_port(port, self.process, "nginx", self.error_log)
        return self

    def error_log(self):
        try:
            with open(os.path.join(self.prefix, "logs", "error.log")) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def stop(self, sig=signal.SIGQUIT, timeout=20.0):
        return super().stop(sig, timeout)


class Haproxy(Process):
    def __init__(self, workdir, config):
        super().__init__("haproxy", workdir)
        self.cfg = os.path.join(workdir, "haproxy.cfg")
        with open(self.cfg, "w") as f:
            f.write(config)

    def start(self, port):
        haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
        check = subprocess.run([haproxy, "-c", "-f", self.cfg], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"haproxy -c refused the config:\n{check.stdout}{check.stderr}")
        self.spawn([haproxy, "-db", "-f", self.cfg])
        wait_for_port(port, self.process, "haproxy", self.log)
        return self

    def stop(self, sig=signal.SIGUSR1, timeout=20.0):
        # SIGUSR1: soft stop, ends when the remaining connections do.
        code = super().stop(sig, timeout)
        return code


def shipped_nginx_config(wshub_port, nginx_port, cert, key, read_timeout=None):
    """deploy/nginx/wshub.conf with the test's ports and certificate; fails loudly if the
    shipped file no longer has the lines this substitutes."""
    with open(os.path.join(REPO, "deploy", "nginx", "wshub.conf")) as f:
        text = f.read()
    swaps = [
        ("    listen 443 ssl;\n", f"    listen 127.0.0.1:{nginx_port} ssl;\n"),
        ("    listen [::]:443 ssl;\n", ""),
        ("server 127.0.0.1:8077;", f"server 127.0.0.1:{wshub_port};"),
        ("/etc/wshub/tls/cert.pem", cert),
        ("/etc/wshub/tls/key.pem", key),
    ]
    if read_timeout:
        swaps.append(("proxy_read_timeout 60s;", f"proxy_read_timeout {read_timeout};"))
    for old, new in swaps:
        if old not in text:
            raise AssertionError(f"deploy/nginx/wshub.conf no longer contains {old!r}")
        text = text.replace(old, new)
    return text


def shipped_haproxy_config(wshub_port, haproxy_port, pem):
    with open(os.path.join(REPO, "deploy", "haproxy", "wshub.cfg")) as f:
        text = f.read()
    swaps = [
        ("log stderr format raw local0 info", "log stderr format raw local0 info"),
        ("bind :443 ssl crt /etc/haproxy/certs/wshub.pem", f"bind 127.0.0.1:{haproxy_port} ssl crt {pem}"),
        ("server wshub1 127.0.0.1:8077", f"server wshub1 127.0.0.1:{wshub_port}"),
    ]
    for old, new in swaps:
        if old not in text:
            raise AssertionError(f"deploy/haproxy/wshub.cfg no longer contains {old!r}")
        text = text.replace(old, new)
    return text


def client_context(ca=None):
    context = ssl.create_default_context(cafile=ca) if ca else ssl._create_unverified_context()
    return context


def tls_connect(port, ca, server_name="test.ws.com", timeout=10.0):
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return client_context(ca).wrap_socket(raw, server_hostname=server_name)


def read_until_close(sock, limit=1 << 20, data=b"", enough=lambda data: False):
    """What `sock` sends after `data`, up to EOF, a reset, a TLS error, a timeout, `limit` bytes
    or until enough(what was read) holds."""
    while len(data) < limit and not enough(data):
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, ssl.SSLError, socket.timeout):
            break
        if not chunk:
            break
        data += chunk
    return data


def read_http_response(sock, limit=1 << 20):
    """Reads a head and the Content-Length body (or to EOF); returns (status, headers, body)."""
    data = b""
    while b"\r\n\r\n" not in data and len(data) < limit:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if status == 101:
        return status, headers, ""  # what follows are frames, not a body
    length = int(headers.get("content-length", "-1"))
    body = read_until_close(sock, limit, body, lambda body: 0 <= length <= len(body))
    return status, headers, body.decode("utf-8", "replace")


def upgrade_request(path="/echo", host="test.ws.com", extra=""):
    return (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            f"Sec-WebSocket-Version: 13\r\n{extra}\r\n").encode()


class TempDirCase(unittest.TestCase):
    """A temporary directory per test and processes stopped (by PID) when the test ends."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="wshub-proxy-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self._processes = []

    def track(self, process):
        self._processes.append(process)
        self.addCleanup(process.stop)
        return process

    def wshub(self, config, threads=1):
        server = Wshub(config)
        self.addCleanup(server.close)
        self.track(server)

        def clean_exit():
            # After SIGTERM wshub exits 0; under ASan/UBSan a leak or error report makes it not.
            code = server.stop()
            self.assertEqual(code, 0, f"wshub exit code after SIGTERM; log:\n{server.log()}")
        self.addCleanup(clean_exit)
        return server.start(threads)

    def nginx(self, http_config, port):
        return self.track(Nginx(self.tmp, http_config)).start(port)

    def haproxy(self, config, port):
        return self.track(Haproxy(self.tmp, config)).start(port)

    def certs(self, *hosts, sub="certs", key="p256"):
        directory = os.path.join(self.tmp, sub)
        return make_certs(directory, *hosts, key=key)
