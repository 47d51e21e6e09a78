"""The action proxy (SPEC 3 and 5a, `[[routes.actions]] kind = "http"`) against the real binary
and a real PHP application (tests/php/backend_app under PHP's built-in server, verifying
X-Capstan-Signature with clients/php): the action, its data and the user are POSTed to the
app; a 2xx answer's data goes out under the action's name to the answer's `to` ("all",
{"users":[...]}) or else to the action's configured `to`; a 4xx answer is an `error` with the
answer's message; a 5xx, an unreachable app or a timeout ([backend] timeout) an `error` that
leaks nothing of the app's internals; the connection stays open throughout; replies leave in
the order of the client's messages whatever the app's latency; the loop never waits for the
app. Fails (never skips) without php-cli and pdo_sqlite (Debian: php8.2-sqlite3)."""
import asyncio
import time

import jwt

from backend_app import ALICE, ALICE_COOKIE, SECRET, backend_app, free_port  # noqa: F401 (fixture)
from helpers import connect, echo_roundtrip, run
from notify_support import expect_silence, recv_reply, send_action

JWT_SECRET = "action-proxy-jwt-secret-0123456789abcdef"
CHAIR = {"id": 42, "name": "Chair", "price": 49.9}
LAMP = {"id": 7, "name": "Lamp", "price": 19.5}


def http_action(name, url, to="sender"):
    return f'''
  [[routes.actions]]
  name = "{name}"
  kind = "http"
  url = "{url}"
  to = "{to}"
'''


def config(app, *, timeout="2s", server="threads = 2"):
    action_url = app.url("/ws/action")
    dead_url = f"http://127.0.0.1:{free_port()}/ws/action"
    actions = "".join([
        http_action("show", action_url),
        http_action("whoami", action_url),
        http_action("shout", action_url, to="all"),
        http_action("announce", action_url),  # the answer says "all"
        http_action("dm", action_url),        # the answer names users
        http_action("boom", action_url),
        http_action("slow", action_url),
        http_action("down", dead_url),
    ])
    return f"""
[server]
{server}

[auth]
algorithms = ["HS256"]
secret = "{JWT_SECRET}"

[auth.proxy]
url = "{app.url('/ws/connect')}"

[backend]
secret = "{SECRET}"
timeout = "{timeout}"

[[routes]]
path = "/shop"
component = "notify"
{actions}
  [[routes.actions]]
  name = "echo"
  kind = "relay"
  to = "sender"

[[routes]]
path = "/echo"
component = "echo"
"""


def token(username):
    return jwt.encode({"username": username, "exp": int(time.time()) + 600}, JWT_SECRET, algorithm="HS256")


def shop(server, user=None, cookie=None):
    url = f"{server.url('')}/shop" + (f"?token={token(user)}" if user else "")
    return connect(url, extra_headers={"Cookie": cookie} if cookie else {})


async def ask(ws, action, data):
    await send_action(ws, action, data)
    return await recv_reply(ws)


async def close_all(clients):
    await asyncio.gather(*(ws.close() for ws in clients))


# ---- 2xx: the reply -------------------------------------------------------------------------

def test_a_2xx_answer_is_the_reply_under_the_actions_name_to_the_configured_target(start_server, backend_app):
    app = backend_app()
    server = start_server(config(app))

    async def scenario():
        alice = await shop(server, "alice@example.com")
        bob = await shop(server, "bob@example.com")
        assert await ask(alice, "show", {"id": 42}) == ("show", CHAIR), app.diagnostics()
        assert await ask(alice, "show", {"id": "7"}) == ("show", LAMP)
        await expect_silence(bob)  # to = "sender"
        # shout's configured to is "all", and the answer names no target.
        await send_action(bob, "shout", {"text": "hello"})
        for ws in (alice, bob):
            assert await recv_reply(ws) == ("shout", {"from": "bob@example.com", "text": "hello"})
        await expect_silence(alice, 0.2)
        await close_all([alice, bob])

    run(scenario())
    asked = app.requests(kind="action")
    assert [(r["action"], r["status"]) for r in asked] == [("show", 200), ("show", 200), ("shout", 200)], asked


