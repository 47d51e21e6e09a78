"""The PHP test backend (tests/php/backend_app, SPEC 5a) for the proxy suites: a real HTTP
application run by PHP's built-in server with several workers, verifying Capstan's
X-Capstan-Signature through clients/php and keeping sessions, products and a record of every
request in SQLite (pdo_sqlite; Debian: php8.2-sqlite3).

`backend_app(secret=SECRET)` starts one on a free loopback port in the test's tmp_path; it is
stopped at teardown (its process group, which holds the workers), and teardown fails when the
app refused a signature the test did not expect, or PHP logged an error. Use it in a test
module with `from backend_app import backend_app  # noqa: F401 (fixture)`.

Seeded sessions (setup.php): PHPSESSID=alice-session-0001 -> 7 alice@example.com {"name":"Alice"},
fe_typo3_user=bob-fe-session-0002 -> 12 bob {"name":"Bob"}, PHPSESSID=carol-session-0003 ->
3 carol@example.com {"name":"Carol"}. Products: 42 Chair 49.9, 7 Lamp 19.5.
"""
import asyncio
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import websockets

REPO_ROOT = Path(__file__).resolve().parents[2]
APP_DIR = REPO_ROOT / "tests" / "php" / "backend_app"
ROUTER = APP_DIR / "router.php"
SETUP = APP_DIR / "setup.php"

SECRET = "backend-test-secret-0123456789abcdef"
ALICE_COOKIE = "PHPSESSID=alice-session-0001"
BOB_COOKIE = "fe_typo3_user=bob-fe-session-0002"
CAROL_COOKIE = "PHPSESSID=carol-session-0003"
ALICE = {"id": 7, "identity": "alice@example.com", "data": {"name": "Alice"}}
BOB = {"id": 12, "identity": "bob", "data": {"name": "Bob"}}
CAROL = {"id": 3, "identity": "carol@example.com", "data": {"name": "Carol"}}

START_TIMEOUT = 5.0
STOP_TIMEOUT = 5.0
PHP_PROBLEMS = ("PHP Fatal error", "PHP Warning", "PHP Parse error", "PHP Notice", "PHP Deprecated", "Uncaught")


