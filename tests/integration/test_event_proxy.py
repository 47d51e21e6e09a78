"""The event proxy (SPEC 5a, `component = "proxy"`, `url`, `timer_interval`) against the real
binary and a real PHP application: tests/php/backend_app's /ws/events, a chat component in
PHP behind PHP's built-in server (signatures verified with clients/php, every request recorded
in SQLite with its start and end time). Open, message and close events are POSTed in order,
one at a time per connection; the answer's commands run in order (send to self, to the route,
to users; close 4000); the timer event's "tick" reaches the route's clients; an application
slow on one connection delays no other connection or route. Users come from the connect proxy
(session cookies) on /chat, routes with auth = false have guests. Fails (never skips) without
php-cli and pdo_sqlite (Debian: php8.2-sqlite3)."""
import asyncio
import json
from collections import defaultdict

import websockets

from backend_app import ALICE, ALICE_COOKIE, BOB, BOB_COOKIE, SECRET, backend_app  # noqa: F401 (fixture)
from helpers import connect, echo_roundtrip, receive_until_quiet, run


def proxy_route(path, url, **keys):
    lines = ["[[routes]]", f'path = "{path}"', 'component = "proxy"', f'url = "{url}"']
    lines += [f"{k} = {json.dumps(v)}" for k, v in keys.items()]
    return "\n".join(lines) + "\n\n"


def config(app, *, server="threads = 2", routes=None):
    events = app.url("/ws/events")
    if routes is None:
        routes = (proxy_route("/chat", events) + proxy_route("/lobby", events, auth=False)
                  + proxy_route("/lounge", events, auth=False))
    return f"""
[server]
{server}

[auth.proxy]
url = "{app.url('/ws/connect')}"
mode = "only"

[backend]
secret = "{SECRET}"
timeout = "5s"

{routes}
[[routes]]
path = "/echo"
component = "echo"
"""


def ws_url(server, path):
    return f"{server.url('')}{path}"


def join(server, path, cookie=None):
    return connect(ws_url(server, path), extra_headers={"Cookie": cookie} if cookie else {})


async def recv_text(ws, timeout=5.0):
    message = await asyncio.wait_for(ws.recv(), timeout)
    assert isinstance(message, str), f"a text frame was expected: {message!r}"
    return message


async def recv_json(ws, timeout=5.0):
    text = await recv_text(ws, timeout)
    try:
        return json.loads(text)
    except ValueError:
        raise AssertionError(f"JSON text was expected: {text!r}") from None


async def welcomed(ws, identity):
    """The app's answer to the open event: the welcome to self, then the join to the route."""
    assert await recv_text(ws) == f"welcome {identity}"
    assert await recv_json(ws) == {"joined": identity}


async def alice_then_bob(server):
    """Alice, then Bob, join /chat; each is welcomed, and Alice hears that Bob joined (the
    route: every client of /chat)."""
    alice = await join(server, "/chat", ALICE_COOKIE)
    await welcomed(alice, "alice@example.com")
    bob = await join(server, "/chat", BOB_COOKIE)
    await welcomed(bob, "bob")
    assert await recv_json(alice) == {"joined": "bob"}
    return alice, bob


async def quiet(clients, seconds=0.3):
    got = await asyncio.gather(*(receive_until_quiet(ws, seconds) for ws in clients))
    assert got == [[]] * len(clients), got


def by_connection(rows):
    groups = defaultdict(list)
    for r in rows:
        groups[r["connection"]].append(r)
    return groups


# ---- open, message, close -------------------------------------------------------------------

def test_open_welcomes_the_user_and_tells_the_route(start_server, backend_app):
    app = backend_app()
    server = start_server(config(app))

    async def scenario():
        alice, bob = await alice_then_bob(server)
        guest = await join(server, "/lobby")  # another route, auth = false
        await welcomed(guest, "guest")
        await quiet([alice, bob, guest])
        await asyncio.gather(alice.close(), bob.close(), guest.close())

    run(scenario())
    opens = [r for r in app.requests(kind="event") if r["event"] == "open"]
    assert [(r["route"], r["status"], r["note"]) for r in opens] == [("/chat", 200, None)] * 2 + [("/lobby", 200, None)]
    body = opens[0]["body"]
    assert {"event", "route", "connection", "user"} <= set(body), body
    assert (body["event"], body["route"]) == ("open", "/chat")
    assert isinstance(body["connection"], str) and body["connection"], body
    assert body["user"] == ALICE, body  # {id, identity, data} as the connect proxy answered
    assert opens[1]["body"]["user"] == BOB
    assert opens[2]["body"].get("user") in (None, {}), opens[2]["body"]  # a guest
    assert len({r["connection"] for r in opens}) == 3


