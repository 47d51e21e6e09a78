"""Start-up, configuration checks and graceful shutdown of the `capstan` process."""
import asyncio
import signal
import socket
import subprocess
import time

import pytest

from conftest import run_capstan
from helpers import connect, echo_roundtrip, run
from rawws import OP_TEXT, RawWS, open_socket


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


# ---- graceful shutdown ---------------------------------------------------------------------

@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_closes_clients_1001_and_exits_0(start_server, signum):
    server = start_server('[server]\nshutdown_timeout = "3s"\n')

    async def main():
        clients = [await connect(server.url()) for _ in range(3)]
        for i, ws in enumerate(clients):
            assert await echo_roundtrip(ws, f"hello {i}") == f"hello {i}"
        stopped_at = time.monotonic()
        server.proc.send_signal(signum)
        for ws in clients:
            await asyncio.wait_for(ws.wait_closed(), 5)
            assert (ws.close_code, ws.close_reason) == (1001, "server shutting down")
        return stopped_at

    stopped_at = run(main())
    rc = server.wait(timeout=5)
    elapsed = time.monotonic() - stopped_at
    assert rc == 0, server.stderr
    assert elapsed < 3.0, f"exit took {elapsed:.2f}s, shutdown_timeout is 3s"
    name = "SIGTERM" if signum == signal.SIGTERM else "SIGINT"
    assert f"info stopping signal={name}" in server.stderr
    assert " info stopped" in server.stderr


def test_shutdown_timeout_bounds_a_client_that_never_answers(start_server):
    """A client that ignores the close frame is cut off after shutdown_timeout, not
    close_timeout; new connections are refused meanwhile."""
    server = start_server('[server]\nthreads = 1\nshutdown_timeout = "1s"\n'
                          '[limits]\nclose_timeout = "20s"\n')
    with RawWS.connect(server.host, server.port) as c:
        assert c.echo(OP_TEXT, b"hi") == (OP_TEXT, b"hi")
        started = time.monotonic()
        server.terminate()
        f = c.recv_frame(timeout=3)
        assert f.close_code == 1001
        with pytest.raises(ConnectionRefusedError):  # the listener closed at once
            socket.create_connection((server.host, server.port), timeout=2).close()
        rc = server.wait(timeout=5)
        elapsed = time.monotonic() - started
    assert rc == 0, server.stderr
    assert 0.8 <= elapsed <= 2.5, f"exit after {elapsed:.2f}s with shutdown_timeout 1s"


def test_shutdown_with_client_mid_handshake(start_server):
    server = start_server('[server]\nshutdown_timeout = "5s"\n')
    with open_socket(server.host, server.port) as s:
        s.sendall(b"GET /echo HTTP/1.1\r\nHost: x\r\n")  # never finished
        time.sleep(0.1)
        started = time.monotonic()
        server.terminate()
        assert server.wait(timeout=5) == 0
        assert time.monotonic() - started < 1.0, "a half-sent request held up the shutdown"


def test_start_with_listen_argument(start_server):
    server = start_server(args=["--listen", "127.0.0.1:0"])
    assert server.host == "127.0.0.1" and server.port > 0

    async def main():
        async with connect(server.url()) as ws:
            assert await echo_roundtrip(ws, "cli") == "cli"
    run(main())
    assert "info route path=/echo component=echo" in server.stderr


def assert_error_line(stderr, prefix, message):
    """One line of `stderr` starts with `prefix` (file:line: key: ) and contains `message`."""
    lines = [l for l in stderr.splitlines() if l.startswith(prefix)]
    assert lines, f"no line starting with {prefix!r} in:\n{stderr}"
    assert any(message in l for l in lines), f"{message!r} not in {lines}"


# ---- capstan check -------------------------------------------------------------------------

GOOD = '''# a complete file
[server]
listen = "127.0.0.1:9999"
threads = 2
prefix = "/ws"
allowed_origins = ["https://a.example"]
shutdown_timeout = "5s"

[limits]
max_message_size = "2MiB"
max_header_size = "8KiB"
handshake_timeout = "3s"
idle_timeout = "60s"
ping_interval = "20s"
close_timeout = "2s"
send_buffer = "1MiB"
max_connections = 1000

[[routes]]
path = "/chat"
component = "echo"
protocols = ["chat.v1"]
'''


