"""The notify component against the real binary: the Ratchet tutorial's own test scenarios,
the fatal and non-fatal rules, relay targets across loops, and sql actions."""
import asyncio
import json

import pytest
import websockets

from helpers import run
from notify_support import (NotifyEnv, connect, expect_fatal, expect_silence, notify_config, recv_reply,
                            send_action, url)


@pytest.fixture
def env(tmp_path):
    return NotifyEnv(tmp_path)


# ---- the tutorial's WebSocketTest::testInvalidConnexion, scenario by scenario ----------------

def test_invalid_jwt_gets_fatal_error_then_close(start_server, env):
    server = start_server(notify_config())

    async def scenario():
        async with connect(url(server, "invalid_jwt_token")) as ws:  # the handshake completes
            try:
                await ws.send("test")  # as the tutorial's test does; the server may have closed already
            except websockets.ConnectionClosed:
                pass
            reason = await expect_fatal(ws)
            assert reason  # the close reason says why, for a developer
    run(scenario())
    assert server.wait_log("connection refused")


def test_missing_action_is_fatal(start_server, env):
    server = start_server(notify_config())

    async def scenario():
        async with connect(url(server, env.token())) as ws:
            await ws.send(json.dumps({"data": "test"}))
            assert await expect_fatal(ws) == "missing action"
    run(scenario())


def test_missing_data_is_fatal(start_server, env):
    server = start_server(notify_config())

    async def scenario():
        async with connect(url(server, env.token())) as ws:
            await ws.send(json.dumps({"action": "test"}))
            assert await expect_fatal(ws) == "missing data"
    run(scenario())


def test_user_deleted_since_token_was_issued_is_fatal(start_server, env):
    server = start_server(notify_config())

    async def scenario():
        async with connect(url(server, env.token("carol@example.com"))) as ws:
            await send_action(ws, "echo", "before")
            assert await recv_reply(ws) == ("echo", "before")
            env.sql("DELETE FROM user WHERE email = ?", "carol@example.com")
            await send_action(ws, "echo", "after")
            assert await expect_fatal(ws) == "user no longer exists"
    run(scenario())


def test_unknown_user_at_connect_is_fatal(start_server, env):
    server = start_server(notify_config())

    async def scenario():
        async with connect(url(server, env.token("nobody@example.com"))) as ws:
            assert await expect_fatal(ws) == "unknown user"
    run(scenario())


# ---- more fatal input ------------------------------------------------------------------------

@pytest.mark.parametrize("frame, why", [
    (b"\x00\x01binary", "not JSON"),  # a binary frame is read as text would be, as Ratchet does
    ("not json at all", "not JSON"),
    ('{"action": "echo", "data": ', "not JSON"),
    ('["action", "data"]', "not a JSON object"),
    ('"a string"', "not a JSON object"),
    ('{"action": "echo", "data": null}', "missing data"),
    ('{"action": null, "data": 1}', "missing action"),
    ('{"data": 1}', "missing action"),
])
def test_fatal_input_closes_only_that_connection(start_server, env, frame, why):
    server = start_server(notify_config())

    async def scenario():
        async with connect(url(server, env.token())) as ws, \
                connect(url(server, env.token("bob@example.com"))) as bystander:
            await ws.send(frame)
            assert await expect_fatal(ws) == why
            await send_action(bystander, "echo", {"still": "served"})
            assert await recv_reply(bystander) == ("echo", {"still": "served"})
    run(scenario())


# ---- not fatal ---------------------------------------------------------------------------------

def test_unknown_action_is_an_error_and_the_connection_stays(start_server, env):
    server = start_server(notify_config())

    async def scenario():
        async with connect(url(server, env.token())) as ws:
            await send_action(ws, "teleport", {})
            assert await recv_reply(ws) == ("error", {"message": "Invalid request"})  # the tutorial's text
            await send_action(ws, "echo", [1, 2.5, "three", None, True, {"k": "v\u00e9\n"}])
            assert await recv_reply(ws) == ("echo", [1, 2.5, "three", None, True, {"k": "v\u00e9\n"}])
    run(scenario())


