"""Mercure-compatible publishing (SPEC section 4, [mercure] in section 9) against the real
binary on two loops. First Symfony's own Mercure component (Debian's php-symfony-mercure, run
by php-cli through tests/php/mercure_publish.php) publishes to Capstan as to a Mercure hub, and
python3-websockets subscribers of the channel named like the topic receive the data string; then
raw form posts with urllib check topics, ids, selectors and every refusal. Publisher JWTs are
made by python3-jwt (HS256)."""
import asyncio
import json
import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import jwt

import tlsenv
from helpers import connect, receive_until_quiet, run

SECRET = "mercure-test-auth-secret-0123456789abcdef"
MERCURE_KEY = "mercure-publisher-key-0123456789abcdef!"
HUB_PATH = "/.well-known/mercure"
PHP_SCRIPT = Path(__file__).resolve().parents[1] / "php" / "mercure_publish.php"
MERCURE_AUTOLOAD = Path("/usr/share/php/Symfony/Component/Mercure/Hub.php")
HTTP_CLIENT = Path("/usr/share/php/Symfony/Component/HttpClient/HttpClient.php")
UUID_RE = re.compile(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

CONFIG = f"""
[server]
threads = 2
[auth]
algorithms = ["HS256"]
secret = "{SECRET}"
[mercure]
path = "{HUB_PATH}"
publisher_jwt_key = "{MERCURE_KEY}"
[[routes]]
path = "/live"
component = "pubsub"
[[routes]]
path = "/feed"
component = "pubsub"
[[routes]]
path = "/open"
component = "notify"
auth = false
"""

BOOK1 = "https://example.com/books/1"
BOOK2 = "https://example.com/books/2"
DUNGLAS = "https://example.com/users/dunglas"


def publisher_jwt(publish=("*",), key=MERCURE_KEY, alg="HS256", **claims):
    payload = {"mercure": {"publish": list(publish)}} if publish is not None else {}
    payload.update(claims)
    return jwt.encode(payload, key, algorithm=alg)


def user_token(username):
    return jwt.encode({"username": username, "exp": int(time.time()) + 600}, SECRET, algorithm="HS256")


def ws_url(server, path="/live", user="reader@example.com"):
    return f"{server.url('')}{path}?token={user_token(user)}"


def hub_url(server):
    return f"{server.http_url('')}{HUB_PATH}"


def form_post(server, fields, token=None, content_type="application/x-www-form-urlencoded", raw=None, method="POST"):
    """(status, headers, body text) of one POST to the hub; `fields` a list of (name, value)."""
    data = raw if raw is not None else urllib.parse.urlencode(fields).encode()
    headers = {"Content-Type": content_type} if content_type else {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(hub_url(server), data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode("utf-8", "replace")


def post_without_content_type(server, raw, token):
    conn = server.http_connection(timeout=5)
    try:
        conn.request("POST", HUB_PATH, body=raw, headers={"Authorization": f"Bearer {token}"})
        r = conn.getresponse()
        return r.status, r.read().decode("utf-8", "replace")
    finally:
        conn.close()


async def apost(server, fields, **kw):
    return await asyncio.to_thread(form_post, server, fields, **kw)


async def subscribe(ws, channel):
    await ws.send(json.dumps({"action": "subscribe", "data": {"channel": channel}}))
    m = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert m["action"] == "subscribed", m


async def expect_update(ws, channel, data):
    """What a subscriber gets for a Mercure update: the data STRING as the channel's message."""
    m = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert m["action"] == "message", m
    assert json.loads(m["data"]) == {"channel": channel, "message": data}, m


async def subscribers(server, channel, count, path="/live"):
    clients = [await connect(ws_url(server, path, f"u{i}@example.com")) for i in range(count)]
    for ws in clients:
        await subscribe(ws, channel)
    return clients


async def quiet(clients, seconds=0.3):
    """No client receives anything for `seconds` (all listened to at once)."""
    got = await asyncio.gather(*(receive_until_quiet(ws, seconds) for ws in clients))
    assert got == [[]] * len(clients), got


async def close_all(clients):
    await asyncio.gather(*(ws.close() for ws in clients))


# ---- Symfony's Mercure component ----------------------------------------------------------

def php_publish(server, update, token=None, timeout=20):
    """Runs tests/php/mercure_publish.php; returns the id it printed. Fails (never skips) when
    php-cli or the Symfony packages are missing."""
    php = shutil.which("php")
    assert php, "php-cli is not installed (apt-get install php-cli php-symfony-mercure php-symfony-http-client)"
    assert MERCURE_AUTOLOAD.is_file(), f"{MERCURE_AUTOLOAD} missing: apt-get install php-symfony-mercure"
    assert HTTP_CLIENT.is_file(), f"{HTTP_CLIENT} missing: apt-get install php-symfony-http-client"
    assert PHP_SCRIPT.is_file(), f"{PHP_SCRIPT} missing"
    env = dict(os.environ, MERCURE_JWT=token or publisher_jwt())
    done = subprocess.run([php, *tlsenv.php_args(), str(PHP_SCRIPT), hub_url(server), json.dumps(update)], capture_output=True,
                          text=True, timeout=timeout, env=env)
    assert done.returncode == 0, f"mercure_publish.php exited {done.returncode}:\n{done.stderr}{done.stdout}"
    return done.stdout


def test_symfony_mercure_hub_publishes_to_channel_subscribers_on_every_pubsub_route(start_server):
    server = start_server(CONFIG)
    assert server.loops == 2

    async def scenario():
        books = await subscribers(server, BOOK1, 12)           # 12 on /live, on both loops
        feed = await subscribers(server, BOOK1, 4, "/feed")    # the same channel on another pubsub route
        users = await subscribers(server, DUNGLAS, 2)
        other = await subscribers(server, BOOK2, 2)
        data = json.dumps({"@id": "/books/1", "status": "OutOfStock", "note": "a+b=c & 100% é\nnext line"})
        printed = await asyncio.to_thread(php_publish, server, {"topics": [BOOK1, DUNGLAS], "data": data,
                                                                "id": "urn:test:php-1", "type": "book.updated",
                                                                "retry": 1000})
        assert printed == "urn:test:php-1"
        for ws in books + feed:
            await expect_update(ws, BOOK1, data)
        for ws in users:
            await expect_update(ws, DUNGLAS, data)
        await quiet(books + feed + users + other)

        # No id: the hub generates one, which Symfony returns as the hub's answer.
        printed = await asyncio.to_thread(php_publish, server, {"topics": BOOK2, "data": "plain text"})
        assert UUID_RE.fullmatch(printed), printed
        for ws in other:
            await expect_update(ws, BOOK2, "plain text")
        await quiet(books + feed + users + other)
        await close_all(books + feed + users + other)

    run(scenario(), timeout=60)


def test_symfony_mercure_hub_surfaces_a_refusal(start_server):
    """With a JWT that may not publish to the topic, Symfony's Hub throws (the hub answered an
    error status) and nothing is delivered."""
    server = start_server(CONFIG)

    async def scenario():
        clients = await subscribers(server, BOOK2, 2)
        php = shutil.which("php")
        assert php, "php-cli is not installed"
        env = dict(os.environ, MERCURE_JWT=publisher_jwt([BOOK1]))
        done = await asyncio.to_thread(subprocess.run, [php, *tlsenv.php_args(), str(PHP_SCRIPT), hub_url(server),
                                                        json.dumps({"topics": [BOOK2], "data": "x"})],
                                       capture_output=True, text=True, timeout=20, env=env)
        assert done.returncode == 1, (done.stdout, done.stderr)
        assert "403" in done.stderr, done.stderr
        await quiet(clients)
        await close_all(clients)

    run(scenario(), timeout=60)


# ---- raw form posts -------------------------------------------------------------------------

def test_multiple_topics_and_a_generated_id(start_server):
    server = start_server(CONFIG)

    async def scenario():
        a = await subscribers(server, BOOK1, 3)
        b = await subscribers(server, DUNGLAS, 3, "/feed")
        c = await subscribers(server, BOOK2, 2)
        status, headers, body = await apost(server, [("topic", BOOK1), ("topic", DUNGLAS), ("data", "two topics")],
                                            token=publisher_jwt())
        assert status == 200, body
        assert headers.get_content_type() == "text/plain", dict(headers)
        assert UUID_RE.fullmatch(body), body
        for ws in a:
            await expect_update(ws, BOOK1, "two topics")
        for ws in b:
            await expect_update(ws, DUNGLAS, "two topics")
        await quiet(a + b + c)
        # Another update, another id; a given id is answered as given.
        status, _, body2 = await apost(server, [("topic", BOOK2), ("data", "")], token=publisher_jwt())
        assert status == 200 and UUID_RE.fullmatch(body2) and body2 != body, (body, body2)
        for ws in c:
            await expect_update(ws, BOOK2, "")
        status, _, body3 = await apost(server, [("topic", BOOK2), ("data", "d"), ("id", "my-id-42"),
                                                ("type", "t"), ("retry", "5")], token=publisher_jwt())
        assert (status, body3) == (200, "my-id-42")
        for ws in c:
            await expect_update(ws, BOOK2, "d")
        await quiet(a + b + c)
        await close_all(a + b + c)

    run(scenario())


def test_form_encoding_is_decoded_exactly(start_server):
    server = start_server(CONFIG)

    async def scenario():
        clients = await subscribers(server, BOOK1, 2)
        data = 'a+b=c&d %25 100% "quoted" é ü 日本\nline two\r\nthree'
        status, _, _ = await apost(server, [("topic", BOOK1), ("data", data)], token=publisher_jwt())
        assert status == 200
        for ws in clients:
            await expect_update(ws, BOOK1, data)
        # A body written by hand: '+' is a space, %XX a byte.
        raw = b"topic=" + urllib.parse.quote(BOOK1, safe="").encode() + b"&data=hello+world%21%20%C3%A9"
        status, _, _ = await apost(server, None, token=publisher_jwt(), raw=raw)
        assert status == 200
        for ws in clients:
            await expect_update(ws, BOOK1, "hello world! é")
        await close_all(clients)

    run(scenario())


def test_selectors_exact_template_and_refused_topics(start_server):
    server = start_server(CONFIG)
    template = "https://example.com/books/{id}"

    async def scenario():
        b1 = await subscribers(server, BOOK1, 2)
        b7 = await subscribers(server, "https://example.com/books/7", 2)
        u7 = await subscribers(server, "https://example.com/users/7", 2)
        deep = await subscribers(server, "https://example.com/books/7/reviews", 2)
        everyone = b1 + b7 + u7 + deep

        exact = publisher_jwt([BOOK1])
        status, _, body = await apost(server, [("topic", BOOK1), ("data", "exact")], token=exact)
        assert status == 200, body
        for ws in b1:
            await expect_update(ws, BOOK1, "exact")
        status, _, body = await apost(server, [("topic", BOOK2), ("data", "no")], token=exact)
        assert status == 403, body

        tmpl = publisher_jwt([template])
        status, _, body = await apost(server, [("topic", "https://example.com/books/7"), ("data", "tmpl")], token=tmpl)
        assert status == 200, body
        for ws in b7:
            await expect_update(ws, "https://example.com/books/7", "tmpl")
        for refused in ("https://example.com/users/7", "https://example.com/books/7/reviews",
                        "https://example.com/books/", "https://other.example/books/7"):
            status, _, body = await apost(server, [("topic", refused), ("data", "no")], token=tmpl)
            assert status == 403, (refused, status, body)

        # One refused topic refuses the whole update: nothing reaches the allowed one either.
        status, _, body = await apost(server, [("topic", BOOK1), ("topic", "https://example.com/users/7"),
                                               ("data", "mixed")], token=exact)
        assert status == 403, body

        # Several selectors: any one may allow a topic.
        both = publisher_jwt([BOOK1, "https://example.com/users/{name}"])
        status, _, body = await apost(server, [("topic", BOOK1), ("topic", "https://example.com/users/7"),
                                               ("data", "both")], token=both)
        assert status == 200, body
        for ws in b1:
            await expect_update(ws, BOOK1, "both")
        for ws in u7:
            await expect_update(ws, "https://example.com/users/7", "both")
        await quiet(everyone)
        await close_all(everyone)

    run(scenario())


def test_missing_or_bad_jwt_is_401_and_no_publish_claim_is_403(start_server):
    server = start_server(CONFIG)
    fields = [("topic", BOOK1), ("data", "x")]

    async def scenario():
        clients = await subscribers(server, BOOK1, 2)
        now = int(time.time())
        unauthorized = {
            "no Authorization": None,
            "not a JWT": "not-a-jwt",
            "wrong key": publisher_jwt(key="some-other-key-0123456789abcdef0123"),
            "wrong algorithm": publisher_jwt(alg="HS512"),
            "alg none": jwt.encode({"mercure": {"publish": ["*"]}}, None, algorithm="none"),
            "expired": publisher_jwt(exp=now - 3600),
            "tampered": publisher_jwt()[:-2] + ("AA" if not publisher_jwt().endswith("AA") else "BB"),
        }
        for name, tok in unauthorized.items():
            status, _, body = await apost(server, fields, token=tok)
            assert status == 401, (name, status, body)
        forbidden = {
            "no mercure claim": publisher_jwt(publish=None),
            "subscribe only": jwt.encode({"mercure": {"subscribe": ["*"]}}, MERCURE_KEY, algorithm="HS256"),
            "empty publish": publisher_jwt(publish=[]),
        }
        for name, tok in forbidden.items():
            status, _, body = await apost(server, fields, token=tok)
            assert status == 403, (name, status, body)
        await quiet(clients)
        # Still serving: the next good update arrives.
        status, _, _ = await apost(server, [("topic", BOOK1), ("data", "after")], token=publisher_jwt())
        assert status == 200
        for ws in clients:
            await expect_update(ws, BOOK1, "after")
        await close_all(clients)

    run(scenario())


def test_wrong_content_type_is_415_and_missing_topic_is_400(start_server):
    server = start_server(CONFIG)
    tok = publisher_jwt()

    async def scenario():
        clients = await subscribers(server, BOOK1, 2)
        status, _, body = await apost(server, None, token=tok, content_type="application/json",
                                      raw=json.dumps({"topic": BOOK1, "data": "x"}).encode())
        assert status == 415, body
        status, _, body = await apost(server, None, token=tok, content_type="text/plain",
                                      raw=f"topic={BOOK1}&data=x".encode())
        assert status == 415, body
        # No Content-Type at all (http.client: urllib would add a form-encoded one).
        status, body = await asyncio.to_thread(post_without_content_type, server, f"topic={BOOK1}&data=x".encode(), tok)
        assert status == 415, body
        # A charset parameter is still form encoding.
        status, _, body = await apost(server, [("topic", BOOK1), ("data", "charset")], token=tok,
                                      content_type="application/x-www-form-urlencoded; charset=UTF-8")
        assert status == 200, body
        for ws in clients:
            await expect_update(ws, BOOK1, "charset")
        for fields in ([("data", "no topic")], [], [("topics", BOOK1), ("data", "x")]):
            status, _, body = await apost(server, fields, token=tok)
            assert status == 400, (fields, status, body)
        await quiet(clients)
        await close_all(clients)

    run(scenario())


def test_a_topic_that_cannot_be_a_channel_is_refused_not_silently_dropped(start_server):
    """A topic is a channel, and channel names are 1..255 printable ASCII bytes without spaces
    (SPEC 4). An update whose topic can be no channel reaches no one; answering 200 with an id
    would tell the publisher it was published. The publish API answers such a channel with 400;
    so should the hub, before delivering anything."""
    server = start_server(CONFIG)
    tok = publisher_jwt()

    async def scenario():
        clients = await subscribers(server, BOOK1, 2)
        # The longest name that fits is fine.
        longest = "x" * 255
        fits = await subscribers(server, longest, 1)
        status, _, body = await apost(server, [("topic", longest), ("data", "fits")], token=tok)
        assert status == 200, body
        await expect_update(fits[0], longest, "fits")
        for topic in ("", "has space", "x" * 256, "https://example.com/caf\u00e9", "a\tb"):
            status, _, body = await apost(server, [("topic", topic), ("data", "lost")], token=tok)
            assert status == 400, (topic[:40], status, body)
        status, _, body = await apost(server, [("topic", BOOK1), ("topic", "has space"), ("data", "half")], token=tok)
        assert status == 400, (status, body)
        await quiet(clients)
        await close_all(clients + fits)

    run(scenario())


def test_the_body_limit_applies_to_the_hub(start_server):
    server = start_server(CONFIG + '[publish]\nmax_body = "2KiB"\n')
    tok = publisher_jwt()
    status, _, body = form_post(server, [("topic", BOOK1), ("data", "z" * 1500)], token=tok)
    assert status == 200, body
    status, _, body = form_post(server, [("topic", BOOK1), ("data", "z" * 4096)], token=tok)
    assert status == 413, body


def test_no_mercure_endpoint_without_a_path(start_server):
    server = start_server(CONFIG.replace(f'path = "{HUB_PATH}"\n', 'path = ""\n'))
    status, _, _ = form_post(server, [("topic", BOOK1), ("data", "x")], token=publisher_jwt())
    assert status == 404


def test_a_private_update_goes_only_where_channels_are_authorized_by_name(start_server):
    """Mercure's private updates reach only subscribers authorized for the topic. On a route
    where any connection may subscribe to anything there is no such subscriber: the update is
    refused there (and 400 when no route could keep it private); a route with channels_claim
    delivers it to the connections whose JWT lists the channel."""
    open_only = start_server(CONFIG)
    tok = publisher_jwt()

    async def refused():
        clients = await subscribers(open_only, BOOK1, 2)
        status, _, body = await apost(open_only, [("topic", BOOK1), ("data", "secret"), ("private", "on")], token=tok)
        assert status == 400 and "private" in body, (status, body)
        await quiet(clients)
        await close_all(clients)

    run(refused())

    guarded = start_server(CONFIG.replace('path = "/feed"\ncomponent = "pubsub"',
                                          'path = "/feed"\ncomponent = "pubsub"\nchannels_claim = "channels"'))

    async def delivered():
        allowed_token = jwt.encode({"username": "a@example.com", "channels": ["https://example.com/books/*"],
                                    "exp": int(time.time()) + 600}, SECRET, algorithm="HS256")
        allowed = await connect(f"{guarded.url('')}/feed?token={allowed_token}")
        await subscribe(allowed, BOOK1)
        anyone = await subscribers(guarded, BOOK1, 1, path="/live")
        status, _, body = await apost(guarded, [("topic", BOOK1), ("data", "secret"), ("private", "on")], token=tok)
        assert status == 200, body
        await expect_update(allowed, BOOK1, "secret")
        await quiet(anyone)  # the open route does not get it
        await close_all([allowed] + anyone)

    run(delivered())


def test_malformed_escapes_and_retry_are_400(start_server):
    server = start_server(CONFIG)
    tok = publisher_jwt()

    async def scenario():
        clients = await subscribers(server, BOOK1, 1)
        for raw in (f"topic={BOOK1}&data=%ZZ".encode(), f"topic={BOOK1}&data=%4".encode(),
                    f"topic={BOOK1}&data=x&retry=abc".encode()):
            status, _, body = await apost(server, None, token=tok, raw=raw)
            assert status == 400, (raw, status, body)
        status, _, body = await apost(server, [("topic", BOOK1), ("data", "ok"), ("retry", "3000")], token=tok)
        assert status == 200, body
        await expect_update(clients[0], BOOK1, "ok")
        await close_all(clients)

    run(scenario())
