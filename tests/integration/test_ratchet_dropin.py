"""Drop-in means message for message (issue 9): where Capstan and the real Ratchet 0.4.4
running the tutorial's Notification component used to differ, and the Ratchet faults Capstan
must not copy. Each test drives the real binary with python3-websockets or raw frames."""
import asyncio
import json
import time

import pytest
import websockets

from helpers import run
from notify_support import (ACTIONS, NotifyEnv, connect, expect_fatal, expect_silence, notify_config, recv_reply,
                            send_action, url)
from rawws import OP_BINARY, OP_TEXT, RawWS, encode_frame, http_exchange, upgrade_request

# An sql action that takes a while on its worker: a recursive count, no lock, no sleep function.
SLOW = """
  [[routes.actions]]
  name = "slow"
  kind = "sql"
  query = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < :n) SELECT count(*) AS n FROM c"
  to = "sender"
"""


@pytest.fixture
def env(tmp_path):
    return NotifyEnv(tmp_path)


def frame(action, data, opcode=OP_TEXT):
    return encode_frame(opcode, json.dumps({"action": action, "data": data}).encode())


def raw_client(server, token, path="/"):
    return RawWS.connect(server.host, server.port, f"{path}?token={token}")


def next_reply(ws, timeout=5.0):
    opcode, payload = ws.recv_message(timeout)
    message = json.loads(payload)
    return message["action"], json.loads(message["data"])


# ---- 1. replies leave in the order the messages arrived ----------------------------------------

@pytest.mark.parametrize("workers", [1, 4])
def test_pipelined_relay_and_sql_replies_keep_the_messages_order(start_server, env, workers):
    """show 1, message, show 2, message ... in one TCP write: the replies come back in exactly
    that order, 50 times over, whatever the number of workers running the sql."""
    server = start_server(notify_config(users=f'provider = "sqlite"\ndatabase = "demo.sqlite"\nworkers = {workers}',
                                        server_extra="threads = 1"))
    with raw_client(server, env.token()) as ws:
        for round_ in range(50):
            sent, expected = [], []
            for i in range(4):
                product = 1 + (round_ + i) % 3
                sent.append(frame("show", {"id": product}))
                expected.append(("show", product))
                sent.append(frame("echo", {"n": i, "round": round_}))
                expected.append(("echo", i))
            sent.insert(3, frame("show", {"id": 999}))  # a not-found error keeps its place too
            expected.insert(3, ("error", "Product not found"))
            ws.send_raw(b"".join(sent))
            got = []
            for _ in expected:
                action, data = next_reply(ws)
                got.append((action, data["id"] if action == "show" else data["n"] if action == "echo"
                            else data["message"]))
            assert got == expected, f"round {round_}"


def test_pipelined_order_with_python_websockets(start_server, env):
    server = start_server(notify_config(users='provider = "sqlite"\ndatabase = "demo.sqlite"\nworkers = 4'))

    async def scenario():
        async with connect(url(server, env.token())) as ws:
            for _ in range(10):
                await send_action(ws, "show", {"id": 1})
                await send_action(ws, "message", {"text": "a"})
                await send_action(ws, "show", {"id": 3})
                await send_action(ws, "message", {"text": "b"})
                replies = [await recv_reply(ws) for _ in range(4)]
                assert [(a, d.get("id", d.get("text"))) for a, d in replies] == \
                    [("show", 1), ("message", "a"), ("show", 3), ("message", "b")]
    run(scenario())


def test_a_slow_sql_action_delays_only_its_own_connection(start_server, env):
    server = start_server(notify_config(users='provider = "sqlite"\ndatabase = "demo.sqlite"\nworkers = 4',
                                        server_extra="threads = 1", actions=ACTIONS + SLOW))
    with raw_client(server, env.token()) as a, raw_client(server, env.token("bob@example.com")) as b:
        # Calibrate: a count that keeps a worker busy for a good fraction of a second.
        started = time.monotonic()
        a.send_raw(frame("slow", {"n": 3_000_000}))
        assert next_reply(a, 30) == ("slow", {"n": 3_000_000})
        slow_seconds = time.monotonic() - started
        assert slow_seconds > 0.2, f"the slow query took only {slow_seconds:.3f}s"

        started = time.monotonic()
        a.send_raw(frame("slow", {"n": 3_000_000}) + frame("echo", "behind the slow one"))
        time.sleep(0.02)
        b.send_raw(frame("echo", "bob") + frame("show", {"id": 1}) + frame("echo", "bob again"))
        assert next_reply(b) == ("echo", "bob")
        assert next_reply(b)[0] == "show"
        assert next_reply(b) == ("echo", "bob again")
        bob_done = time.monotonic() - started
        assert next_reply(a, 30) == ("slow", {"n": 3_000_000})
        assert next_reply(a) == ("echo", "behind the slow one")
        alice_done = time.monotonic() - started
        assert bob_done < alice_done, (bob_done, alice_done)
        assert bob_done < slow_seconds / 2, f"bob waited {bob_done:.3f}s behind alice's {slow_seconds:.3f}s query"


