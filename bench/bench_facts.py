"""Facts a benchmark report records: the machine (CPU, kernel, memory) and the versions of wshub
and of every peer, read from dpkg, npm, go and git."""
import json
import os
import platform
import subprocess

from peers import servers

ROOT = servers.ROOT


def command_output(argv, cwd=None):
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30, cwd=cwd)
        return (done.stdout or done.stderr).strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def dpkg_version(package):
    return command_output(["dpkg-query", "-W", "-f=${Version}", package]) or "not installed"


def machine_facts():
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = ""
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / (1 << 20):.1f} GiB"
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "memory": memory,
        "os": command_output(["sh", "-c", ". /etc/os-release && echo \"$PRETTY_NAME\""]),
    }


def wshub_version():
    head = command_output(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    dirty = command_output(["git", "-C", str(ROOT), "status", "--porcelain", "--", "src", "tools",
                            "CMakeLists.txt"])
    text = f"commit {head}" if head else "unknown commit"
    if dirty:
        text += " plus uncommitted changes in src/ or tools/"
    version = command_output([str(servers.WSHUB), "--version"])
    return f"{version} ({text})" if version else text


def software_versions():
    node_dir = ROOT / "bench" / "peers" / "node"
    ws = "unknown"
    try:
        tree = json.loads(command_output(["npm", "ls", "ws", "--json"], cwd=node_dir))
        ws = tree["dependencies"]["ws"]["version"]
    except (ValueError, KeyError, TypeError):
        pass
    go = command_output(["go", "version"])
    return [
        ("wshub", wshub_version()),
        ("Boost.Beast", f"Boost {dpkg_version('libboost1.74-dev')} (libboost-dev "
                        f"{dpkg_version('libboost-dev')}), Debian 12"),
        ("websocketpp", f"libwebsocketpp-dev {dpkg_version('libwebsocketpp-dev')} on Boost.Asio "
                        f"{dpkg_version('libboost1.74-dev')}"),
        ("libwebsockets", f"libwebsockets-dev {dpkg_version('libwebsockets-dev')}"),
        ("gorilla/websocket", f"golang-github-gorilla-websocket-dev "
                              f"{dpkg_version('golang-github-gorilla-websocket-dev')}, {go}"),
        ("Node ws", f"ws {ws} (npm, package-lock.json), Node {command_output(['node', '--version'])}"),
        ("compiler", command_output(["g++", "--version"]).splitlines()[0] if command_output(["g++", "--version"]) else "?"),
        ("valgrind", command_output(["valgrind", "--version"]) or "not installed"),
    ]
