"""Many nodes through Redis (SPEC section 4, [cluster] redis): a real redis-server (Debian's)
started here on a loopback port, two capstan nodes of two loops each, python3-websockets
clients. Every kind of delivery crosses nodes (channel publications from a client and from the
publish API, notify broadcasts, per-user sends, relay actions); publications on one channel
arrive in publish order; Redis killed and restarted mid-test: each node keeps serving its own
clients, reconnects, resubscribes, counts it in /metrics, and delivery across nodes resumes."""
import asyncio
import json
import shutil
import socket
import subprocess
import time
import urllib.request

import jwt
import pytest

from action_client import decode, publish_api, recv
from helpers import connect, receive_until_quiet, run

SECRET = "cluster-test-secret-0123456789abcdef"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Redis:
    def __init__(self, port):
        self.port = port
        self.proc = None

    def start(self):
        binary = shutil.which("redis-server")
        if not binary:
            pytest.fail("redis-server is not installed (scripts/install-deps.sh installs it)")
        self.proc = subprocess.Popen([binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        pytest.fail("redis-server did not start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def redis():
    r = Redis(free_port())
    r.start()
    yield r
    r.stop()


def config(redis_port):
    return f"""
[server]
threads = 2
[auth]
algorithms = ["HS256"]
secret = "{SECRET}"
[publish]
api_key = "pk"
[cluster]
redis = "redis://127.0.0.1:{redis_port}"
[[routes]]
path = "/live"
component = "pubsub"
  [[routes.channels]]
  pattern = "room.*"
  presence = true
  history_size = 50
  [[routes.channels]]
  pattern = "feed.*"
  history_size = 10000
[[routes]]
path = "/n"
component = "notify"
  [[routes.actions]]
  name = "shout"
  kind = "relay"
  to = "all"
  [[routes.actions]]
  name = "whisper"
  kind = "relay"
  to = "users"
"""


def token(username):
    return jwt.encode({"username": username, "exp": int(time.time()) + 600}, SECRET, algorithm="HS256")


def ws_url(node, path, user):
    return f"ws://{node.host}:{node.port}{path}?token={token(user)}"


def metrics(node):
    return urllib.request.urlopen(f"http://{node.host}:{node.port}/metrics", timeout=5).read().decode()


def metric(text, line_start):
    for line in text.splitlines():
        if line.startswith(line_start):
            return int(line.rsplit(" ", 1)[1])
    return 0


def wait_connected(node, timeout=10):
    """Until the node has subscribed (its log says so)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if node.stderr.count("cluster: subscribed") >= 1:
            return
        time.sleep(0.05)
    pytest.fail(f"node never subscribed to redis:\n{node.stderr}")


def two_nodes(start_server, redis):
    a = start_server(config(redis.port))
    b = start_server(config(redis.port))
    wait_connected(a)
    wait_connected(b)
    return a, b


async def subscribe(ws, channel):
    await ws.send(json.dumps({"action": "subscribe", "data": {"channel": channel}}))
    assert (await recv(ws))[0] == "subscribed"


def test_channel_publications_cross_nodes_in_order(start_server, redis):
    a, b = two_nodes(start_server, redis)

    async def scenario():
        on_a = [await connect(ws_url(a, "/live", f"a{i}")) for i in range(8)]
        on_b = [await connect(ws_url(b, "/live", f"b{i}")) for i in range(8)]
        for ws in on_a + on_b:
            await subscribe(ws, "news")
        for i in range(20):
            await on_a[0].send(json.dumps({"action": "publish", "data": {"channel": "news", "message": i}}))
        for k, ws in enumerate(on_a + on_b):
            got = [(await recv(ws))[1]["message"] for _ in range(20)]
            assert got == list(range(20)), k
        # The publish API on node B reaches node A's subscribers too; its count is B's own.
        status, body = await asyncio.to_thread(publish_api, b, {"route": "/live", "channel": "news", "data": "api"})
        assert (status, body) == (202, {"delivered": 8})
        for ws in on_a + on_b:
            assert await recv(ws) == ("message", {"channel": "news", "message": "api"})
        for ws in on_a + on_b:
            await ws.close()

    run(scenario())


def test_notify_broadcasts_user_sends_and_relays_cross_nodes(start_server, redis):
    a, b = two_nodes(start_server, redis)

    async def scenario():
        alice_a = await connect(ws_url(a, "/n", "alice@example.com"))
        alice_b = await connect(ws_url(b, "/n", "alice@example.com"))
        bob_b = await connect(ws_url(b, "/n", "bob@example.com"))
        # A relay to everyone from node A.
        await alice_a.send(json.dumps({"action": "shout", "data": {"x": 1}}))
        for ws in (alice_a, alice_b, bob_b):
            assert await recv(ws) == ("shout", {"x": 1})
        # A relay to a user: bob is on B only.
        await alice_a.send(json.dumps({"action": "whisper", "data": {"to": "bob@example.com", "y": 2}}))
        assert (await recv(bob_b))[0] == "whisper"
        assert await receive_until_quiet(alice_b, 0.3) == []
        # The publish API on node A to alice: both her connections, one on each node.
        status, body = await asyncio.to_thread(publish_api, a, {"route": "/n", "action": "note", "data": {"z": 3}, "users": ["alice@example.com"]})
        assert (status, body) == (202, {"delivered": 1})
        for ws in (alice_a, alice_b):
            assert await recv(ws) == ("note", {"z": 3})
        assert await receive_until_quiet(bob_b, 0.3) == []
        # To everyone on the route, from node B.
        status, _ = await asyncio.to_thread(publish_api, b, {"route": "/n", "action": "all", "data": 4})
        for ws in (alice_a, alice_b, bob_b):
            assert await recv(ws) == ("all", 4)
        for ws in (alice_a, alice_b, bob_b):
            await ws.close()

    run(scenario())


def test_a_user_named_by_id_and_identity_gets_it_once_on_every_loop_of_every_node(start_server, redis):
    """Per-user delivery is one publication to the route's users family: every connection of
    the user, on both loops of both nodes (eight connections a node land on both loops all but
    once in a hundred runs), exactly once although the list names the user three times."""
    a, b = two_nodes(start_server, redis)

    async def scenario():
        # A numeric username is the user's id and identity alike (no users provider).
        seven = {node: [await connect(ws_url(node, "/n", "7")) for _ in range(8)] for node in (a, b)}
        others = [await connect(ws_url(node, "/n", "70")) for node in (a, b)]
        everyone = seven[a] + seven[b] + others
        status, body = await asyncio.to_thread(publish_api, a, {"route": "/n", "action": "note", "data": 1,
                                                                "users": ["7", 7, "7"]})
        assert (status, body) == (202, {"delivered": 8})  # node A's own deliveries
        for k, ws in enumerate(seven[a] + seven[b]):
            assert [decode(m) for m in await receive_until_quiet(ws, 0.3)] == [("note", 1)], k
        # A relay from node B naming the user by id and by identity.
        await others[1].send(json.dumps({"action": "whisper", "data": {"to": [7, "7"], "w": 2}}))
        for k, ws in enumerate(seven[a] + seven[b]):
            got = [decode(m) for m in await receive_until_quiet(ws, 0.3)]
            assert got == [("whisper", {"to": [7, "7"], "w": 2})], k
        for ws in others:
            assert await receive_until_quiet(ws, 0.3) == []
        for ws in everyone:
            await ws.close()

    run(scenario())


def test_redis_killed_and_restarted_nodes_keep_serving_and_resume(start_server, redis):
    a, b = two_nodes(start_server, redis)

    async def scenario():
        on_a = await connect(ws_url(a, "/live", "a"))
        on_b = await connect(ws_url(b, "/live", "b"))
        for ws in (on_a, on_b):
            await subscribe(ws, "news")
        redis.stop()
        await asyncio.sleep(0.5)
        # Each node still serves its own clients.
        await on_a.send(json.dumps({"action": "publish", "data": {"channel": "news", "message": "alone"}}))
        assert await recv(on_a) == ("message", {"channel": "news", "message": "alone"})
        assert await receive_until_quiet(on_b, 0.3) == []
        late = await connect(ws_url(b, "/live", "late"))  # new clients are served too
        await subscribe(late, "news")
        redis.start()
        # Both nodes reconnect (backoff at most 5 s) and subscribe again.
        deadline = time.time() + 15
        while time.time() < deadline and (a.stderr.count("cluster: subscribed") < 2 or b.stderr.count("cluster: subscribed") < 2):
            await asyncio.sleep(0.1)
        assert a.stderr.count("cluster: subscribed") >= 2, a.stderr
        assert b.stderr.count("cluster: subscribed") >= 2, b.stderr
        await asyncio.sleep(0.2)
        await on_a.send(json.dumps({"action": "publish", "data": {"channel": "news", "message": "back"}}))
        for ws in (on_a, on_b, late):
            assert await recv(ws) == ("message", {"channel": "news", "message": "back"})
        for ws in (on_a, on_b, late):
            await ws.close()

    run(scenario(), timeout=60)
    text = metrics(a)
    assert metric(text, "capstan_cluster_disconnects_total") >= 2  # both links lost
    assert metric(text, "capstan_cluster_dropped_total") >= 1      # "alone" could not cross
    assert metric(text, 'capstan_cluster_messages_total{direction="sent"}') >= 1  # "back"
    assert "redis unreachable" in a.stderr


def test_a_node_without_redis_at_start_serves_and_joins_later(start_server):
    port = free_port()
    node = start_server(config(port))  # nothing listens there yet

    async def alone():
        ws = await connect(ws_url(node, "/live", "x"))
        await subscribe(ws, "c")
        await ws.send(json.dumps({"action": "publish", "data": {"channel": "c", "message": 1}}))
        assert await recv(ws) == ("message", {"channel": "c", "message": 1})
        await ws.close()

    run(alone())
    r = Redis(port)
    r.start()
    try:
        wait_connected(node, timeout=15)
    finally:
        r.stop()


async def subscribe_ack(ws, channel, **extra):
    await ws.send(json.dumps({"action": "subscribe", "data": {"channel": channel, **extra}}))
    while True:
        kind, data = await recv(ws)
        if kind == "subscribed":
            return data


def test_history_is_numbered_alike_on_every_node_and_recovers_on_another(start_server, redis):
    a, b = two_nodes(start_server, redis)

    async def scenario():
        on_a = [await connect(ws_url(a, "/live", f"a{i}")) for i in range(4)]
        on_b = [await connect(ws_url(b, "/live", f"b{i}")) for i in range(4)]
        acks = [await subscribe_ack(ws, "room.h") for ws in on_a + on_b]
        assert {x["epoch"] for x in acks} == {acks[0]["epoch"]}, acks  # one history, whichever node
        for i in range(10):  # publishers on both nodes, interleaved
            ws = on_a[0] if i % 2 == 0 else on_b[0]
            await ws.send(json.dumps({"action": "publish", "data": {"channel": "room.h", "message": i}}))
        seen = []
        for ws in on_a + on_b:
            got = []
            while len(got) < 10:
                kind, data = await recv(ws)
                if kind == "message":
                    got.append((data["offset"], data["message"]))
            seen.append(got)
        assert all(s == seen[0] for s in seen), seen  # the same numbering and order everywhere
        assert [o for o, _ in seen[0]] == list(range(seen[0][0][0], seen[0][0][0] + 10))
        # A client of node A comes back on node B with what it last saw.
        last_offset = seen[0][4][0]
        back = await connect(ws_url(b, "/live", "a0"))
        ack = await subscribe_ack(back, "room.h", since={"offset": last_offset, "epoch": acks[0]["epoch"]})
        assert ack["recovered"] is True and ack["offset"] == seen[0][-1][0]
        missed = []
        while len(missed) < 5:
            kind, data = await recv(back)
            if kind == "message":
                missed.append((data["offset"], data["message"]))
        assert missed == seen[0][5:]
        # The publish API counts its own node's deliveries of a numbered publication.
        status, body = await asyncio.to_thread(publish_api, a, {"route": "/live", "channel": "room.h", "data": "api"})
        assert (status, body) == (202, {"delivered": 4})
        for ws in on_a + on_b + [back]:
            while True:
                kind, data = await recv(ws)
                if kind == "message":
                    assert data["message"] == "api"
                    break
        for ws in on_a + on_b + [back]:
            await ws.close()

    run(scenario(), timeout=60)


def test_presence_sees_users_of_every_node(start_server, redis):
    a, b = two_nodes(start_server, redis)

    async def scenario():
        alice = await connect(ws_url(a, "/live", "alice@example.com"))
        await subscribe_ack(alice, "room.p")
        assert await recv(alice) == ("joined", {"channel": "room.p", "user": {"id": "alice@example.com", "identity": "alice@example.com"}})
        bob = await connect(ws_url(b, "/live", "42"))
        await subscribe_ack(bob, "room.p")
        for ws in (alice, bob):  # bob's join is heard on both nodes
            assert await recv(ws) == ("joined", {"channel": "room.p", "user": {"id": 42, "identity": "42"}})
        alice_b = await connect(ws_url(b, "/live", "alice@example.com"))
        await subscribe_ack(alice_b, "room.p")  # her second connection, on the other node: no second join
        assert await receive_until_quiet(bob, 0.4) == []
        await bob.send(json.dumps({"action": "presence", "data": {"channel": "room.p"}}))
        kind, data = await recv(bob)
        assert kind == "presence"
        assert sorted(data["users"], key=lambda u: str(u["id"])) == [
            {"id": 42, "identity": "42", "connections": 1},
            {"id": "alice@example.com", "identity": "alice@example.com", "connections": 2}]
        await alice.close()
        assert await receive_until_quiet(bob, 0.4) == []  # still on node B
        await alice_b.close()
        assert await recv(bob) == ("left", {"channel": "room.p", "user": {"id": "alice@example.com", "identity": "alice@example.com"}})
        await bob.close()

    run(scenario(), timeout=60)


def test_recovery_across_nodes_under_concurrent_publishing_loses_and_repeats_nothing(start_server, redis):
    a, b = two_nodes(start_server, redis)

    async def scenario():
        publishers = [await connect(ws_url(n, "/live", f"p{i}")) for n in (a, b) for i in range(2)]
        seed = await connect(ws_url(a, "/live", "seed"))
        first = await subscribe_ack(seed, "feed.all")
        stop = asyncio.Event()

        async def pump(ws):
            i = 0
            while not stop.is_set():
                await ws.send(json.dumps({"action": "publish", "data": {"channel": "feed.all", "message": i}}))
                i += 1
                await asyncio.sleep(0.002)

        tasks = [asyncio.create_task(pump(p)) for p in publishers]
        await asyncio.sleep(0.1)
        readers = []
        for k in range(6):
            ws = await connect(ws_url(a if k % 2 else b, "/live", f"r{k}"))
            ack = await subscribe_ack(ws, "feed.all", since={"offset": 0, "epoch": first["epoch"]})
            assert ack["recovered"] is True, ack
            readers.append(ws)
            await asyncio.sleep(0.02)
        stop.set()
        await asyncio.gather(*tasks)
        await asyncio.sleep(0.3)
        status, _ = await asyncio.to_thread(publish_api, a, {"route": "/live", "channel": "feed.all", "data": "end"})
        assert status == 202
        for ws in readers:
            offsets = []
            while True:
                kind, data = await recv(ws, timeout=10)
                if kind != "message":
                    continue
                offsets.append(data["offset"])
                if data["message"] == "end":
                    break
            assert offsets == list(range(1, offsets[-1] + 1))
        for ws in publishers + [seed] + readers:
            await ws.close()

    run(scenario(), timeout=90)