def test_messages_go_where_the_commands_say(start_server, backend_app):
    app = backend_app()
    server = start_server(config(app))

    async def scenario():
        alice, bob = await alice_then_bob(server)
        guest = await join(server, "/lobby")
        await welcomed(guest, "guest")

        await alice.send("hello everyone")  # to the route
        for ws in (alice, bob):
            assert await recv_json(ws) == {"from": "alice@example.com", "text": "hello everyone"}
        await bob.send("to:alice@example.com psst")  # to a user, by identity
        assert await recv_json(alice) == {"from": "bob", "text": "psst", "private": True}
        await bob.send("to:7 by id")  # and by id
        assert await recv_json(alice) == {"from": "bob", "text": "by id", "private": True}
        await quiet([alice, bob, guest])  # the other route heard nothing
        await asyncio.gather(alice.close(), bob.close(), guest.close())

    run(scenario())
    events = [r for r in app.requests(kind="event") if r["event"] in ("open", "message")]
    alice_open = events[0]["body"]
    first = next(r["body"] for r in events if r["event"] == "message")
    assert {"event", "route", "connection", "user", "message"} <= set(first), first
    assert (first["event"], first["route"], first["message"]) == ("message", "/chat", "hello everyone")
    assert first["connection"] == alice_open["connection"] and first["user"] == ALICE, (alice_open, first)


def test_bye_sends_goodbye_then_closes_4000_and_the_close_is_posted(start_server, backend_app):
    app = backend_app()
    server = start_server(config(app))

    async def scenario():
        alice, bob = await alice_then_bob(server)

        await alice.send("bye")
        assert await recv_text(alice) == "goodbye alice@example.com"  # commands run in order
        try:
            extra = await asyncio.wait_for(alice.recv(), 5)
            raise AssertionError(f"nothing after the goodbye but the close: {extra!r}")
        except websockets.ConnectionClosed:
            pass
        await asyncio.wait_for(alice.wait_closed(), 5)
        assert (alice.close_code, alice.close_reason) == (4000, "bye")
        # The others stay.
        await bob.send("still here")
        assert await recv_json(bob) == {"from": "bob", "text": "still here"}
        await bob.close()

    run(scenario())
    alice_connection = app.requests(kind="event", event="open")[0]["connection"]
    closes = {c["connection"]: c for c in app.wait_closes(2)}
    assert closes[alice_connection]["code"] == 4000, closes
    assert closes[alice_connection]["identity"] == "alice@example.com", closes


def test_a_clients_close_is_posted_with_its_code(start_server, backend_app):
    app = backend_app()
    server = start_server(config(app))

    async def scenario():
        polite = await join(server, "/lobby")
        await welcomed(polite, "guest")
        await polite.close(code=4321, reason="done here")
        (closed,) = await asyncio.to_thread(app.wait_closes, 1)
        assert (closed["code"], closed["route"], closed["identity"]) == (4321, "/lobby", None), closed

        rude = await join(server, "/lobby")  # goes away without a close frame
        await welcomed(rude, "guest")
        rude.transport.abort()
        await asyncio.to_thread(app.wait_closes, 2)

    run(scenario())
    close_body = app.requests(kind="event", event="close")[0]["body"]
    assert {"event", "route", "connection", "code"} <= set(close_body), close_body
    assert (close_body["event"], close_body["code"]) == ("close", 4321), close_body
    # No event for a connection after its close.
    for connection, rows in by_connection(app.requests(kind="event")).items():
        assert rows[-1]["event"] == "close", rows


def test_one_connections_events_are_posted_one_at_a_time_in_order(start_server, backend_app):
    """Each message makes the app sleep 150 ms; three clients send four each at once (the
    first closes right after sending). The app's log shows, per connection: open, the four
    messages in the order sent, close — each request begun after the previous one ended."""
    app = backend_app(workers=6)
    server = start_server(config(app))
    clients_n, messages_n = 3, 4

    async def scenario():
        clients = []
        for i in range(clients_n):
            ws = await join(server, "/lobby")
            assert await recv_text(ws) == "welcome guest"
            clients.append(ws)
        await asyncio.sleep(0.3)
        for ws in clients:  # the joins of the later ones
            await receive_until_quiet(ws, 0.2)

        async def talk(i, ws):
            for j in range(messages_n):
                await ws.send(f"sleep:150 c{i}-m{j}")
            if i == 0:
                await ws.close()  # at once: its close must still come after its messages
                return
            mine = []
            while len(mine) < messages_n:
                m = await recv_json(ws, timeout=10)
                if m.get("text", "").startswith(f"c{i}-"):
                    mine.append(m["text"])
            assert mine == [f"c{i}-m{j}" for j in range(messages_n)]  # replies in order too
            await ws.close()

        await asyncio.gather(*(talk(i, ws) for i, ws in enumerate(clients)))

    run(scenario())
    app.wait_closes(clients_n, timeout=10)
    groups = by_connection(app.wait_requests(clients_n * (messages_n + 2), timeout=10, kind="event", route="/lobby"))
    assert len(groups) == clients_n, groups
    for connection, rows in groups.items():
        events = [r["event"] for r in rows]
        assert events == ["open"] + ["message"] * messages_n + ["close"], (connection, events)
        texts = [r["body"]["message"] for r in rows if r["event"] == "message"]
        i = texts[0].split()[1].split("-")[0]
        assert texts == [f"sleep:150 {i}-m{j}" for j in range(messages_n)], texts
        for before, after in zip(rows, rows[1:]):
            assert after["started"] >= before["ended"], (
                f"two requests of connection {connection} in flight at once: "
                f"{before['event']} #{before['seq']} ended {before['ended']:.3f}, "
                f"{after['event']} #{after['seq']} started {after['started']:.3f}")


