"""The operations commands against real processes (issue 5): the runtime directory's state
files, `capstan start --daemon`, `list`, `status` and `stop`, and GET /status.

Every test has its own runtime directory (`runtime_dir` in the config, or `--runtime-dir`),
so it never sees another test's servers or a developer's. Daemons are not children of the
test: each is tracked by pid and start time, and one still running at teardown gets SIGTERM.
"""
import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import SANITIZER_MARKERS, run_capstan
from helpers import connect, echo_roundtrip, run

DAEMON_RE = re.compile(r"^capstan: (\S+) started \(pid (\d+)\), listening on (\S+); log: (\S+)$")
ISO_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def proc_start(pid):
    """Start time of `pid` (clock ticks after boot), None when gone or a zombie."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None if fields[0] in ("Z", "X") else int(fields[19])


def wait_gone(pid, start, timeout):
    deadline = time.monotonic() + timeout
    while proc_start(pid) == start:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


class Ops:
    """One test's runtime directory, its configs and the daemons it started."""

    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.dir = tmp_path / "run"
        self.daemons = []  # (pid, start time)

    def config(self, name, extra="", server_extra=""):
        path = self.tmp / f"{name}.toml"
        path.write_text(f'[server]\nname = "{name}"\nlisten = "127.0.0.1:0"\nruntime_dir = "{self.dir}"\n'
                        f'shutdown_timeout = "3s"\n{server_extra}\n{extra}')
        return path

    def cmd(self, *args, timeout=30.0):
        return run_capstan(*args, "--runtime-dir", self.dir, timeout=timeout)

    def daemon(self, name, extra=""):
        r = run_capstan("start", "--daemon", "-c", self.config(name, extra), timeout=40)
        assert r.returncode == 0, r.stdout + r.stderr
        m = DAEMON_RE.match(r.stdout.strip())
        assert m, r.stdout
        pid = int(m.group(2))
        self.daemons.append((pid, proc_start(pid)))
        assert m.group(1) == name and m.group(4) == str(self.dir / f"{name}.log")
        return pid, m.group(3)

    def state(self, name):
        return json.loads((self.dir / f"{name}.json").read_text())

    def list_json(self):
        r = self.cmd("list", "--json")
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    def status_json(self, name):
        r = self.cmd("status", name, "--json")
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)


@pytest.fixture
def ops(tmp_path):
    o = Ops(tmp_path)
    yield o
    problems = []
    for pid, start in o.daemons:
        if start is not None and proc_start(pid) == start:
            os.kill(pid, signal.SIGTERM)
            if not wait_gone(pid, start, 15):
                os.kill(pid, signal.SIGKILL)
                problems.append(f"daemon pid {pid} still running 15 s after SIGTERM")
    for log in o.dir.glob("*.log") if o.dir.is_dir() else []:
        text = log.read_text(errors="replace")
        marker = next((m for m in SANITIZER_MARKERS if m in text), None)
        if marker:
            problems.append(f"{log} contains {marker!r}:\n{text}")
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def echo_url(address, path="/echo"):
    return f"ws://{address}{path}"


# ---- the state file and GET /status ----------------------------------------------------------

def test_foreground_server_writes_and_removes_its_state_file(ops, start_server):
    before = int(time.time())
    server = start_server(f'[server]\nname = "fg"\nruntime_dir = "{ops.dir}"\nshutdown_timeout = "3s"\n')
    state_file = ops.dir / "fg.json"
    assert wait_for(state_file.exists)
    assert oct(ops.dir.stat().st_mode & 0o777) == "0o700"
    s = ops.state("fg")
    assert s["name"] == "fg" and s["pid"] == server.pid
    assert s["listen"] == [f"127.0.0.1:{server.port}"]  # the real port, not 0
    assert s["status_url"] == f"http://127.0.0.1:{server.port}/status"
    assert before <= s["started_unix"] <= time.time() and ISO_RE.match(s["started"])
    assert time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(s["started_unix"])) == s["started"]
    assert s["config"] == str(Path(server.config_path).resolve())
    assert s["routes"] == [{"path": "/echo", "component": "echo"}]
    version = run_capstan("--version").stdout.split()[-1]
    assert s["version"] == version
    assert s["shutdown_timeout_ms"] == 3000
    assert s["log"] == ""  # stderr is a pipe here, not a log file

    with urllib.request.urlopen(s["status_url"], timeout=5) as response:
        assert response.headers["Content-Type"] == "application/json"
        status = json.loads(response.read())
    assert status["name"] == "fg" and status["pid"] == server.pid and status["version"] == version
    assert status["listen"] == s["listen"] and status["started"] == s["started"]
    assert 0 <= status["uptime_seconds"] <= time.time() - before + 1
    assert status["connections"] == 0
    assert status["routes"] == [{"path": "/echo", "component": "echo", "connections": 0}]
    assert "config" not in status and "log" not in status  # no file paths on a public port

    server.terminate()
    assert server.wait(15) == 0
    assert not state_file.exists()