def test_check_good_file(tmp_path):
    path = write(tmp_path, "good.toml", GOOD)
    r = run_capstan("check", "-c", path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"{path}: ok"


@pytest.mark.parametrize("text, line, key, message", [
    ('[server]\nthreads = 1\nbogus_key = 3\n', 3, "server.bogus_key", "unknown key"),
    ('[limits]\n\nidle_timeot = "5s"\n', 3, "limits.idle_timeot", "unknown key"),
    ('[[routes]]\ncomponent = "echo"\npathh = "/x"\n', 3, "routes[0].pathh", "unknown key"),
    ('[sever]\nlisten = "127.0.0.1:1"\n', 1, "sever", "unknown key"),
    ('[limits]\nidle_timeout = "soon"\n', 2, "limits.idle_timeout", "expected a duration"),
    ('[limits]\nmax_message_size = "0"\n', 2, "limits.max_message_size", "out of range"),
    ('[server]\nthreads = -1\n', 2, "server.threads", "out of range"),
    ('[server]\nlisten = "nohost"\n', 2, "server.listen", ""),
    ('[server]\nprefix = "/trailing/"\n', 2, "server.prefix", "must start with '/'"),
    ('[[routes]]\npath = "/x"\n', 1, "routes[0].component", "missing"),
])
def test_check_bad_file_names_key_and_line(tmp_path, text, line, key, message):
    path = write(tmp_path, "bad.toml", text)
    r = run_capstan("check", "-c", path)
    assert r.returncode != 0
    assert_error_line(r.stderr, f"{path}:{line}: {key}: ", message)
    assert "ok" not in r.stdout


def test_check_toml_syntax_error(tmp_path):
    path = write(tmp_path, "syntax.toml", '[server]\nthreads = 2\nlisten = "unterminated\n')
    r = run_capstan("check", "-c", path)
    assert r.returncode != 0
    assert f"{path}:3:" in r.stderr, r.stderr


def test_check_missing_file(tmp_path):
    r = run_capstan("check", "-c", tmp_path / "absent.toml")
    assert r.returncode != 0
    assert "absent.toml" in r.stderr


# ---- capstan start refusing to start -------------------------------------------------------

def start_must_fail(*args):
    try:
        r = run_capstan("start", *args, timeout=5)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`capstan start {' '.join(map(str, args))}` kept running instead of failing")
    assert r.returncode != 0
    assert " info listening" not in r.stderr
    return r


def test_start_with_unknown_key_fails(tmp_path):
    path = write(tmp_path, "bad.toml", '[server]\nlisten = "127.0.0.1:0"\n\n[limits]\nmax_mesage_size = "1MiB"\n')
    r = start_must_fail("-c", path)
    assert_error_line(r.stderr, f"{path}:5: limits.max_mesage_size: ", "unknown key")


def test_start_with_bad_value_fails(tmp_path):
    path = write(tmp_path, "bad.toml", '[server]\nlisten = "127.0.0.1:0"\n[limits]\nsend_buffer = "lots"\n')
    r = start_must_fail("-c", path)
    assert_error_line(r.stderr, f"{path}:4: limits.send_buffer: ", "expected a size")


def test_start_with_unknown_component_fails(tmp_path):
    path = write(tmp_path, "bad.toml", '[server]\nlisten = "127.0.0.1:0"\n[[routes]]\npath = "/x"\ncomponent = "nope"\n')
    r = start_must_fail("-c", path)
    assert "cannot start" in r.stderr and "unknown component 'nope'" in r.stderr, r.stderr


def test_start_with_duplicate_routes_fails(tmp_path):
    route = '[[routes]]\npath = "/x"\ncomponent = "echo"\n'
    path = write(tmp_path, "dup.toml", '[server]\nlisten = "127.0.0.1:0"\n' + route + route)
    r = start_must_fail("-c", path)
    assert "two routes on path /x" in r.stderr, r.stderr


def test_start_on_a_port_in_use_fails():
    with socket.socket() as taken:  # no SO_REUSEPORT: capstan cannot share it
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        r = start_must_fail("--listen", f"127.0.0.1:{port}")
    assert "cannot start" in r.stderr and "cannot listen on" in r.stderr, r.stderr


def test_second_server_on_the_same_port_is_refused(start_server):
    # Both would set SO_REUSEPORT; the second must not silently share the first one's port.
    first = start_server(args=["--listen", "127.0.0.1:0"])
    r = start_must_fail("--listen", f"127.0.0.1:{first.port}")
    assert "address already in use" in r.stderr, r.stderr


def test_start_with_missing_config_file_fails(tmp_path):
    r = start_must_fail("-c", tmp_path / "absent.toml")
    assert "absent.toml" in r.stderr