def test_leading_and_trailing_whitespace_is_accepted(start_server, env):
    server = start_server(notify_config())

    async def scenario():
        async with connect(url(server, env.token())) as ws:
            await ws.send('  \n{"action": "echo", "data": "x"}\n ')
            assert await recv_reply(ws) == ("echo", "x")
    run(scenario())


# ---- relay targets -----------------------------------------------------------------------------

def test_relay_to_users_between_two_users(start_server, env):
    server = start_server(notify_config())

    async def scenario():
        async with connect(url(server, env.token("alice@example.com"))) as alice, \
                connect(url(server, env.token("bob@example.com"))) as bob, \
                connect(url(server, env.token("carol@example.com"))) as carol:
            await send_action(alice, "notify", {"to": [2], "text": "hello Bob"})
            action, data = await recv_reply(bob)
            assert action == "notify"
            assert data == {"to": [2], "text": "hello Bob", "from": {"id": 1, "identity": "alice@example.com"}}
            # by identity as well
            await send_action(bob, "notify", {"to": "alice@example.com", "text": "hi", "from": "forged"})
            assert await recv_reply(alice) == ("notify", {"to": "alice@example.com", "text": "hi",
                                                          "from": {"id": 2, "identity": "bob@example.com"}})
            # ids as strings, as form values arrive
            await send_action(carol, "notify", {"to": ["2"], "text": "from a form"})
            assert (await recv_reply(bob))[1]["text"] == "from a form"
            await expect_silence(carol)
            await expect_silence(alice, 0.1)
    run(scenario())


def test_relay_to_all_reaches_every_loop_and_the_sender(start_server, env):
    server = start_server(notify_config(server_extra="threads = 4"))
    assert server.loops == 4

    async def scenario():
        tokens = [env.token(u) for u in ("alice@example.com", "bob@example.com", "carol@example.com")]
        clients = [await connect(url(server, tokens[i % 3])).__aenter__() for i in range(12)]
        try:
            await send_action(clients[5], "message", {"text": "to everyone"})
            for ws in clients:
                assert await recv_reply(ws) == ("message", {"text": "to everyone"})
        finally:
            for ws in clients:
                await ws.close()
    run(scenario())


def test_self_reaches_every_connection_of_the_sender_only(start_server, env):
    server = start_server(notify_config(server_extra="threads = 2"))

    async def scenario():
        alice_token, bob_token = env.token(), env.token("bob@example.com")
        alices = [await connect(url(server, alice_token)).__aenter__() for _ in range(4)]
        bob = await connect(url(server, bob_token)).__aenter__()
        try:
            await send_action(alices[0], "mine", {"draft": 1})
            for ws in alices:
                assert await recv_reply(ws) == ("mine", {"draft": 1})
            await expect_silence(bob)
            await send_action(bob, "silent", {"x": 1})  # to = "none"
            await expect_silence(bob)
        finally:
            for ws in alices + [bob]:
                await ws.close()
    run(scenario())


def test_data_as_string_false_sends_plain_json(start_server, env):
    server = start_server(notify_config(route_extra="data_as_string = false"))

    async def scenario():
        async with connect(url(server, env.token())) as ws:
            await send_action(ws, "echo", {"a": [1, 2]})
            assert json.loads(await ws.recv()) == {"action": "echo", "data": {"a": [1, 2]}}
            await send_action(ws, "nope", 1)
            assert json.loads(await ws.recv()) == {"action": "error", "data": {"message": "Invalid request"}}
    run(scenario())


# ---- sql actions -------------------------------------------------------------------------------

def test_sql_action_with_relative_dates(start_server, env):
    server = start_server(notify_config())

    async def scenario():
        async with connect(url(server, env.token())) as ws:
            await send_action(ws, "show", {"id": 1})
            action, product = await recv_reply(ws)
            assert action == "show"
            assert product["id"] == 1 and product["name"] == "Capstan mug" and product["price"] == 12.5
            assert product["created_at"] in ("5 minutes ago", "6 minutes ago")  # a minute may roll over
            await send_action(ws, "show", {"id": "2"})
            assert (await recv_reply(ws))[1]["created_at"] == "in 2 hours"
            await send_action(ws, "show", {"id": 3})
            assert (await recv_reply(ws))[1]["created_at"] == "1 day ago"  # 1 day 3 hours: no rounding
    run(scenario())