def test_second_server_of_the_same_name_is_refused(ops, start_server):
    first = start_server(f'[server]\nname = "dup"\nruntime_dir = "{ops.dir}"\n')
    assert wait_for((ops.dir / "dup.json").exists)
    r = run_capstan("start", "-c", ops.config("dup"))
    assert r.returncode != 0
    assert f"a server named 'dup' is already running (pid {first.pid}" in r.stderr, r.stderr
    r = run_capstan("start", "--daemon", "-c", ops.config("dup"), timeout=40)
    assert r.returncode == 1
    assert f"dup could not start: a server named 'dup' is already running (pid {first.pid}" in r.stderr, r.stderr
    assert ops.state("dup")["pid"] == first.pid  # the first one's file is untouched


def dead_pid():
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def stale_state(ops, name, pid, **extra):
    ops.dir.mkdir(mode=0o700, exist_ok=True)
    state = {"name": name, "pid": pid, "proc_start": 1, "exe": "/usr/bin/capstan", "listen": ["127.0.0.1:1"],
             "started_unix": 1, "routes": [], **extra}
    (ops.dir / f"{name}.json").write_text(json.dumps(state))


def test_stale_state_file_is_removed_and_the_start_goes_on(ops, start_server):
    stale_state(ops, "phoenix", dead_pid())
    server = start_server(f'[server]\nname = "phoenix"\nruntime_dir = "{ops.dir}"\n')
    assert wait_for(lambda: (ops.dir / "phoenix.json").exists() and ops.state("phoenix")["pid"] == server.pid)
    assert "removed a stale state file" in server.stderr


def test_list_and_stop_ignore_a_reused_pid(ops):
    # This test's own pid is alive but no capstan: listed nowhere, and never signalled.
    stale_state(ops, "reused", os.getpid())
    stale_state(ops, "ghost", dead_pid())
    (ops.dir / "package.json").write_text('{"name": "not a state file"}')
    assert ops.list_json() == []
    r = ops.cmd("stop", "reused")
    assert r.returncode != 0 and "no server named 'reused' is running" in r.stderr, r.stderr
    assert not (ops.dir / "reused.json").exists() and not (ops.dir / "ghost.json").exists()
    assert (ops.dir / "package.json").exists()  # not ours: left alone


def test_refuses_a_runtime_directory_writable_by_others(ops, tmp_path):
    ops.dir.mkdir()
    ops.dir.chmod(0o777)
    r = run_capstan("start", "-c", ops.config("open"))
    assert r.returncode != 0 and "writable by others" in r.stderr, r.stderr
    r = ops.cmd("list")
    assert r.returncode != 0 and "writable by others" in r.stderr, r.stderr


# ---- start --daemon ------------------------------------------------------------------------

def test_daemon_returns_once_listening_and_serves(ops):
    pid, address = ops.daemon("d1")
    s = ops.state("d1")  # written before the command returned
    assert s["pid"] == pid and s["listen"] == [address]
    assert s["log"] == str(ops.dir / "d1.log")
    assert os.getsid(pid) == pid  # its own session: no terminal's signals reach it

    async def main():
        async with connect(echo_url(address)) as ws:
            assert await echo_roundtrip(ws, "hello daemon") == "hello daemon"
    run(main())
    assert " info listening address=" in (ops.dir / "d1.log").read_text()


def test_daemon_with_a_bad_config_reports_the_error(ops):
    path = ops.config("broken", server_extra="no_such_key = 1")
    r = run_capstan("start", "--daemon", "-c", path, timeout=40)
    assert r.returncode != 0
    assert "server.no_such_key" in r.stderr and "unknown key" in r.stderr, r.stderr
    assert r.stdout == "" and not (ops.dir / "broken.json").exists()


def test_daemon_that_cannot_listen_says_why(ops):
    with socket.socket() as taken:  # no SO_REUSEPORT: capstan cannot share it
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        path = ops.config("busy").read_text().replace("127.0.0.1:0", f"127.0.0.1:{port}")
        (ops.tmp / "busy.toml").write_text(path)
        r = run_capstan("start", "--daemon", "-c", ops.tmp / "busy.toml", timeout=40)
    assert r.returncode == 1
    assert "busy could not start: cannot listen on" in r.stderr and "address already in use" in r.stderr, r.stderr
    assert not (ops.dir / "busy.json").exists()
    assert "cannot start" in (ops.dir / "busy.log").read_text()


# ---- list, status, stop ----------------------------------------------------------------------

TWO_ROUTES = '[[routes]]\npath = "/a"\ncomponent = "echo"\n[[routes]]\npath = "/b"\ncomponent = "echo"\n'


