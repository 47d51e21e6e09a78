"""The `pubsub` component (SPEC sections 2 and 4) with python3-websockets clients against a
running capstan on two loops: subscribe / unsubscribe / publish as the SPEC writes them,
authorization from a JWT claim and from the route, presence, history and recovery, limits, and
what malformed input gets. Every scenario has clients on both loops (16 clients: all on one
loop has a chance of 2**-15)."""
import asyncio
import json
import time
import urllib.request

import jwt
import pytest

from action_client import decode, publish_api, recv
from helpers import connect, receive_until_quiet, run

SECRET = "pubsub-test-secret-0123456789abcdef"
BASE = f"""
[server]
threads = 2
[auth]
algorithms = ["HS256"]
secret = "{SECRET}"
[publish]
api_key = "pk"
"""


def token(username="alice@example.com", **claims):
    return jwt.encode({"username": username, "exp": int(time.time()) + 600, **claims}, SECRET, algorithm="HS256")


def route(**keys):
    lines = ['[[routes]]', 'path = "/live"', 'component = "pubsub"']
    channels = keys.pop("channels", [])
    lines += [f"{k} = {json.dumps(v)}" for k, v in keys.items()]
    for c in channels:
        lines.append("[[routes.channels]]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in c.items()]
    return "\n".join(lines) + "\n"


def url(server, user="alice@example.com", **claims):
    return f"{server.url('')}/live?token={token(user, **claims)}"


def action(name, **data):
    return json.dumps({"action": name, "data": data})


async def subscribe(ws, channel, **extra):
    await ws.send(action("subscribe", channel=channel, **extra))
    got = await recv(ws)
    assert got[0] == "subscribed", got
    return got[1]


def test_subscribe_publish_unsubscribe_as_the_spec_writes_them(start_server):
    server = start_server(BASE + route())
    assert server.loops == 2

    async def scenario():
        clients = [await connect(url(server, f"u{i}@example.com")) for i in range(16)]
        for ws in clients:
            assert await subscribe(ws, "news") == {"channel": "news"}
        outsider = await connect(url(server, "bob@example.com"))
        await clients[5].send(action("publish", channel="news", message={"text": "hi"}))
        for k, ws in enumerate(clients):  # the publisher included
            raw = await asyncio.wait_for(ws.recv(), 5)
            assert json.loads(raw) == {"action": "message", "data": json.dumps({"channel": "news", "message": {"text": "hi"}}, separators=(",", ":"))}, k
        assert await receive_until_quiet(outsider, 0.3) == []
        await clients[0].send(action("unsubscribe", channel="news"))
        assert await recv(clients[0]) == ("unsubscribed", {"channel": "news"})
        await clients[1].send(action("publish", channel="news", message=2))
        assert await receive_until_quiet(clients[0], 0.3) == []
        for ws in clients[1:]:
            assert await recv(ws) == ("message", {"channel": "news", "message": 2})
        # Ten in a row from one publisher arrive in order everywhere.
        for i in range(10):
            await clients[2].send(action("publish", channel="news", message=i))
        for ws in clients[1:]:
            assert [(await recv(ws))[1]["message"] for _ in range(10)] == list(range(10))
        for ws in clients + [outsider]:
            await ws.close()

    run(scenario())


def test_data_as_string_false_sends_json_objects_and_data_may_come_as_a_string(start_server):
    server = start_server(BASE + route(data_as_string=False))

    async def scenario():
        ws = await connect(url(server))
        # The tutorial's client sends data as a string holding JSON: accepted too.
        await ws.send(json.dumps({"action": "subscribe", "data": json.dumps({"channel": "a.b"})}))
        assert json.loads(await ws.recv()) == {"action": "subscribed", "data": {"channel": "a.b"}}
        await ws.send(action("publish", channel="a.b", message=[1, "x"]))
        assert json.loads(await ws.recv()) == {"action": "message", "data": {"channel": "a.b", "message": [1, "x"]}}
        await ws.close()

    run(scenario())


def test_channels_claim_patterns_and_the_users_own_id(start_server):
    server = start_server(BASE + route(channels_claim="channels"))

    async def scenario():
        ws = await connect(url(server, "7", channels=["chat.*", "user.{id}"]))
        assert (await subscribe(ws, "chat.lobby"))["channel"] == "chat.lobby"
        assert (await subscribe(ws, "user.7"))["channel"] == "user.7"
        for refused in ("user.8", "news", "chatroom"):
            await ws.send(action("subscribe", channel=refused))
            assert await recv(ws) == ("error", {"message": f"Not allowed on channel {refused}"})
        await ws.send(action("publish", channel="news", message=1))
        assert (await recv(ws))[0] == "error"
        # A token without the claim may use no channel at all.
        bare = await connect(url(server, "8"))
        await bare.send(action("subscribe", channel="chat.lobby"))
        assert (await recv(bare))[0] == "error"
        for c in (ws, bare):
            await c.close()

    run(scenario())


def test_client_publish_false_leaves_publishing_to_the_api(start_server):
    server = start_server(BASE + route(client_publish=False))

    async def scenario():
        ws = await connect(url(server))
        await subscribe(ws, "news")
        await ws.send(action("publish", channel="news", message=1))
        assert await recv(ws) == ("error", {"message": "Publishing is reserved to the server on this route"})
        status, body = await asyncio.to_thread(publish_api, server, {"route": "/live", "channel": "news", "data": {"n": 1}})
        assert (status, body) == (202, {"delivered": 1})
        assert await recv(ws) == ("message", {"channel": "news", "message": {"n": 1}})
        await ws.close()

    run(scenario())


def test_the_publish_api_reaches_channel_subscribers_on_every_loop_and_counts_them(start_server):
    server = start_server(BASE + route())

    async def scenario():
        clients = [await connect(url(server, f"u{i}")) for i in range(16)]
        for ws in clients[:12]:
            await subscribe(ws, "orders")
        status, body = await asyncio.to_thread(publish_api, server, {"route": "/live", "channel": "orders", "data": "shipped"})
        assert (status, body) == (202, {"delivered": 12})
        for ws in clients[:12]:
            assert await recv(ws) == ("message", {"channel": "orders", "message": "shipped"})
        for ws in clients[12:]:
            assert await receive_until_quiet(ws, 0.2) == []
        status, body = await asyncio.to_thread(publish_api, server, {"route": "/live", "data": 1})
        assert status == 400 and "channel" in body["error"]
        status, body = await asyncio.to_thread(publish_api, server, {"route": "/live", "channel": "bad name", "data": 1})
        assert status == 400 and "printable ASCII" in body["error"]
        for ws in clients:
            await ws.close()

    run(scenario())


def test_presence_lists_users_and_announces_first_join_and_last_leave(start_server):
    server = start_server(BASE + route(channels=[{"pattern": "room.*", "presence": True}]))

    async def scenario():
        alice1 = await connect(url(server, "alice@example.com"))
        await subscribe(alice1, "room.1")
        assert await recv(alice1) == ("joined", {"channel": "room.1", "user": {"id": "alice@example.com", "identity": "alice@example.com"}})
        bob = await connect(url(server, "42"))
        await subscribe(bob, "room.1")
        for ws in (alice1, bob):
            assert await recv(ws) == ("joined", {"channel": "room.1", "user": {"id": 42, "identity": "42"}})
        # alice's second connection: no second `joined`.
        alice2 = await connect(url(server, "alice@example.com"))
        await subscribe(alice2, "room.1")
        assert await receive_until_quiet(bob, 0.3) == []
        await bob.send(action("presence", channel="room.1"))
        kind, data = await recv(bob)
        assert kind == "presence" and data["channel"] == "room.1"
        assert sorted(data["users"], key=lambda u: str(u["id"])) == [
            {"id": 42, "identity": "42", "connections": 1},
            {"id": "alice@example.com", "identity": "alice@example.com", "connections": 2}]
        await alice1.close()
        assert await receive_until_quiet(bob, 0.3) == []  # alice is still there
        await alice2.close()
        assert await recv(bob) == ("left", {"channel": "room.1", "user": {"id": "alice@example.com", "identity": "alice@example.com"}})
        # No presence configured for other channels.
        await subscribe(bob, "plain")
        await bob.send(action("presence", channel="plain"))
        assert await recv(bob) == ("error", {"message": "No presence on channel plain"})
        await bob.close()

    run(scenario())


def test_history_numbers_publications_and_a_reconnecting_client_recovers_what_it_missed(start_server):
    server = start_server(BASE + route(channels=[{"pattern": "news", "history_size": 5, "history_ttl": "10m"}]))

    async def scenario():
        reader = await connect(url(server, "reader"))
        first = await subscribe(reader, "news")
        assert first["offset"] == 0 and first["epoch"] and "recovered" not in first
        writer = await connect(url(server, "writer"))
        for i in range(3):
            await writer.send(action("publish", channel="news", message=i))
        got = [(await recv(reader))[1] for _ in range(3)]
        assert [g["offset"] for g in got] == [1, 2, 3] and {g["epoch"] for g in got} == {first["epoch"]}
        await reader.close()
        for i in range(3, 6):  # missed while away
            await writer.send(action("publish", channel="news", message=i))
        await asyncio.sleep(0.2)
        back = await connect(url(server, "reader"))
        ack = await subscribe(back, "news", since={"offset": 3, "epoch": first["epoch"]})
        assert ack == {"channel": "news", "offset": 6, "epoch": first["epoch"], "recovered": True}
        missed = [(await recv(back))[1] for _ in range(3)]
        assert [(m["message"], m["offset"]) for m in missed] == [(3, 4), (4, 5), (5, 6)]
        await writer.send(action("publish", channel="news", message="live"))
        assert (await recv(back))[1]["offset"] == 7
        assert await receive_until_quiet(back, 0.3) == []  # nothing twice
        # Too far back (history_size 5 keeps 3..7), or another epoch: recovered false, nothing replayed.
        for since in ({"offset": 1, "epoch": first["epoch"]}, {"offset": 6, "epoch": "other"}):
            late = await connect(url(server, "late"))
            ack = await subscribe(late, "news", since=since)
            assert ack["recovered"] is False and ack["offset"] == 7
            assert await receive_until_quiet(late, 0.3) == []
            await late.close()
        for ws in (back, writer):
            await ws.close()

    run(scenario())


def test_recovery_under_concurrent_publishing_loses_and_repeats_nothing(start_server):
    """A publisher on each loop keeps publishing while clients reconnect with `since`: each
    recovered client sees every offset after its own exactly once, in order."""
    server = start_server(BASE + route(channels=[{"pattern": "feed", "history_size": 10000}]))

    async def scenario():
        publishers = [await connect(url(server, f"p{i}")) for i in range(4)]
        seed = await connect(url(server, "seed"))
        first = await subscribe(seed, "feed")
        stop = asyncio.Event()

        async def pump(ws):
            i = 0
            while not stop.is_set():
                await ws.send(action("publish", channel="feed", message=i))
                i += 1
                await asyncio.sleep(0.001)

        tasks = [asyncio.create_task(pump(p)) for p in publishers]
        await asyncio.sleep(0.1)
        results = []
        for k in range(6):
            ws = await connect(url(server, f"r{k}"))
            ack = await subscribe(ws, "feed", since={"offset": 0, "epoch": first["epoch"]})
            assert ack["recovered"] is True
            results.append((ws, ack["offset"]))
            await asyncio.sleep(0.03)
        stop.set()
        await asyncio.gather(*tasks)
        await asyncio.sleep(0.3)
        status, body = await asyncio.to_thread(publish_api, server, {"route": "/live", "channel": "feed", "data": "end"})
        assert status == 202
        for ws, _ in results:
            offsets = []
            while True:
                kind, data = await recv(ws)
                offsets.append(data["offset"])
                if data["message"] == "end":
                    break
            assert offsets == list(range(1, offsets[-1] + 1))
        for ws in publishers + [seed] + [w for w, _ in results]:
            await ws.close()

    run(scenario(), timeout=60)


def test_limits_and_names_are_clear_errors_and_counted_in_metrics(start_server):
    server = start_server(BASE + route(max_channels_per_connection=2, max_subscribers_per_channel=2))

    async def scenario():
        ws = await connect(url(server))
        await subscribe(ws, "a")
        await subscribe(ws, "b")
        await ws.send(action("subscribe", channel="c"))
        assert await recv(ws) == ("error", {"message": "Too many channels: at most 2 per connection"})
        await ws.send(action("subscribe", channel="a"))
        assert await recv(ws) == ("error", {"message": "Already subscribed to a"})
        for name in ("", "has space", "x" * 256, "caf\u00e9"):
            await ws.send(action("subscribe", channel=name))
            kind, data = await recv(ws)
            assert kind == "error" and data["message"].startswith("channel:"), name
        other = [await connect(url(server, f"o{i}")) for i in range(2)]
        await subscribe(other[0], "a")
        await other[1].send(action("subscribe", channel="a"))
        assert await recv(other[1]) == ("error", {"message": "the channel has as many subscribers as it may"})
        await ws.send(action("unsubscribe", channel="zzz"))
        assert (await recv(ws))[0] == "error"
        for c in [ws] + other:
            await c.close()

    run(scenario())
    metrics = urllib.request.urlopen(f"{server.http_url('')}/metrics", timeout=5).read().decode()
    assert 'capstan_pubsub_refused_total{reason="channel_limit"} 1' in metrics
    assert 'capstan_pubsub_refused_total{reason="subscriber_limit"} 1' in metrics
    assert 'capstan_pubsub_refused_total{reason="invalid_channel"} 4' in metrics


def test_malformed_messages_get_fatal_error_and_harm_no_one_else(start_server):
    server = start_server(BASE + route())

    async def scenario():
        bystander = await connect(url(server, "by"))
        await subscribe(bystander, "news")
        for bad in ("not json", "[1,2]", '{"data":{}}', '{"action":"subscribe","data":"{broken"}'):
            ws = await connect(url(server))
            await ws.send(bad)
            kind, data = await recv(ws)
            assert kind == "fatalError", bad
            await asyncio.wait_for(ws.wait_closed(), 5)
        ws = await connect(url(server))
        await ws.send(action("dance"))
        assert (await recv(ws))[0] == "error"
        await ws.send(action("publish", channel="news", message="still here"))
        assert await recv(bystander) == ("message", {"channel": "news", "message": "still here"})
        for c in (ws, bystander):
            await c.close()

    run(scenario())


def test_a_subscribe_flood_is_bounded_per_connection(start_server):
    server = start_server(BASE + route(max_channels_per_connection=50))

    async def scenario():
        ws = await connect(url(server))
        for i in range(500):
            await ws.send(action("subscribe", channel=f"flood.{i}"))
        replies = [await recv(ws) for _ in range(500)]
        assert sum(1 for r in replies if r[0] == "subscribed") == 50
        assert sum(1 for r in replies if r[0] == "error") == 450
        await ws.close()

    run(scenario())
