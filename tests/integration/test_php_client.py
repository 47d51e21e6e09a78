"""The PHP client library (clients/php/, SPEC 5a) against the real binary on two loops:
Capstan\\Publisher, run by php-cli through tests/php/publisher_client.php, publishes to a notify
route, to users, to a pubsub channel and in a batch; python3-websockets clients receive exactly
that, and the script prints the counts Capstan answered. A wrong key, a bad route or a
publication the route cannot take come back as PublishException with the status and reason.
Fails (never skips) when php-cli or php-curl is missing."""
import asyncio
import json
import shutil
import subprocess
import time
from pathlib import Path

import jwt

from helpers import connect, receive_until_quiet, run

SECRET = "php-client-test-secret-0123456789abcdef"
KEY = "pk-php-0123456789"
SCRIPT = Path(__file__).resolve().parents[1] / "php" / "publisher_client.php"
CONFIG = f"""
[server]
threads = 2
[auth]
algorithms = ["HS256"]
secret = "{SECRET}"
[publish]
api_key = "{KEY}"
[[routes]]
path = "/notifications"
component = "notify"
[[routes]]
path = "/live"
component = "pubsub"
"""


def token(username):
    return jwt.encode({"username": username, "exp": int(time.time()) + 600}, SECRET, algorithm="HS256")


def ws_url(server, path, user):
    return f"ws://{server.host}:{server.port}{path}?token={token(user)}"