# ---- the timer ------------------------------------------------------------------------------

def test_the_timer_ticks_reach_the_routes_clients(start_server, backend_app):
    app = backend_app()
    events = app.url("/ws/events")
    server = start_server(config(app, routes=proxy_route("/ticker", events, auth=False, timer_interval="1s")
                                 + proxy_route("/quiet", events, auth=False)))

    async def scenario():
        ticker = [await join(server, "/ticker") for _ in range(2)]
        quiet_one = await join(server, "/quiet")
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        ticks = [0, 0]
        while min(ticks) < 2:  # two ticks each, the messages of the opens in between
            assert loop.time() - t0 < 4, ticks
            for n, ws in enumerate(ticker):
                try:
                    if await asyncio.wait_for(ws.recv(), 0.1) == "tick":
                        ticks[n] += 1
                except asyncio.TimeoutError:
                    pass
        got = await receive_until_quiet(quiet_one, 0.2)
        assert "tick" not in got, got
        await asyncio.gather(*(ws.close() for ws in ticker + [quiet_one]))

    run(scenario())
    timers = app.requests(kind="event", event="timer")
    assert timers and {r["route"] for r in timers} == {"/ticker"}, timers
    body = timers[0]["body"]
    assert (body["event"], body["route"]) == ("timer", "/ticker"), body
    gaps = [b["started"] - a["started"] for a, b in zip(timers, timers[1:])]
    assert gaps and all(0.7 <= g <= 1.5 for g in gaps), gaps  # every second


# ---- a slow application ---------------------------------------------------------------------

def test_a_slow_answer_on_one_route_delays_no_other_route(start_server, backend_app):
    app = backend_app()
    server = start_server(config(app, server="threads = 1"))
    assert server.loops == 1

    async def scenario():
        loop = asyncio.get_running_loop()
        slow = await join(server, "/lobby")
        await welcomed(slow, "guest")
        other = await join(server, "/lounge")
        await welcomed(other, "guest")
        echo = await connect(ws_url(server, "/echo"))

        t0 = loop.time()
        await slow.send("sleep:2000 slow one")
        await asyncio.sleep(0.2)
        started = loop.time()
        await other.send("quick")
        assert await recv_json(other) == {"from": "guest", "text": "quick"}
        assert loop.time() - started < 0.5, loop.time() - started
        started = loop.time()
        assert await echo_roundtrip(echo, "ping") == "ping"
        assert loop.time() - started < 0.2
        assert await recv_json(slow) == {"from": "guest", "text": "slow one"}
        assert loop.time() - t0 >= 1.9
        await asyncio.gather(slow.close(), other.close(), echo.close())

    run(scenario())


def test_a_slow_answer_on_one_connection_delays_no_other_connection_of_the_route(start_server, backend_app):
    app = backend_app()
    server = start_server(config(app))

    async def scenario():
        loop = asyncio.get_running_loop()
        slow = await join(server, "/lobby")
        await welcomed(slow, "guest")
        other = await join(server, "/lobby")
        await welcomed(other, "guest")
        assert await recv_json(slow) == {"joined": "guest"}

        t0 = loop.time()
        await slow.send("sleep:2000 slow one")
        await asyncio.sleep(0.2)
        started = loop.time()
        await other.send("quick")
        assert await recv_json(other) == {"from": "guest", "text": "quick"}
        assert loop.time() - started < 0.5, loop.time() - started
        # Both get the slow one's message in the end, the slow one after the quick one.
        assert await recv_json(slow) == {"from": "guest", "text": "quick"}
        for ws in (slow, other):
            assert await recv_json(ws) == {"from": "guest", "text": "slow one"}
        assert loop.time() - t0 >= 1.9
        await asyncio.gather(slow.close(), other.close())

    run(scenario())