def test_recheck_and_sql_keep_the_order_too(start_server, env):
    """users.recheck = "message" holds messages for a lookup; sql holds them for a query:
    pipelined through both, the replies still come in order."""
    server = start_server(notify_config(users='provider = "sqlite"\ndatabase = "demo.sqlite"\n'
                                              'recheck = "message"\nworkers = 4'))
    with raw_client(server, env.token()) as ws:
        for _ in range(20):
            ws.send_raw(frame("echo", 1) + frame("show", {"id": 2}) + frame("echo", 2) + frame("teleport", {})
                        + frame("echo", 3))
            assert next_reply(ws) == ("echo", 1)
            assert next_reply(ws)[0] == "show"
            assert next_reply(ws) == ("echo", 2)
            assert next_reply(ws) == ("error", {"message": "Invalid request"})
            assert next_reply(ws) == ("echo", 3)


# ---- 2. fatalError closes with 1000, as $conn->close() ------------------------------------------

def test_fatal_error_closes_normally_as_ratchet(start_server, env):
    server = start_server(notify_config())

    async def scenario():
        async with connect(url(server, env.token())) as ws:
            await ws.send(json.dumps({"data": "no action"}))
            assert await recv_reply(ws) == ("fatalError", {"message": "Invalid request"})
            with pytest.raises(websockets.ConnectionClosedOK):  # not ConnectionClosedError
                await asyncio.wait_for(ws.recv(), 5)
            assert ws.close_code == 1000
            assert ws.close_reason == "missing action"  # the reason text stays, for developers
        async with connect(url(server, "not-a-token")) as ws:
            assert await expect_fatal(ws, code=1000)
    run(scenario())


def test_fatal_close_code_is_configurable(start_server, env):
    server = start_server(notify_config(route_extra="fatal_close_code = 1008"))

    async def scenario():
        async with connect(url(server, env.token())) as ws:
            await ws.send("not json")
            assert await expect_fatal(ws, code=1008) == "not JSON"
        async with connect(url(server, env.token("nobody@example.com"))) as ws:
            assert await expect_fatal(ws, code=1008) == "unknown user"
    run(scenario())


# ---- 3. binary frames carry the action JSON, as Ratchet hands them to onMessage ---------------

def test_binary_frames_are_read_as_action_json(start_server, env):
    server = start_server(notify_config())

    async def scenario():
        async with connect(url(server, env.token())) as ws:
            await ws.send(json.dumps({"action": "echo", "data": {"as": "blob"}}).encode())  # a binary frame
            assert await recv_reply(ws) == ("echo", {"as": "blob"})
            await ws.send(json.dumps({"action": "show", "data": {"id": 1}}).encode())
            assert (await recv_reply(ws))[1]["name"] == "Capstan mug"
            await ws.send(b"\xff\xfe not json")  # not UTF-8 either: still the tutorial's fatal rule
            assert await expect_fatal(ws) == "not JSON"
    run(scenario())


def test_binary_frames_can_be_refused(start_server, env):
    server = start_server(notify_config(route_extra="binary_messages = false"))

    async def scenario():
        async with connect(url(server, env.token())) as ws:
            await ws.send(json.dumps({"action": "echo", "data": 1}).encode())
            assert await expect_fatal(ws) == "binary message"
    run(scenario())


# ---- 4. a route may serve a whole subtree ------------------------------------------------------