def php_publish(server, plan, key=KEY, timeout=20):
    """Runs the plan through Capstan\\Publisher; the JSON line it printed per step."""
    php = shutil.which("php")
    assert php, "php-cli is not installed (apt-get install php-cli php-curl)"
    done = subprocess.run([php, str(SCRIPT), f"http://{server.host}:{server.port}", key, json.dumps(plan)],
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"publisher_client.php exited {done.returncode}:\n{done.stderr}{done.stdout}"
    return [json.loads(line) for line in done.stdout.splitlines()]


async def expect_notify(ws, action, data):
    """A notify delivery: {"action": ACTION, "data": "<data as a JSON string>"}."""
    m = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert set(m) == {"action", "data"} and m["action"] == action, m
    assert isinstance(m["data"], str), m  # data_as_string defaults to true
    assert json.loads(m["data"]) == data, m


async def expect_channel_message(ws, channel, message):
    m = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert set(m) == {"action", "data"} and m["action"] == "message", m
    assert json.loads(m["data"]) == {"channel": channel, "message": message}, m


async def subscribe(ws, channel):
    await ws.send(json.dumps({"action": "subscribe", "data": {"channel": channel}}))
    m = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert m["action"] == "subscribed", m


async def quiet(clients, seconds=0.3):
    got = await asyncio.gather(*(receive_until_quiet(ws, seconds) for ws in clients))
    assert got == [[]] * len(clients), got


def test_route_users_channel_and_batch_reach_exactly_their_clients(start_server):
    server = start_server(CONFIG)
    assert server.loops == 2

    async def scenario():
        alice = [await connect(ws_url(server, "/notifications", "alice@example.com")) for _ in range(2)]
        seven = await connect(ws_url(server, "/notifications", "7"))  # no users provider: the id is 7
        bob = await connect(ws_url(server, "/notifications", "bob@example.com"))
        subscribers = [await connect(ws_url(server, "/live", f"s{i}")) for i in range(3)]
        for ws in subscribers:
            await subscribe(ws, "news")
        outsider = await connect(ws_url(server, "/live", "outsider"))
        await subscribe(outsider, "other")

        news = {"text": "héllo / wörld", "n": [1, 2.5], "empty": {}, "none": None}
        plan = [
            {"op": "toRoute", "route": "/notifications", "action": "news", "data": news},
            {"op": "toUsers", "route": "/notifications", "action": "alert", "data": {"level": 1},
             "users": ["alice@example.com", 7]},
            {"op": "toChannel", "route": "/live", "channel": "news", "data": {"state": "shipped"}},
            {"op": "batch", "publications": [
                {"route": "/notifications", "action": "first", "data": 1},
                {"route": "/live", "channel": "news", "data": "breaking"},
                {"route": "/notifications", "action": "dm", "data": {"to": "bob"}, "users": ["bob@example.com"]},
            ]},
        ]
        printed = await asyncio.to_thread(php_publish, server, plan)
        assert printed == [{"delivered": 4}, {"delivered": 3}, {"delivered": 3}, {"delivered": 4 + 3 + 1}]

        for ws in alice + [seven]:  # each connection in the order of the publications
            await expect_notify(ws, "news", news)
            await expect_notify(ws, "alert", {"level": 1})
            await expect_notify(ws, "first", 1)
        await expect_notify(bob, "news", news)
        await expect_notify(bob, "first", 1)
        await expect_notify(bob, "dm", {"to": "bob"})
        for ws in subscribers:
            await expect_channel_message(ws, "news", {"state": "shipped"})
            await expect_channel_message(ws, "news", "breaking")
        everyone = alice + [seven, bob] + subscribers + [outsider]
        await quiet(everyone)
        await asyncio.gather(*(ws.close() for ws in everyone))

    run(scenario())


def test_refusals_are_publish_exceptions_with_status_and_reason(start_server):
    server = start_server(CONFIG)

    async def scenario():
        ws = await connect(ws_url(server, "/notifications", "alice@example.com"))
        sub = await connect(ws_url(server, "/live", "s"))
        await subscribe(sub, "news")

        printed = await asyncio.to_thread(php_publish, server, [
            {"op": "toRoute", "route": "/notifications", "action": "x", "data": 1},
            {"op": "toChannel", "route": "/live", "channel": "news", "data": 1},
        ], key="wrong-key")
        assert printed == [{"status": 401, "reason": "a valid Authorization: Bearer <publish.api_key> is required",
                            "delivered": 0}] * 2

        printed = await asyncio.to_thread(php_publish, server, [
            {"op": "toRoute", "route": "/nowhere", "action": "x", "data": 1},
            {"op": "toChannel", "route": "/notifications", "channel": "news", "data": 1},
            {"op": "toUsers", "route": "/notifications", "action": "x", "data": 1, "users": []},
            {"op": "toChannel", "route": "/live", "channel": "has space", "data": 1},
            {"op": "batch", "publications": [{"route": "/notifications", "action": "ok", "data": 1},
                                             {"route": "/nowhere", "action": "x", "data": 1}]},
            {"op": "toRoute", "route": "/notifications", "action": "after", "data": "still"},
        ])
        assert [p.get("status") for p in printed] == [400, 400, 400, 400, 400, None], printed
        assert printed[0]["reason"] == 'route: no route "/nowhere"', printed
        assert printed[1]["reason"] == "a notify route has no channels", printed
        assert printed[2]["reason"].startswith("users: an empty list"), printed
        assert "printable ASCII" in printed[3]["reason"], printed
        assert printed[4]["reason"].startswith("publications[1]."), printed
        assert all(p["delivered"] == 0 for p in printed[:5]), printed
        assert printed[5] == {"delivered": 1}

        # Only the last publication went out; the refused ones reached nobody.
        await expect_notify(ws, "after", "still")
        await quiet([ws, sub])

        # An entry its route's component refuses does not stop the others of the batch: the
        # exception carries what they reached, and that is what the client got.
        printed = await asyncio.to_thread(php_publish, server, [
            {"op": "batch", "publications": [{"route": "/notifications", "action": "a", "data": 1},
                                             {"route": "/notifications", "channel": "news", "data": 2},
                                             {"route": "/notifications", "action": "c", "data": 3}]}])
        assert printed[0]["status"] == 400, printed
        assert printed[0]["reason"] == "publications[1]: a notify route has no channels", printed
        got = [json.loads(m)["action"] for m in await receive_until_quiet(ws, 0.5)]
        assert printed[0]["delivered"] == len(got) and got in (["a", "c"], ["a"], []), (printed, got)
        await asyncio.gather(ws.close(), sub.close())

    run(scenario())