def test_sql_not_found_and_missing_parameter_are_errors(start_server, env):
    server = start_server(notify_config())

    async def scenario():
        async with connect(url(server, env.token())) as ws:
            await send_action(ws, "show", {"id": 999})
            assert await recv_reply(ws) == ("error", {"message": "Product not found"})
            await send_action(ws, "show", {"ident": 1})
            assert await recv_reply(ws) == ("error", ["id: this value is required"])  # validation: a list
            await send_action(ws, "products", {"min": 10})
            assert await recv_reply(ws) == ("products", [{"id": 1, "name": "Capstan mug"},
                                                         {"id": 3, "name": "Old anchor"}])
            await send_action(ws, "products", {"min": 1000})
            assert await recv_reply(ws) == ("products", [])
    run(scenario())


def test_lookups_do_not_stall_other_connections(start_server, env):
    """A user lookup blocked by a locked database waits on a worker; the loop keeps serving."""
    import sqlite3
    server = start_server(notify_config(server_extra="threads = 1") + '\n[[routes]]\npath = "/echo"\ncomponent = "echo"\n')

    async def scenario():
        lock = sqlite3.connect(env.db_path, timeout=0, isolation_level=None)
        lock.execute("BEGIN EXCLUSIVE")
        try:
            pending = asyncio.ensure_future(connect(url(server, env.token())).__aenter__())
            await asyncio.sleep(0.2)
            async with connect(f"{server.url('')}/echo") as echo:
                started = asyncio.get_running_loop().time()
                await echo.send("ping")
                assert await asyncio.wait_for(echo.recv(), 1) == "ping"
                assert asyncio.get_running_loop().time() - started < 0.5
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        ws = await pending
        await send_action(ws, "echo", 1)
        assert await recv_reply(ws) == ("echo", 1)
        await ws.close()
    run(scenario())


# ---- the demo page is served by capstan --------------------------------------------------------

def test_static_dir_serves_the_page_on_the_route_path(start_server, env, tmp_path):
    import urllib.request
    import urllib.error
    (tmp_path / "public").mkdir()
    (tmp_path / "public" / "index.html").write_text("<!doctype html><title>demo</title>")
    (tmp_path / "secret.txt").write_text("not for the web")
    server = start_server(notify_config(server_extra='static_dir = "public"'))
    base = f"{server.http_url('')}"
    with urllib.request.urlopen(base + "/?token=x", timeout=5) as r:
        assert r.status == 200 and r.headers["Content-Type"].startswith("text/html")
        assert b"<title>demo</title>" in r.read()
    for bad in ("/../secret.txt", "/%2e%2e/secret.txt", "/missing.js", "/.hidden"):
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(base + bad, timeout=5)
        assert e.value.code in (400, 404)


def test_periodic_recheck_ends_users_deleted_meanwhile(start_server, env):
    """users.recheck as a duration: a timer on each loop looks every connected user up again;
    a deleted user gets fatalError and the close without sending anything, the others stay."""
    server = start_server(notify_config(
        users='provider = "sqlite"\ndatabase = "demo.sqlite"\nrecheck = "1s"', server_extra="threads = 2"))

    async def scenario():
        async with connect(url(server, env.token("carol@example.com"))) as carol, \
                connect(url(server, env.token("carol@example.com"))) as carol2, \
                connect(url(server, env.token("alice@example.com"))) as alice:
            env.sql("DELETE FROM user WHERE email = ?", "carol@example.com")
            for ws in (carol, carol2):
                action, data = await recv_reply(ws, timeout=4)
                assert (action, data) == ("fatalError", {"message": "Invalid request"})
                await asyncio.wait_for(ws.wait_closed(), 5)
                assert ws.close_code == 1000 and ws.close_reason == "user no longer exists"
            await send_action(alice, "echo", "still here")
            assert await recv_reply(alice) == ("echo", "still here")
    run(scenario())
