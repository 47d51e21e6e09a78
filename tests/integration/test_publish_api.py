"""POST /publish (SPEC section 4, [publish] in section 9) against the real binary on two loops:
a backend notifies everyone on a notify route, given users (ids or identities), or a pubsub
channel, one publication or a batch, over keep-alive connections; every refusal (401, 400, 405,
413) is a clear JSON answer that leaves the server serving WebSocket clients; the key may come
from CAPSTAN_PUBLISH_KEY; without a key there is no /publish at all. Clients are
python3-websockets and the standard library's urllib / http.client; tokens are python3-jwt."""
import asyncio
import json
import time
import urllib.error
import urllib.request

import jwt

from helpers import connect, receive_until_quiet, run
from rawws import open_socket

SECRET = "publish-api-test-secret-0123456789abcdef"
KEY = "pk-0123456789"


def config(publish=f'api_key = "{KEY}"\n', server="threads = 2\n", routes=None):
    text = f"""
[server]
{server}
[auth]
algorithms = ["HS256"]
secret = "{SECRET}"
"""
    if publish is not None:
        text += "[publish]\n" + publish
    for r in routes if routes is not None else [route("/open", "notify", auth=False),
                                                 route("/notifications", "notify"),
                                                 route("/live", "pubsub")]:
        text += r
    return text


def route(path, component, **keys):
    lines = ["[[routes]]", f'path = "{path}"', f'component = "{component}"']
    lines += [f"{k} = {json.dumps(v)}" for k, v in keys.items()]
    return "\n".join(lines) + "\n"


def token(username):
    return jwt.encode({"username": username, "exp": int(time.time()) + 600}, SECRET, algorithm="HS256")


def ws_url(server, path, user=None):
    base = f"{server.url('')}{path}"
    return base if user is None else f"{base}?token={token(user)}"


