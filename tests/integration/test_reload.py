"""SIGHUP reload against the real binary: limits, keys and the log level change under
running connections; what needs a restart is named in the log; a faulty file changes nothing."""
import asyncio
import signal
import time

import jwt

from conftest import with_listen, with_test_limits
from helpers import connect, echo_roundtrip, receive_until_quiet, run
from notify_support import expect_fatal, recv_reply, send_action, url

ECHO = '\n[[routes]]\npath = "/echo"\ncomponent = "echo"\n'
NOTIFY = ('\n[[routes]]\npath = "/"\ncomponent = "notify"\n  [[routes.actions]]\n  name = "echo"\n'
          '  kind = "relay"\n  to = "sender"\n')


def reload_with(server, text, expect):
    """Rewrites the server's file, sends SIGHUP, waits for the log line containing `expect`."""
    before = server.stderr.count(expect)
    server.config_path.write_text(with_test_limits(with_listen(text)))
    server.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 5
    while server.stderr.count(expect) == before:
        assert time.monotonic() < deadline, f"no {expect!r} in the log:\n{server.stderr}"
        time.sleep(0.02)


def test_limits_change_under_a_running_connection(start_server):
    server = start_server('[limits]\nmessages_per_second = 1000\nmessage_burst = 1000\n' + ECHO)

    async def scenario():
        async with connect(server.url()) as ws:
            for i in range(20):
                assert await echo_roundtrip(ws, f"a{i}") == f"a{i}"
            reload_with(server, '[server]\nthreads = 3\nlog_level = "debug"\n[limits]\nmessages_per_second = 2\n'
                                'message_burst = 2\n' + ECHO, "info reloaded")
            line = [l for l in server.stderr.splitlines() if " reloaded " in l][-1]
            assert "applied=limits, log" in line and "needs_restart=server.threads" in line, line
            for i in range(6):
                await ws.send(f"b{i}")
            got = await receive_until_quiet(ws)
            assert 2 <= len(got) <= 3, got  # the same connection, now limited
    run(scenario())


def test_a_faulty_file_changes_nothing(start_server):
    server = start_server('[limits]\nmessages_per_second = 1000\nmessage_burst = 1000\n' + ECHO)
    reload_with(server, '[limits]\nmessages_per_second = "fast"\n' + ECHO, "reload refused")
    assert "limits.messages_per_second" in server.stderr

    async def scenario():
        async with connect(server.url()) as ws:
            for i in range(50):
                assert await echo_roundtrip(ws, f"m{i}") == f"m{i}"
    run(scenario())


def test_keys_are_reloaded_and_open_connections_stay(start_server):
    old, new = "old-secret-" * 4, "new-secret-" * 4
    server = start_server(f'[auth]\nalgorithms = ["HS256"]\nsecret = "{old}"\n' + NOTIFY)

    def token(secret):
        return jwt.encode({"username": "alice@example.com", "exp": int(time.time()) + 600}, secret, algorithm="HS256")

    async def scenario():
        async with connect(url(server, token(old))) as kept:
            await send_action(kept, "echo", 1)
            assert await recv_reply(kept) == ("echo", 1)
            reload_with(server, f'[auth]\nalgorithms = ["HS256"]\nsecret = "{new}"\n' + NOTIFY, "applied=auth keys")
            async with connect(url(server, token(old))) as refused:
                await expect_fatal(refused)
            async with connect(url(server, token(new))) as fresh:
                await send_action(fresh, "echo", 2)
                assert await recv_reply(fresh) == ("echo", 2)
            await send_action(kept, "echo", 3)  # authenticated before: stays
            assert await recv_reply(kept) == ("echo", 3)
    run(scenario())
