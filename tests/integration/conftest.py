"""Fixtures of the integration suite: the real `capstan` binary, started per test.

The binary comes from $CAPSTAN_BIN (default build/release/capstan, relative to the repo root),
so the same suite runs against the ASan build:  CAPSTAN_BIN=build/asan/capstan.

`start_server(config_text)` writes a temporary TOML file (with `listen = "127.0.0.1:0"`
added to [server]), starts `capstan start -c FILE`, waits for the "listening" log line and
returns a `Server` with the real host and port. At teardown every server still running gets
SIGTERM; each must exit 0 in bounded time and its stderr must hold no sanitizer report.

TLS (tlsenv.py): every listener the server logs is kept (`Server.listeners`, `plain_port`,
`tls_port`; a TLS listener's port is registered so rawws wraps sockets to it). With
CAPSTAN_TEST_TLS=1 a [server.tls] listener with the session certificate is added to every
config text that has none, `Server.port` is the TLS listener and `url()` / `http_url()` say
wss:// / https://; `plain_only` marks a test that is about the plain listener, skipped then.
"""
import atexit
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

import tlsenv
from helpers import Bystander

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 10.0
STOP_TIMEOUT = 15.0  # above the default shutdown_timeout (10 s)
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "runtime error:", "LeakSanitizer")
LISTENING_RE = re.compile(r" info listening address=(\S+):(\d+) loops=(\d+)(?: tls=(yes|no))?")
TLS_MODE = tlsenv.TLS_MODE
plain_only = pytest.mark.skipif(TLS_MODE, reason="about the plain listener (CAPSTAN_TEST_TLS=1 runs the suites over TLS)")


def capstan_bin() -> str:
    path = Path(os.environ.get("CAPSTAN_BIN", "build/release/capstan"))
    if not path.is_absolute():
        path = REPO_ROOT / path
    if not path.is_file():
        pytest.fail(f"capstan binary not found at {path}: build it or set CAPSTAN_BIN")
    return str(path)


_runtime_dirs = []
atexit.register(lambda: [shutil.rmtree(d, ignore_errors=True) for d in _runtime_dirs])


def server_env() -> dict:
    env = dict(os.environ)
    # A runtime directory (state files, issue 5) per process: servers of the same default
    # name never refuse each other, nor meet a developer's running servers.
    _runtime_dirs.append(tempfile.mkdtemp(prefix="capstan-test-run-"))
    env["XDG_RUNTIME_DIR"] = _runtime_dirs[-1]
    # Sanitizer reports must reach stderr, where teardown looks for them.
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
    return env