def post(server, body, key=KEY, method="POST", path="/publish", headers=None, raw=None):
    """(status, headers, parsed JSON or raw text) of one request to the publish endpoint."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    h = {"Content-Type": "application/json"}
    if key is not None:
        h["Authorization"] = f"Bearer {key}"
    h.update(headers or {})
    req = urllib.request.Request(f"{server.http_url('')}{path}", data=data, headers=h, method=method)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            status, hdrs, text = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        status, hdrs, text = e.code, e.headers, e.read()
    try:
        return status, hdrs, json.loads(text)
    except ValueError:
        return status, hdrs, text.decode("utf-8", "replace")


async def apost(server, body, **kw):
    return await asyncio.to_thread(post, server, body, **kw)


async def recv_json(ws, timeout=5):
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def expect_notify(ws, action, data):
    """A notify delivery: {"action": ACTION, "data": "<data as a JSON string>"}."""
    m = await recv_json(ws)
    assert set(m) == {"action", "data"}, m
    assert m["action"] == action, m
    assert isinstance(m["data"], str), m  # data_as_string defaults to true
    assert json.loads(m["data"]) == data, m


async def subscribe(ws, channel):
    await ws.send(json.dumps({"action": "subscribe", "data": {"channel": channel}}))
    m = await recv_json(ws)
    assert m["action"] == "subscribed", m


async def expect_channel_message(ws, channel, message):
    m = await recv_json(ws)
    assert m["action"] == "message", m
    assert json.loads(m["data"]) == {"channel": channel, "message": message}, m


async def quiet(clients, seconds=0.3):
    """No client receives anything for `seconds` (all listened to at once)."""
    got = await asyncio.gather(*(receive_until_quiet(ws, seconds) for ws in clients))
    assert got == [[]] * len(clients), got


async def close_all(clients):
    await asyncio.gather(*(ws.close() for ws in clients))


# ---- who receives what --------------------------------------------------------------------

def test_everyone_on_a_notify_route_on_both_loops_and_the_count(start_server):
    server = start_server(config())
    assert server.loops == 2

    async def scenario():
        # 16 clients: all on one loop has a chance of 2**-15.
        clients = [await connect(ws_url(server, "/open")) for _ in range(16)]
        elsewhere = await connect(ws_url(server, "/notifications", "alice@example.com"))
        status, _, body = await apost(server, {"route": "/open", "action": "news", "data": {"text": "hello", "n": [1, 2]}})
        assert (status, body) == (202, {"delivered": 16})
        for ws in clients:
            await expect_notify(ws, "news", {"text": "hello", "n": [1, 2]})
        assert await receive_until_quiet(elsewhere, 0.3) == []  # another route hears nothing
        # Once more, after one client left: the count follows.
        await clients.pop().close()
        assert await asyncio.to_thread(server.wait_tcp_connections, len(clients) + 1)
        status, _, body = await apost(server, {"route": "/open", "action": "again", "data": "plain string"})
        assert (status, body) == (202, {"delivered": 15})
        for ws in clients:
            await expect_notify(ws, "again", "plain string")
        await close_all(clients + [elsewhere])

    run(scenario())


def test_route_may_be_given_with_or_without_the_server_prefix(start_server):
    server = start_server(config(server='threads = 2\nprefix = "/ws"\n'))

    async def scenario():
        ws = await connect(ws_url(server, "/ws/open"))
        for name in ("/open", "/ws/open"):
            status, _, body = await apost(server, {"route": name, "action": "hi", "data": name})
            assert (status, body) == (202, {"delivered": 1}), name
            await expect_notify(ws, "hi", name)
        await ws.close()

    run(scenario())


def test_users_by_id_and_identity_only_they_receive_on_every_connection(start_server):
    server = start_server(config())

    async def scenario():
        # Without a users provider, a numeric `username` is the connection's user id.
        alice = [await connect(ws_url(server, "/notifications", "alice@example.com")) for _ in range(2)]
        one = await connect(ws_url(server, "/notifications", "1"))
        two = [await connect(ws_url(server, "/notifications", "2")) for _ in range(2)]
        others = [await connect(ws_url(server, "/notifications", u)) for u in ("bob@example.com", "3", "12", "21")]
        for _ in range(4):  # padding, so that the users sit on both loops more often than not
            others.append(await connect(ws_url(server, "/notifications", "carol@example.com")))

        status, _, body = await apost(server, {"route": "/notifications", "action": "alert", "data": {"level": 1},
                                               "users": ["1", "alice@example.com", 2]})
        assert (status, body) == (202, {"delivered": 5})
        for ws in alice + [one] + two:
            await expect_notify(ws, "alert", {"level": 1})
        await quiet(others)

        # A numeric id alone; an identity alone.
        status, _, body = await apost(server, {"route": "/notifications", "action": "only2", "data": 2, "users": [2]})
        assert (status, body) == (202, {"delivered": 2})
        for ws in two:
            await expect_notify(ws, "only2", 2)
        status, _, body = await apost(server, {"route": "/notifications", "action": "onlyb", "data": None,
                                               "users": ["bob@example.com"]})
        assert (status, body) == (202, {"delivered": 1})
        await expect_notify(others[0], "onlyb", None)
        # A user nobody is connected as: accepted, delivered to no one.
        status, _, body = await apost(server, {"route": "/notifications", "action": "x", "data": 1, "users": ["nobody@example.com", 999]})
        assert (status, body) == (202, {"delivered": 0})
        await quiet(alice + [one] + two + others)
        await close_all(alice + [one] + two + others)

    run(scenario())


def test_a_pubsub_channel_reaches_its_subscribers_only(start_server):
    server = start_server(config())

    async def scenario():
        clients = [await connect(ws_url(server, "/live", f"u{i}")) for i in range(16)]
        for ws in clients[:10]:
            await subscribe(ws, "orders.42")
        for ws in clients[10:13]:
            await subscribe(ws, "orders.43")
        status, _, body = await apost(server, {"route": "/live", "channel": "orders.42", "data": {"state": "shipped"}})
        assert (status, body) == (202, {"delivered": 10})
        for ws in clients[:10]:
            await expect_channel_message(ws, "orders.42", {"state": "shipped"})
        await quiet(clients[10:])
        # A channel nobody has subscribed to.
        status, _, body = await apost(server, {"route": "/live", "channel": "empty", "data": 1})
        assert (status, body) == (202, {"delivered": 0})
        await close_all(clients)

    run(scenario())


def test_a_batch_delivers_every_publication_and_sums_the_count(start_server):
    server = start_server(config())

    async def scenario():
        open_clients = [await connect(ws_url(server, "/open")) for _ in range(6)]
        alice = await connect(ws_url(server, "/notifications", "alice@example.com"))
        seven = await connect(ws_url(server, "/notifications", "7"))
        subs = [await connect(ws_url(server, "/live", f"s{i}")) for i in range(4)]
        for ws in subs:
            await subscribe(ws, "news")
        batch = [
            {"route": "/open", "action": "first", "data": 1},
            {"route": "/notifications", "action": "dm", "data": {"to": "alice"}, "users": ["alice@example.com", 7]},
            {"route": "/live", "channel": "news", "data": "breaking"},
            {"route": "/open", "action": "second", "data": 2},
        ]
        status, _, body = await apost(server, batch)
        assert (status, body) == (202, {"delivered": 6 + 2 + 4 + 6})
        for ws in open_clients:  # in the batch's order
            await expect_notify(ws, "first", 1)
            await expect_notify(ws, "second", 2)
        for ws in (alice, seven):
            await expect_notify(ws, "dm", {"to": "alice"})
        for ws in subs:
            await expect_channel_message(ws, "news", "breaking")
        everyone = open_clients + [alice, seven] + subs
        await quiet(everyone)
        # An empty batch delivers nothing (the SPEC leaves open whether it is refused).
        status, _, body = await apost(server, [])
        assert (status, body) == (202, {"delivered": 0}) or (status == 400 and body["error"]), (status, body)
        await close_all(everyone)

    run(scenario())


def test_keep_alive_several_publishes_on_one_connection(start_server):
    server = start_server(config())

    async def scenario():
        ws = await connect(ws_url(server, "/open"))

        def publish_twice():
            conn = server.http_connection(timeout=5)
            answers = []
            try:
                sock = None
                for i in range(3):
                    body = json.dumps({"route": "/open", "action": "ka", "data": i})
                    conn.request("POST", "/publish", body=body,
                                 headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"})
                    r = conn.getresponse()
                    answers.append((r.status, json.loads(r.read()), r.getheader("Connection", "")))
                    assert conn.sock is not None, "the server closed the connection after request %d" % i
                    if sock is None:
                        sock = conn.sock
                    assert conn.sock is sock, "http.client had to reconnect"
            finally:
                conn.close()
            return answers

        answers = await asyncio.to_thread(publish_twice)
        assert [(s, b) for s, b, _ in answers] == [(202, {"delivered": 1})] * 3
        assert all(c.lower() != "close" for _, _, c in answers), answers
        for i in range(3):
            await expect_notify(ws, "ka", i)
        await ws.close()

    run(scenario())


# ---- refusals -------------------------------------------------------------------------------

def test_missing_or_wrong_key_is_401_with_www_authenticate(start_server):
    server = start_server(config())

    async def scenario():
        ws = await connect(ws_url(server, "/open"))
        body = {"route": "/open", "action": "x", "data": 1}
        for key, extra in ((None, None), ("wrong", None), (KEY + "x", None), ("", None),
                           (None, {"Authorization": f"Basic {KEY}"}), (None, {"Authorization": KEY})):
            status, headers, answer = await apost(server, body, key=key, headers=extra)
            assert status == 401, (key, extra, status, answer)
            assert isinstance(answer, dict) and isinstance(answer.get("error"), str) and answer["error"], answer
            assert (headers.get("WWW-Authenticate") or "").startswith("Bearer"), dict(headers)
        assert await receive_until_quiet(ws, 0.3) == []  # nothing was delivered
        await ws.close()

    run(scenario())


BAD_BODIES = [
    ("not json", b"this is not json", None),
    ("truncated json", b'{"route": "/open", "data":', None),
    ("a number", b"42", None),
    ("missing route", None, {"action": "x", "data": 1}),
    ("missing data", None, {"route": "/open", "action": "x"}),
    ("route not a string", None, {"route": 5, "action": "x", "data": 1}),
    ("unknown route", None, {"route": "/nowhere", "action": "x", "data": 1}),
    ("users and channel", None, {"route": "/live", "channel": "news", "users": [1], "data": 1}),
    ("empty users", None, {"route": "/notifications", "action": "x", "data": 1, "users": []}),
    ("users not a list", None, {"route": "/notifications", "action": "x", "data": 1, "users": "alice@example.com"}),
    ("users of objects", None, {"route": "/notifications", "action": "x", "data": 1, "users": [{"id": 1}]}),
    ("users of booleans", None, {"route": "/notifications", "action": "x", "data": 1, "users": [True]}),
    ("users of null", None, {"route": "/notifications", "action": "x", "data": 1, "users": [None]}),
    ("channel on notify", None, {"route": "/notifications", "action": "x", "data": 1, "channel": "news"}),
    ("pubsub without channel", None, {"route": "/live", "data": 1}),
    ("bad channel name", None, {"route": "/live", "channel": "has space", "data": 1}),
]


def test_bad_bodies_are_400_with_an_error_and_deliver_nothing(start_server):
    server = start_server(config())

    async def scenario():
        watchers = [await connect(ws_url(server, "/open")),
                    await connect(ws_url(server, "/notifications", "alice@example.com")),
                    await connect(ws_url(server, "/notifications", "1"))]
        sub = await connect(ws_url(server, "/live", "s"))
        await subscribe(sub, "news")
        watchers.append(sub)
        for name, raw, body in BAD_BODIES:
            status, _, answer = await apost(server, body, raw=raw)
            assert status == 400, (name, status, answer)
            assert isinstance(answer, dict) and isinstance(answer.get("error"), str) and answer["error"], (name, answer)
            assert answer.get("delivered", 0) == 0, (name, answer)
        await quiet(watchers)
        # The 400s named what was wrong.
        _, _, answer = await apost(server, {"route": "/nowhere", "action": "x", "data": 1})
        assert "/nowhere" in answer["error"] or "route" in answer["error"], answer
        await close_all(watchers)

    run(scenario())


def test_a_batch_fault_names_the_entry(start_server):
    server = start_server(config())

    async def scenario():
        ws = await connect(ws_url(server, "/open"))
        batch = [{"route": "/open", "action": "ok", "data": 1},
                 {"route": "/open", "action": "bad"},            # no data
                 {"route": "/open", "action": "ok2", "data": 2}]
        status, _, answer = await apost(server, batch)
        assert status == 400, answer
        assert answer["error"].startswith("publications[1]."), answer
        # Whatever was delivered before the fault is what the answer says (0 if it says nothing).
        got = await receive_until_quiet(ws, 0.3)
        assert len(got) == answer.get("delivered", 0), (answer, got)
        status, _, answer = await apost(server, [{"route": "/open", "action": "ok", "data": 1}, "not an object"])
        assert status == 400 and answer["error"].startswith("publications[1]"), answer
        got = await receive_until_quiet(ws, 0.3)
        assert len(got) == answer.get("delivered", 0), (answer, got)
        status, _, answer = await apost(server, [{"route": "/nowhere", "action": "x", "data": 1}])
        assert status == 400 and answer["error"].startswith("publications[0]."), answer
        await ws.close()

    run(scenario())


def test_other_methods_are_405(start_server):
    server = start_server(config())
    for method in ("GET", "PUT", "DELETE", "PATCH"):
        body = None if method in ("GET", "DELETE") else {"route": "/open", "action": "x", "data": 1}
        status, _, answer = post(server, body, method=method)
        assert status == 405, (method, status, answer)


def test_413_by_size_and_by_batch_count_then_websocket_clients_are_still_served(start_server):
    server = start_server(config(publish=f'api_key = "{KEY}"\nmax_body = "2KiB"\nmax_batch = 3\n'))

    async def scenario():
        ws = await connect(ws_url(server, "/open"))
        # Just under and just over 2 KiB.
        def sized(n):
            base = {"route": "/open", "action": "big", "data": ""}
            pad = n - len(json.dumps(base).encode())
            base["data"] = "x" * pad
            raw = json.dumps(base).encode()
            assert len(raw) == n
            return raw
        status, _, answer = await apost(server, None, raw=sized(2048))
        assert (status, answer) == (202, {"delivered": 1})
        await expect_notify(ws, "big", "x" * (2048 - len(json.dumps({"route": "/open", "action": "big", "data": ""}))))
        status, _, answer = await apost(server, None, raw=sized(2049))
        assert status == 413, answer
        status, _, answer = await apost(server, None, raw=sized(64 * 1024))
        assert status == 413, answer
        # Three publications pass, four are refused whole.
        three = [{"route": "/open", "action": f"b{i}", "data": i} for i in range(3)]
        status, _, answer = await apost(server, three)
        assert (status, answer) == (202, {"delivered": 3})
        for i in range(3):
            await expect_notify(ws, f"b{i}", i)
        status, _, answer = await apost(server, three + [{"route": "/open", "action": "b3", "data": 3}])
        assert status == 413, answer
        assert isinstance(answer, dict) and "error" in answer, answer
        assert await receive_until_quiet(ws, 0.3) == []
        # Still serving: the old client gets a publication, a new one connects and gets one.
        status, _, answer = await apost(server, {"route": "/open", "action": "after", "data": 1})
        assert (status, answer) == (202, {"delivered": 1})
        await expect_notify(ws, "after", 1)
        fresh = await connect(ws_url(server, "/open"))
        status, _, answer = await apost(server, {"route": "/open", "action": "after2", "data": 2})
        assert (status, answer) == (202, {"delivered": 2})
        for c in (ws, fresh):
            await expect_notify(c, "after2", 2)
        await close_all([ws, fresh])

    run(scenario())


def test_default_max_body_is_one_mebibyte(start_server):
    server = start_server(config())
    base = {"route": "/open", "action": "big", "data": ""}
    overhead = len(json.dumps(base))
    ok = dict(base, data="y" * (1024 * 1024 - overhead))
    status, _, answer = post(server, ok)
    assert (status, answer) == (202, {"delivered": 0})
    # Over the limit: refused with 413 (read off a raw socket, so that a server that answers
    # before reading the whole body is judged on its answer, not on a reset while sending).
    raw = json.dumps(dict(base, data="y" * (1024 * 1024 + 1 - overhead))).encode()
    head = (f"POST /publish HTTP/1.1\r\nHost: {server.host}\r\nAuthorization: Bearer {KEY}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(raw)}\r\n\r\n").encode()
    with open_socket(server.host, server.port, timeout=5) as s:
        s.sendall(head)
        try:
            s.sendall(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass
        reply = b""
        try:
            while b"\r\n" not in reply:
                chunk = s.recv(4096)
                if not chunk:
                    break
                reply += chunk
        except ConnectionResetError:
            pass
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]


def test_every_refusal_leaves_websocket_clients_served(start_server, bystander_for):
    server = start_server(config(routes=[route("/open", "notify", auth=False), route("/live", "pubsub"),
                                         route("/echo", "echo")]))
    bystander = bystander_for(server)

    async def scenario():
        ws = await connect(ws_url(server, "/open"))
        refusals = [post(server, {"route": "/open", "data": 1}, key=None),
                    post(server, None, raw=b"{"),
                    post(server, None, method="GET"),
                    post(server, {"route": "/nowhere", "data": 1})]
        assert [s for s, _, _ in refusals] == [401, 400, 405, 400]
        status, _, answer = await apost(server, {"route": "/open", "action": "fine", "data": "still"})
        assert (status, answer) == (202, {"delivered": 1})
        await expect_notify(ws, "fine", "still")
        await ws.close()

    run(scenario())
    bystander.assert_echoes()


# ---- where the key comes from ------------------------------------------------------------

def test_the_key_may_come_from_capstan_publish_key(start_server, monkeypatch):
    # conftest's server_env() copies os.environ when the server starts.
    monkeypatch.setenv("CAPSTAN_PUBLISH_KEY", "from-the-environment")
    server = start_server(config(publish=None))

    async def scenario():
        ws = await connect(ws_url(server, "/open"))
        status, _, answer = await apost(server, {"route": "/open", "action": "env", "data": 1}, key="from-the-environment")
        assert (status, answer) == (202, {"delivered": 1})
        await expect_notify(ws, "env", 1)
        status, _, _ = await apost(server, {"route": "/open", "action": "env", "data": 1}, key=KEY)
        assert status == 401
        assert await receive_until_quiet(ws, 0.3) == []
        await ws.close()

    run(scenario())


def test_without_a_key_there_is_no_publish_endpoint(start_server, monkeypatch):
    monkeypatch.delenv("CAPSTAN_PUBLISH_KEY", raising=False)
    server = start_server(config(publish=None))

    async def scenario():
        ws = await connect(ws_url(server, "/open"))
        for key in (KEY, "", None):
            status, _, answer = await apost(server, {"route": "/open", "action": "x", "data": 1}, key=key)
            assert status == 404, (key, status, answer)
        status, _, _ = await apost(server, None, method="GET")
        assert status == 404
        assert await receive_until_quiet(ws, 0.3) == []
        await ws.close()

    run(scenario())


def test_an_empty_api_key_disables_the_endpoint(start_server, monkeypatch):
    monkeypatch.delenv("CAPSTAN_PUBLISH_KEY", raising=False)
    server = start_server(config(publish='api_key = ""\n'))
    status, _, answer = post(server, {"route": "/open", "action": "x", "data": 1}, key="")
    assert status == 404, (status, answer)


def test_expect_100_continue_is_answered_before_the_body(start_server):
    """curl sends `Expect: 100-continue` for bodies past 1 KiB and waits (a second) for the
    interim 100 before sending the body: the server answers it at once, then the request."""
    server = start_server(config())
    body = json.dumps({"route": "/open", "action": "note", "data": {"pad": "x" * 2000}}).encode()
    with open_socket(server.host, server.port, timeout=5) as s:
        s.sendall(b"POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Authorization: Bearer " + KEY.encode() + b"\r\nExpect: 100-continue\r\n"
                  b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n")
        interim = s.recv(4096)
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        s.sendall(body)
        final = s.recv(4096)
        assert final.startswith(b"HTTP/1.1 202 "), final
        assert b'{"delivered":0}' in final


def test_expect_100_continue_refused_without_the_body(start_server):
    """A request refused on its head (413 here) gets the refusal, not a 100."""
    server = start_server(config(publish=f'api_key = "{KEY}"\nmax_body = "1KiB"\n'))
    with open_socket(server.host, server.port, timeout=5) as s:
        s.sendall(b"POST /publish HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n")
        answer = s.recv(4096)
        assert answer.startswith(b"HTTP/1.1 413 "), answer