def test_an_answers_to_sends_the_reply_to_those_users_or_to_all(start_server, backend_app):
    app = backend_app()
    server = start_server(config(app))

    async def scenario():
        alice = await shop(server, "alice@example.com")
        bob = [await shop(server, "bob@example.com") for _ in range(2)]  # every connection of a user
        five = await shop(server, "5")  # without a users provider, a numeric identity is the id
        others = await shop(server, "carol@example.com")
        everyone = [alice, *bob, five, others]

        await send_action(alice, "dm", {"to": ["bob@example.com"], "text": "psst"})
        for ws in bob:
            assert await recv_reply(ws) == ("dm", {"from": "alice@example.com", "text": "psst"}), app.diagnostics()
        await send_action(alice, "dm", {"to": [5], "text": "by id"})
        assert await recv_reply(five) == ("dm", {"from": "alice@example.com", "text": "by id"})
        for ws in (alice, others):
            await expect_silence(ws, 0.2)

        await send_action(five, "announce", {"text": "sale"})  # configured "sender", answered "all"
        for ws in everyone:
            assert await recv_reply(ws) == ("announce", {"from": "5", "text": "sale"})
        await close_all(everyone)

    run(scenario())


def test_the_app_receives_route_action_data_user_and_connection(start_server, backend_app):
    app = backend_app()
    server = start_server(config(app))
    data = {"id": 42, "extra": [1, "two", {"three": 3.5}, None, True], "text": "h\u00e9llo / \"quoted\"\n"}

    async def scenario():
        alice = await shop(server, cookie=ALICE_COOKIE)  # the connect proxy: a user with data
        dave = await shop(server, "12")                  # a JWT: identity "12", id 12
        assert await ask(alice, "show", data) == ("show", CHAIR), app.diagnostics()
        assert await ask(dave, "show", {"id": 7}) == ("show", LAMP)
        await close_all([alice, dave])

    run(scenario())
    first, second = app.requests(kind="action")
    assert (first["signature"], first["note"], second["signature"], second["note"]) == ("ok", None, "ok", None)
    assert (first["content_type"] or "").startswith("application/json"), first
    body = first["body"]
    assert {"route", "action", "data", "user", "connection"} <= set(body), body
    assert body["route"] == "/shop"
    assert body["action"] == "show"
    assert body["data"] == data  # exactly as the client sent it
    assert body["user"] == ALICE, body["user"]  # {id, identity, data}: the data the connect proxy gave
    assert isinstance(body["connection"], str) and body["connection"], body
    other = second["body"]
    assert (other["user"]["id"], other["user"]["identity"]) == (12, "12"), other
    assert isinstance(other["connection"], str) and other["connection"] != body["connection"], (body, other)


# ---- failures -------------------------------------------------------------------------------

def test_a_4xx_answer_is_a_non_fatal_error_with_its_message(start_server, backend_app):
    app = backend_app()
    server = start_server(config(app))

    async def scenario():
        async with shop(server, "alice@example.com") as ws:
            assert await ask(ws, "show", {"id": 404}) == ("error", {"message": "Product not found"}), app.diagnostics()
            assert await ask(ws, "show", {"id": 999}) == ("error", {"message": "Product not found"})
            assert await ask(ws, "dm", {"to": [], "text": "nobody"}) == ("error", {"message": 'dm: "to" lists no users'})
            assert await ask(ws, "show", {"id": 42}) == ("show", CHAIR)  # still open, still served
            assert ws.close_code is None

    run(scenario())
    assert [r["status"] for r in app.requests(kind="action")] == [404, 404, 422, 200]