def run_capstan(*args, timeout=10.0) -> subprocess.CompletedProcess:
    """Runs a short-lived capstan command (check, a start that must fail)."""
    return subprocess.run([capstan_bin(), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=server_env())


# The spec's default limits (100 messages/s per connection, 1000 connections per address)
# would throttle suites that send as fast as the server answers, all from 127.0.0.1. A test
# that is about limits sets them itself; otherwise these are added.
TEST_LIMITS = {"messages_per_second": "0", "connections_per_ip": "1000000"}


def with_test_limits(config_text: str) -> str:
    missing = [f"{k} = {v}\n" for k, v in TEST_LIMITS.items()
               if not re.search(rf"^\s*{k}\s*=", config_text, re.M)]
    if not missing:
        return config_text
    header = re.search(r"^\s*\[limits\]\s*$\n?", config_text, re.M)
    if header:
        return config_text[:header.end()] + "".join(missing) + config_text[header.end():]
    return config_text + "\n[limits]\n" + "".join(missing)


def _server_table(config_text: str) -> str:
    """The body of the text's [server] table ("" when it has none)."""
    header = re.search(r"^\s*\[server\]\s*$", config_text, re.M)
    if not header:
        return ""
    end = re.search(r"^\s*\[", config_text[header.end():], re.M)
    return config_text[header.end():header.end() + end.start() if end else len(config_text)]


def with_listen(config_text: str) -> str:
    """Adds `listen = "127.0.0.1:0"` to [server] unless the text sets a listen address there."""
    if re.search(r"^\s*listen\s*=", _server_table(config_text), re.M):
        return config_text
    listen = 'listen = "127.0.0.1:0"\n'
    header = re.search(r"^\s*\[server\]\s*$\n?", config_text, re.M)
    if header:
        return config_text[:header.end()] + listen + config_text[header.end():]
    return "[server]\n" + listen + config_text


class Server:
    """A running capstan process; its stderr is collected by a reader thread."""

    def __init__(self, args, config_path=None, want_tls=False):
        self.config_path = config_path
        self._want_tls = want_tls
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, env=server_env())
        self.pid = self.proc.pid
        self._lines = []
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._reader.start()
        self.listeners = self._wait_listening()  # [(host, port, tls)] in the order logged
        plain = [(h, p) for h, p, tls in self.listeners if not tls]
        tls = [(h, p) for h, p, t in self.listeners if t]
        # The kernel hands a port out again once a server is gone: what listens on it now decides.
        for _, port, is_tls in self.listeners:
            tlsenv.register_port(port, is_tls)
        self.plain_port = plain[0][1] if plain else None
        self.tls_port = tls[0][1] if tls else None
        # The port the tests talk to: the TLS listener in TLS mode, else the first plain one.
        self.tls = bool(tls) and (TLS_MODE or not plain)
        self.host, self.port = (tls if self.tls else plain)[0]

    def _read_stderr(self):
        for raw in iter(self.proc.stderr.readline, b""):
            with self._cond:
                self._lines.append(raw.decode("utf-8", "replace"))
                self._cond.notify_all()
        with self._cond:
            self._lines.append(None)  # EOF marker
            self._cond.notify_all()

    def _wait_listening(self):
        """Every listener logged: the "listening" lines come together (plain ones first), so
        they are complete once another line follows them (or the wanted TLS one is in and
        a moment passed)."""
        deadline = time.monotonic() + STARTUP_TIMEOUT
        first_seen = None
        with self._cond:
            while True:
                found, complete = [], False
                for line in self._lines:
                    if line is None:
                        if found:
                            complete = True
                            break
                        raise AssertionError(f"capstan exited before listening:\n{self.stderr}")
                    m = LISTENING_RE.search(line)
                    if m:
                        found.append((m.group(1), int(m.group(2)), m.group(4) == "yes"))
                        self.loops = int(m.group(3))
                    elif found:
                        complete = True
                        break
                if found and first_seen is None:
                    first_seen = time.monotonic()
                has_tls = any(t for _, _, t in found)
                if found and (complete or (time.monotonic() - first_seen > 1.0 and (has_tls or not self._want_tls))):
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no 'listening' line within {STARTUP_TIMEOUT}s:\n{self.stderr}")
                self._cond.wait(min(left, 0.1) if found else left)

    @property
    def stderr(self) -> str:
        with self._cond:
            return "".join(line for line in self._lines if line is not None)

    def wait_log(self, text: str, timeout: float = 5.0) -> bool:
        """Whether `text` shows up in stderr within `timeout`: a line the server writes as it
        acts may reach the reader thread after the client already saw the action's effect."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if any(line is not None and text in line for line in self._lines):
                    return True
                left = deadline - time.monotonic()
                if left <= 0 or (self._lines and self._lines[-1] is None):
                    return False
                self._cond.wait(left)

    def url(self, path="/echo") -> str:
        return f"{'wss' if self.tls else 'ws'}://{self.host}:{self.port}{path}"

    def http_url(self, path="/") -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}{path}"

    def http_connection(self, timeout=5.0):
        """An http.client connection to `port`: HTTPS (default context) over TLS."""
        import http.client
        if self.tls:
            return http.client.HTTPSConnection(self.host, self.port, timeout=timeout)
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def rss_kib(self, field="VmRSS") -> int:
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        raise AssertionError(f"{field} not in /proc/{self.pid}/status")

    def tcp_connections(self) -> int:
        """TCP sockets the process holds, listeners excluded (from /proc/PID/fd and
        /proc/net/tcp*): the connections it has not closed yet."""
        inodes = set()
        for fd in os.listdir(f"/proc/{self.pid}/fd"):
            try:
                link = os.readlink(f"/proc/{self.pid}/fd/{fd}")
            except FileNotFoundError:
                continue
            if link.startswith("socket:["):
                inodes.add(link[len("socket:["):-1])
        count = 0
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with open(table) as f:
                for row in f.readlines()[1:]:
                    cols = row.split()
                    if cols[9] in inodes and cols[3] != "0A":  # 0A: LISTEN
                        count += 1
        return count

    def wait_tcp_connections(self, count, timeout=3.0) -> bool:
        """Waits until the process holds exactly `count` TCP connections."""
        deadline = time.monotonic() + timeout
        while self.tcp_connections() != count:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def terminate(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def wait(self, timeout) -> int:
        """Waits for exit; kills the process (and fails) when it overstays."""
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
            raise AssertionError(f"capstan (pid {self.pid}) still running {timeout}s after SIGTERM:\n{self.stderr}")
        self._reader.join(timeout=5)
        return rc

    def sanitizer_report(self):
        text = self.stderr
        return next((m for m in SANITIZER_MARKERS if m in text), None)


@pytest.fixture
def start_server(tmp_path):
    """Factory: start_server(config_text="") -> Server, or start_server(args=[...]) for
    `capstan start ARGS`. Every server is stopped and checked at teardown."""
    servers = []

    def start(config_text: str = "", args=None) -> Server:
        if args is not None:  # command-line arguments instead of a file
            server = Server([capstan_bin(), "start", *args])
            servers.append(server)
            return server
        path = tmp_path / f"capstan-{len(servers)}.toml"
        text = with_test_limits(with_listen(config_text))
        if TLS_MODE and not re.search(r"^\s*\[server\.tls\]", text, re.M):
            text += tlsenv.tls_section()
        path.write_text(text)
        want_tls = bool(re.search(r"^\s*\[server\.tls\]", text, re.M))
        server = Server([capstan_bin(), "start", "-c", str(path)], config_path=path, want_tls=want_tls)
        servers.append(server)
        return server

    yield start

    problems = []
    for server in servers:
        server.terminate()
        try:
            rc = server.wait(STOP_TIMEOUT)
            if rc != 0:
                problems.append(f"pid {server.pid} exited with {rc}")
        except AssertionError as e:
            problems.append(str(e))
        marker = server.sanitizer_report()
        if marker:
            problems.append(f"pid {server.pid} stderr contains {marker!r}")
        if problems:
            problems.append(f"stderr of pid {server.pid}:\n{server.stderr}")
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def server(start_server):
    """A server with the default configuration: echo on /echo."""
    return start_server("")


@pytest.fixture
def bystander_for():
    """Factory: bystander_for(server) -> Bystander connected to the server's /echo."""
    made = []

    def make(server, path="/echo"):
        b = Bystander(server.url(path))
        made.append(b)
        return b

    yield make
    for b in made:
        b.close()