def test_a_star_route_serves_every_path(start_server, env):
    server = start_server(notify_config().replace('path = "/"', 'path = "/*"'))

    async def scenario():
        for path in ("/", "/ws", "/any/depth/at/all", "/socket.io/"):
            async with connect(url(server, env.token(), path)) as ws:
                await send_action(ws, "echo", path)
                assert await recv_reply(ws) == ("echo", path)
        # One route: a broadcast reaches clients that came in on different paths.
        async with connect(url(server, env.token(), "/a")) as a, \
                connect(url(server, env.token("bob@example.com"), "/b/c")) as b:
            await send_action(a, "message", "to all")
            assert await recv_reply(a) == ("message", "to all")
            assert await recv_reply(b) == ("message", "to all")
    run(scenario())
    # A plain GET anywhere is a WebSocket endpoint now; /healthz keeps answering.
    assert http_exchange(server.host, server.port, b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n").status == 426
    assert http_exchange(server.host, server.port, b"GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n").status == 200


def test_a_subtree_route_and_exact_routes_side_by_side(start_server, env):
    server = start_server(notify_config().replace('path = "/"', 'path = "/app/*"')
                          + '\n[[routes]]\npath = "/app/echo"\ncomponent = "echo"\n')

    async def scenario():
        async with connect(url(server, env.token(), "/app/tenant-7")) as ws:
            await send_action(ws, "echo", 7)
            assert await recv_reply(ws) == ("echo", 7)
        async with connect(f"{server.url('')}/app/echo") as ws:  # the exact route wins
            await ws.send("plain echo")
            assert await ws.recv() == "plain echo"
    run(scenario())
    for path in ("/other", "/apple", "/"):
        assert http_exchange(server.host, server.port, upgrade_request(path)).status == 404, path


# ---- 5. and 6. an action that names nothing is the non-fatal "Invalid request" ---------------

@pytest.mark.parametrize("action", [5, "", False, 0, [], {"x": 1}, "teleport"])
def test_an_action_that_is_set_but_unknown_is_not_fatal(start_server, env, action):
    server = start_server(notify_config())

    async def scenario():
        async with connect(url(server, env.token())) as ws:
            await ws.send(json.dumps({"action": action, "data": "x"}))
            assert await recv_reply(ws) == ("error", {"message": "Invalid request"})
            await send_action(ws, "echo", "still open")
            assert await recv_reply(ws) == ("echo", "still open")
    run(scenario())


@pytest.mark.parametrize("data", ["", 0, False, [], {}])
def test_data_that_is_set_but_empty_is_not_fatal(start_server, env, data):
    """isset() holds for "", 0, false and empty arrays: only a missing or null data is fatal."""
    server = start_server(notify_config())

    async def scenario():
        async with connect(url(server, env.token())) as ws:
            await send_action(ws, "echo", data)
            assert await recv_reply(ws) == ("echo", data)
    run(scenario())


def test_the_unknown_action_message_is_configurable(start_server, env):
    server = start_server(notify_config(route_extra='unknown_action_message = "No such action"'))

    async def scenario():
        async with connect(url(server, env.token())) as ws:
            await send_action(ws, "teleport", {})
            assert await recv_reply(ws) == ("error", {"message": "No such action"})
    run(scenario())


# ---- 7. tokens as strict as Lexik's ------------------------------------------------------------

def test_tokens_without_exp_or_recently_expired_are_refused_by_default(start_server, env):
    server = start_server(notify_config())

    async def scenario():
        now = int(time.time())
        for token in (env.token(exp=None), env.token(exp=now - 5), env.token(exp=now - 25)):
            async with connect(url(server, token)) as ws:
                assert await expect_fatal(ws) in ("missing claim: exp", "expired")
        async with connect(url(server, env.token(exp=now + 60))) as ws:
            await send_action(ws, "echo", "fresh")
            assert await recv_reply(ws) == ("echo", "fresh")
    run(scenario())
    assert server.wait_log("missing claim: exp") and server.wait_log("expired")


def test_require_exp_and_leeway_restore_the_looser_rules(start_server, env):
    server = start_server(notify_config(auth_extra='require_exp = false\nleeway = "30s"'))

    async def scenario():
        now = int(time.time())
        for token in (env.token(exp=None), env.token(exp=now - 10)):
            async with connect(url(server, token)) as ws:
                await send_action(ws, "echo", "in")
                assert await recv_reply(ws) == ("echo", "in")
    run(scenario())


# ---- Ratchet's own faults, not copied ----------------------------------------------------------

def test_a_non_numeric_id_does_not_take_the_server_down(start_server, env):
    """The tutorial's show() is typed int: "abc" is an uncaught TypeError that ends Ratchet."""
    server = start_server(notify_config())

    async def scenario():
        async with connect(url(server, env.token())) as ws, \
                connect(url(server, env.token("bob@example.com"))) as bystander:
            await send_action(ws, "show", {"id": "abc"})
            assert await recv_reply(ws) == ("error", {"message": "Product not found"})
            await send_action(bystander, "echo", "alive")
            assert await recv_reply(bystander) == ("echo", "alive")
    run(scenario())


def test_a_token_without_the_identity_claim_ends_only_that_connection(start_server, env):
    """$payload['username'] on a token without it is a TypeError that ends Ratchet."""
    server = start_server(notify_config())

    async def scenario():
        async with connect(url(server, env.token("bob@example.com"))) as bystander:
            async with connect(url(server, env.token(username=None))) as ws:
                assert await expect_fatal(ws) == "missing claim: username"
            await send_action(bystander, "echo", "alive")
            assert await recv_reply(bystander) == ("echo", "alive")
    run(scenario())


def test_messages_behind_a_non_fatal_error_in_one_read_are_answered(start_server, env):
    """Ratchet's RFC 6455 buffer drops the rest of a TCP read after a non-fatal error."""
    server = start_server(notify_config())
    with raw_client(server, env.token()) as ws:
        ws.send_raw(frame("teleport", {}) + frame("echo", "first") + frame(7, 1) + frame("echo", "second"))
        assert next_reply(ws) == ("error", {"message": "Invalid request"})
        assert next_reply(ws) == ("echo", "first")
        assert next_reply(ws) == ("error", {"message": "Invalid request"})
        assert next_reply(ws) == ("echo", "second")
        ws.send_raw(frame("echo", "binary", OP_BINARY))
        assert next_reply(ws) == ("echo", "binary")