def test_list_and_status_show_live_connection_counts(ops):
    pid_x, address_x = ops.daemon("x", TWO_ROUTES)
    pid_y, _ = ops.daemon("y")

    async def main():
        clients = [await connect(echo_url(address_x, p)) for p in ("/a", "/a", "/b")]
        for ws in clients:
            assert await echo_roundtrip(ws, "hi") == "hi"
        # The commands run on a thread: these clients keep answering meanwhile.
        listed = await asyncio.to_thread(ops.list_json)
        text = await asyncio.to_thread(ops.cmd, "list")
        status = await asyncio.to_thread(ops.status_json, "x")
        status_text = await asyncio.to_thread(ops.cmd, "status", "x")
        for ws in clients:
            await ws.close()
        return listed, text, status, status_text
    listed, text, status, status_text = run(main())

    assert [(s["name"], s["pid"]) for s in listed] == [("x", pid_x), ("y", pid_y)]
    x, y = listed
    assert x["listen"] == [address_x] and x["reachable"] is True
    assert x["connections"] == 3 and y["connections"] == 0
    assert [(r["path"], r["component"], r["connections"]) for r in x["routes"]] == [("/a", "echo", 2), ("/b", "echo", 1)]
    assert x["uptime_seconds"] >= 0 and ISO_RE.match(x["started"])
    assert x["config"] == str(ops.tmp / "x.toml") and x["log"] == str(ops.dir / "x.log")

    assert text.returncode == 0
    lines = text.stdout.splitlines()
    assert lines[0].split() == ["NAME", "PID", "LISTEN", "ROUTES", "CONNECTIONS", "UPTIME"]
    assert lines[1].split()[:5] == ["x", str(pid_x), address_x, "/a,/b", "3"]
    assert lines[2].split()[:5] == ["y", str(pid_y), ops.state("y")["listen"][0], "/echo", "0"]
    assert lines[1][lines[0].index("CONNECTIONS")] == "3"  # aligned columns

    assert status["name"] == "x" and status["connections"] == 3
    assert status["state_file"] == str(ops.dir / "x.json")
    assert status_text.returncode == 0
    out = status_text.stdout
    assert f"pid:         {pid_x}" in out and "connections: 3" in out and f"log:         {ops.dir / 'x.log'}" in out
    assert re.search(r"^\s+/a\s+echo\s+2$", out, re.M) and re.search(r"^\s+/b\s+echo\s+1$", out, re.M), out

    # Closed clients are counted out.
    assert wait_for(lambda: ops.status_json("x")["connections"] == 0)


def test_status_picks_the_only_server_and_refuses_to_guess(ops):
    r = ops.cmd("status")
    assert r.returncode != 0 and "no capstan servers running" in r.stderr
    pid, _ = ops.daemon("solo")
    r = ops.cmd("status", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["pid"] == pid
    ops.daemon("other")
    r = ops.cmd("status")
    assert r.returncode != 0 and "2 servers running (other, solo): name one" in r.stderr, r.stderr
    r = ops.cmd("status", "nobody")
    assert r.returncode != 0 and "no server named 'nobody'" in r.stderr


def test_list_still_shows_a_server_that_does_not_answer(ops):
    pid, _ = ops.daemon("frozen")
    os.kill(pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        r = ops.cmd("list")
        assert time.monotonic() - started < 5
        assert r.returncode == 0
        assert r.stdout.splitlines()[1].split()[4] == "?", r.stdout
        [entry] = ops.list_json()
        assert entry["reachable"] is False and entry["connections"] is None
    finally:
        os.kill(pid, signal.SIGCONT)


def test_stop_by_name_closes_clients_1001(ops):
    pid, address = ops.daemon("victim")
    start = proc_start(pid)

    async def main():
        clients = [await connect(echo_url(address)) for _ in range(3)]
        for ws in clients:
            assert await echo_roundtrip(ws, "x") == "x"
        r = await asyncio.to_thread(ops.cmd, "stop", "victim")
        for ws in clients:
            await asyncio.wait_for(ws.wait_closed(), 5)
            assert ws.close_code == 1001
        return r
    r = run(main())
    assert r.returncode == 0, r.stderr
    assert re.match(rf"^stopped victim \(pid {pid}\) in \d+\.\d s$", r.stdout.strip()), r.stdout
    assert proc_start(pid) != start  # gone: stop returns after the exit, not before
    assert not (ops.dir / "victim.json").exists()
    assert " info stopped" in (ops.dir / "victim.log").read_text()


def test_stop_with_the_config_file(ops):
    pid, _ = ops.daemon("configured")
    r = run_capstan("stop", "-c", ops.tmp / "configured.toml", timeout=30)  # runtime_dir and name from the file
    assert r.returncode == 0 and f"stopped configured (pid {pid})" in r.stdout, r.stdout + r.stderr


def test_stop_all(ops):
    pids = [ops.daemon(name)[0] for name in ("one", "two")]
    starts = [proc_start(p) for p in pids]
    r = ops.cmd("stop", "--all")
    assert r.returncode == 0, r.stderr
    assert f"stopped one (pid {pids[0]})" in r.stdout and f"stopped two (pid {pids[1]})" in r.stdout
    assert all(proc_start(p) != s for p, s in zip(pids, starts))
    assert list(ops.dir.glob("*.json")) == []
    r = ops.cmd("stop", "--all")
    assert r.returncode != 0 and "no capstan servers running" in r.stderr


def test_stop_of_an_unknown_name_fails(ops):
    r = ops.cmd("stop", "nobody")
    assert r.returncode != 0 and "no server named 'nobody' is running" in r.stderr, r.stderr
    r = ops.cmd("stop")
    assert r.returncode != 0 and "name a server, or --all" in r.stderr