def free_port() -> int:
    """A loopback port nothing listens on right now (the kernel's pick, released at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def php_binary() -> str:
    php = shutil.which("php")
    if not php:
        pytest.fail("php-cli is not installed (apt-get install php-cli php-curl php8.2-sqlite3)")
    return php


def sign(body: bytes, secret: str, t=None) -> str:
    """X-Capstan-Signature as SPEC 5a writes it, for requests the tests send the app directly."""
    t = int(time.time()) if t is None else t
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


class BackendApp:
    def __init__(self, directory: Path, secret: str = SECRET, workers: int = 4):
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.secret = secret
        self.workers = workers
        self.db_path = self.dir / "backend.sqlite"
        self.signature_log = self.dir / "signature-failures.log"
        self.php_log = self.dir / "php-server.log"
        self.error_log = self.dir / "php-errors.log"
        self.port = free_port()
        self.proc = None
        self.expect_signature_failures = False
        done = subprocess.run([php_binary(), str(SETUP), str(self.db_path)], capture_output=True, text=True,
                              timeout=30)
        if done.returncode != 0:
            pytest.fail(f"tests/php/backend_app/setup.php failed:\n{done.stderr}{done.stdout}", pytrace=False)
        self.start()

    # ---- process ------------------------------------------------------------------------------

    def url(self, path="/ws/connect") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self):
        """Starts php -S on self.port (again, after stop(): the same URL)."""
        assert self.proc is None, "already running"
        env = dict(os.environ)
        env.update({"CAPSTAN_BACKEND_SECRET": self.secret, "BACKEND_DB": str(self.db_path),
                    "BACKEND_SIGNATURE_LOG": str(self.signature_log),
                    "PHP_CLI_SERVER_WORKERS": str(self.workers)})
        log = open(self.php_log, "ab")
        # A session of its own: the workers are the server's children, and a SIGTERM to the
        # parent alone leaves them serving; stop() signals the whole group.
        self.proc = subprocess.Popen(
            [php_binary(), "-d", "display_errors=0", "-d", "log_errors=1", "-d", f"error_log={self.error_log}",
             "-S", f"127.0.0.1:{self.port}", str(ROUTER)],
            cwd=APP_DIR, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                self.proc = None
                pytest.fail(f"php -S exited at once:\n{self.php_log.read_text(errors='replace')[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    pytest.fail(f"php -S not listening on {self.port} within {START_TIMEOUT}s")
                time.sleep(0.02)
        # Every worker accepts on the same socket: wait until a request is answered, so that the
        # first test request does not race the workers' start-up.
        assert self.get("/health")[0] == 200, self.diagnostics()

    def stop(self):
        """SIGTERM to the server's process group (parent and workers), SIGKILL if it lingers."""
        if self.proc is None:
            return
        pgid = self.proc.pid  # start_new_session: the group is the one this process leads
        try:
            os.killpg(pgid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(pgid, signal.SIGKILL)
            self.proc.wait(timeout=STOP_TIMEOUT)
        deadline = time.monotonic() + STOP_TIMEOUT
        while True:  # the workers, until none of the group is left
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                break
            if time.monotonic() > deadline:
                os.killpg(pgid, signal.SIGKILL)
            time.sleep(0.02)
        self.proc = None
        # Nothing listens any more: a connection is refused, not accepted by a lingering worker.
        with socket.socket() as s:
            s.settimeout(1)
            assert s.connect_ex(("127.0.0.1", self.port)) != 0, f"port {self.port} still accepts after stop()"

    # ---- direct requests (what Capstan would send) --------------------------------------------

    def get(self, path):
        try:
            with urllib.request.urlopen(self.url(path), timeout=5) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def post(self, path, body: dict, signature="sign", secret=None):
        """(status, JSON answer) of a POST like Capstan's; signature: "sign", None or a header value."""
        raw = json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if signature == "sign":
            headers["X-Capstan-Signature"] = sign(raw, secret or self.secret)
        elif signature is not None:
            headers["X-Capstan-Signature"] = signature
        req = urllib.request.Request(self.url(path), data=raw, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    # ---- what the app recorded ----------------------------------------------------------------

    def _db(self):
        db = sqlite3.connect(self.db_path, timeout=10)
        db.row_factory = sqlite3.Row
        return db

    def requests(self, kind=None, endpoint=None, **where):
        """Every request the app received, in arrival order, as dicts with `body` parsed (the raw
        text when it is not JSON). kind: connect | action | event (signed ones only)."""
        clauses, args = [], []
        for column, value in dict(where, kind=kind, endpoint=endpoint).items():
            if value is not None:
                clauses.append(f"{column} = ?")
                args.append(value)
        sql = "SELECT * FROM requests" + (" WHERE " + " AND ".join(clauses) if clauses else "") + " ORDER BY seq"
        db = self._db()
        try:
            rows = [dict(r) for r in db.execute(sql, args)]
        finally:
            db.close()
        for r in rows:
            try:
                r["body"] = json.loads(r["body"])
            except (TypeError, ValueError):
                pass
        return rows

    def wait_requests(self, count, timeout=5.0, **filters):
        """The requests matching `filters` once there are at least `count` of them (or fails)."""
        deadline = time.monotonic() + timeout
        while True:
            rows = self.requests(**filters)
            if len(rows) >= count and all(r["ended"] is not None for r in rows):
                return rows
            if time.monotonic() > deadline:
                raise AssertionError(f"the app received {len(rows)} of {count} requests {filters} within "
                                     f"{timeout}s: {rows}\n{self.diagnostics()}")
            time.sleep(0.05)

    def closes(self):
        db = self._db()
        try:
            return [dict(r) for r in db.execute("SELECT * FROM closes ORDER BY seq")]
        finally:
            db.close()

    def wait_closes(self, count, timeout=5.0):
        deadline = time.monotonic() + timeout
        while True:
            rows = self.closes()
            if len(rows) >= count:
                return rows
            if time.monotonic() > deadline:
                raise AssertionError(f"the app recorded {len(rows)} of {count} close events within {timeout}s: "
                                     f"{rows}\n{self.diagnostics()}")
            time.sleep(0.05)

    def signature_failures(self):
        """Requests the app refused for their X-Capstan-Signature: [{"endpoint","fault","header"}]."""
        if not self.signature_log.exists():
            return []
        return [json.loads(line) for line in self.signature_log.read_text().splitlines() if line.strip()]

    def php_errors(self) -> str:
        text = self.error_log.read_text(errors="replace") if self.error_log.exists() else ""
        return text if any(p in text for p in PHP_PROBLEMS) else ""

    def diagnostics(self) -> str:
        """What to print when a test fails: refused signatures, notes, PHP errors."""
        parts = []
        if self.signature_failures():
            parts.append(f"signature failures: {self.signature_failures()}")
        try:
            noted = [(r["seq"], r["endpoint"], r["status"], r["note"]) for r in self.requests() if r["note"]]
        except sqlite3.Error as e:
            noted = [f"(requests table unreadable: {e})"]
        if noted:
            parts.append(f"requests the app found wrong: {noted}")
        if self.error_log.exists():
            parts.append("php errors:\n" + self.error_log.read_text(errors="replace")[-3000:])
        return "\n".join(parts) or "(backend: no signature failures, notes or PHP errors)"


@pytest.fixture
def backend_app(tmp_path):
    """Factory: backend_app(secret=SECRET, workers=4) -> BackendApp, started. Each is stopped
    at teardown; a signature refused without `app.expect_signature_failures = True`, or a PHP
    error, fails the test there."""
    apps = []

    def start(secret=SECRET, workers=4) -> BackendApp:
        app = BackendApp(tmp_path / f"backend-{len(apps)}", secret=secret, workers=workers)
        apps.append(app)
        return app

    yield start

    problems = []
    for app in apps:
        app.stop()
        if app.signature_failures() and not app.expect_signature_failures:
            problems.append(f"the app refused Capstan's signature: {app.signature_failures()}")
        if app.php_errors():
            problems.append(f"PHP logged errors:\n{app.php_errors()}")
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


# ---- what the three proxy suites share on the client side ---------------------------------------

async def until_closed(ws, timeout=5.0):
    """Every message until the server closes: ([decoded {action,data} or raw text], code, reason)."""
    got = []
    deadline = asyncio.get_running_loop().time() + timeout
    try:
        while True:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AssertionError(f"not closed within {timeout}s; received {got}")
            raw = await asyncio.wait_for(ws.recv(), left)
            try:
                m = json.loads(raw)
                data = m["data"]
                got.append((m["action"], json.loads(data) if isinstance(data, str) else data))
            except (ValueError, KeyError, TypeError):
                got.append(raw)
    except websockets.ConnectionClosed:
        pass
    except asyncio.TimeoutError:
        raise AssertionError(f"not closed within {timeout}s; received {got}")
    await asyncio.wait_for(ws.wait_closed(), timeout)
    return got, ws.close_code, ws.close_reason


def metrics_text(server) -> str:
    with urllib.request.urlopen(server.http_url("/metrics"), timeout=5) as r:
        assert r.status == 200
        return r.read().decode()


def metric_value(text: str, name: str, **labels) -> float:
    """The sample of `name` with exactly these labels in a Prometheus text body (0 when absent)."""
    for line in text.splitlines():
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$", line)
        if not m or m.group(1) != name:
            continue
        found = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        if found == labels:
            return float(m.group(3))
    return 0.0