def test_a_failing_or_unreachable_app_is_an_error_that_leaks_nothing(start_server, backend_app):
    app = backend_app()
    server = start_server(config(app))

    async def scenario():
        async with shop(server, "alice@example.com") as ws:
            for action in ("boom", "down"):
                reply = await ask(ws, action, {})
                assert reply[0] == "error", (action, reply)
                message = reply[1]["message"] if isinstance(reply[1], dict) else None
                assert isinstance(message, str) and message, (action, reply)
                # The 500's body is the application's business, not the client's.
                assert "SQLSTATE" not in message and "internal detail" not in message, (action, reply)
            assert await ask(ws, "show", {"id": 42}) == ("show", CHAIR)
            assert ws.close_code is None

    run(scenario())
    assert [(r["action"], r["status"]) for r in app.requests(kind="action")] == [("boom", 500), ("show", 200)]


def test_a_timeout_is_a_clear_error_and_the_late_answer_is_dropped(start_server, backend_app):
    app = backend_app()
    server = start_server(config(app, timeout="500ms"))

    async def scenario():
        loop = asyncio.get_running_loop()
        async with shop(server, "alice@example.com") as ws:
            started = loop.time()
            action, data = await ask(ws, "slow", {"sleep_ms": 3000})
            waited = loop.time() - started
            assert action == "error", (action, data)
            assert "time" in data["message"].lower(), data  # says it timed out
            assert 0.4 <= waited < 1.5, waited  # the configured 500 ms, not the app's 3 s
            assert await ask(ws, "show", {"id": 42}) == ("show", CHAIR)
            # The app answers the slow request at last: nothing reaches the client from it.
            await asyncio.to_thread(app.wait_requests, 1, 5.0, action="slow")
            await expect_silence(ws, 0.5)
            assert await ask(ws, "show", {"id": 7}) == ("show", LAMP)

    run(scenario())


# ---- order and the loop ---------------------------------------------------------------------

def test_replies_keep_the_order_of_the_clients_messages(start_server, backend_app):
    app = backend_app()
    server = start_server(config(app, timeout="5s"))
    sent = [("show", {"id": 42, "sleep_ms": 600}), ("show", {"id": 404}), ("echo", {"n": 3}),
            ("show", {"id": 7, "sleep_ms": 200}), ("boom", {}), ("show", {"id": 42}), ("echo", {"n": 7})]

    async def scenario():
        async with shop(server, "alice@example.com") as ws, shop(server, "bob@example.com") as bob:
            for action, data in sent:  # all at once, before any reply
                await send_action(ws, action, data)
            # Another client's quick action is not queued behind alice's slow one. (A moment
            # later: a php -S worker accepts every connection pending when it wakes, so a request
            # arriving together with the slow one may wait behind it inside PHP.)
            await asyncio.sleep(0.1)
            started = asyncio.get_running_loop().time()
            assert await ask(bob, "show", {"id": 7}) == ("show", LAMP)
            assert asyncio.get_running_loop().time() - started < 0.5
            got = [await recv_reply(ws, timeout=5) for _ in sent]
            assert [a for a, _ in got] == ["show", "error", "echo", "show", "error", "show", "echo"], got
            assert got[0] == ("show", CHAIR) and got[1] == ("error", {"message": "Product not found"}), got
            assert got[2] == ("echo", {"n": 3}) and got[3] == ("show", LAMP), got
            assert got[5] == ("show", CHAIR) and got[6] == ("echo", {"n": 7}), got

    run(scenario())


def test_the_loop_does_not_wait_for_the_app(start_server, backend_app):
    app = backend_app()
    server = start_server(config(app, timeout="5s", server="threads = 1"))
    assert server.loops == 1

    async def scenario():
        loop = asyncio.get_running_loop()
        async with shop(server, "alice@example.com") as ws, \
                connect(f"{server.url('')}/echo") as echo:
            t0 = loop.time()
            await send_action(ws, "slow", {"sleep_ms": 1500})
            slowest, rounds = 0.0, 0
            while loop.time() - t0 < 1.2:
                started = loop.time()
                assert await echo_roundtrip(echo, f"r{rounds}") == f"r{rounds}"
                slowest = max(slowest, loop.time() - started)
                rounds += 1
                await asyncio.sleep(0.02)
            assert rounds >= 15 and slowest < 0.2, (rounds, slowest)
            assert await recv_reply(ws) == ("slow", {"slow": True})
            assert loop.time() - t0 >= 1.4

    run(scenario())
