"""The HTTP side: plain requests, refused upgrades with their exact status, origins,
subprotocols, the route prefix, and requests that arrive in pieces."""
import socket
import time

import pytest

from helpers import connect, echo_roundtrip, run
from conftest import plain_only
from rawws import (OP_TEXT, RawWS, accept_for, make_key, open_socket,
                   read_http_response, upgrade_request, wait_tcp_close)


def get(path, *headers, method="GET"):
    """A request that asks the server to close after answering, unless it names a Connection."""
    named = any(h.lower().startswith("connection:") for h in headers)
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *headers, *([] if named else ["Connection: close"])]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def exchange(server, request, expect_close=True):
    """Sends `request`; returns the response, after checking the server then closes TCP."""
    with open_socket(server.host, server.port) as s:
        s.sendall(request)
        resp, leftover = read_http_response(s)
        if expect_close:
            assert leftover + wait_tcp_close(s, 5) == b"", "bytes after the response"
        return resp


def test_healthz(server):
    resp = exchange(server, get("/healthz"))
    assert (resp.status, resp.body) == (200, b"ok\n")
    assert resp.headers["content-length"] == "3"


def test_healthz_head_has_no_body(server):
    """RFC 9110 §9.3.2: a response to HEAD carries the GET headers but MUST NOT carry content."""
    with open_socket(server.host, server.port) as s:
        s.sendall(get("/healthz", method="HEAD"))
        head = b""
        while b"\r\n\r\n" not in head:
            head += s.recv(4096)
        head, after = head.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 200 ")
        after += wait_tcp_close(s, 5)
        assert after == b"", f"HEAD response carries a body: {after!r}"


def test_unknown_path_404(server):
    assert exchange(server, get("/nope")).status == 404
    assert exchange(server, upgrade_request("/nope")).status == 404


def test_plain_get_on_websocket_route_426(server):
    resp = exchange(server, get("/echo"))
    assert resp.status == 426
    assert resp.headers.get("sec-websocket-version") == "13"


@pytest.mark.parametrize("garbage", [
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # a TLS ClientHello on the plain port
    b"GARBAGE\r\n\r\n",
    b"GET /echo\r\n\r\n",                               # no version
    b"GET /echo HTTP/1.1\r\nno colon here\r\n\r\n",
    b"GET /echo HTTP/1.1\r\nHost: x\x00y\r\n\r\n",      # NUL in a header
    b"GET echo HTTP/1.1\r\n\r\n",                       # target not a path
    b"GET /echo HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",
])
def test_malformed_request_400_and_close(server, garbage):
    resp = exchange(server, garbage)
    assert resp.status == 400


def test_http_2_version_505(server):
    assert exchange(server, b"GET /echo HTTP/2.0\r\nHost: x\r\n\r\n").status == 505


def test_huge_head_431(server):
    head = get("/echo", *(f"X-Filler-{i}: {'f' * 200}" for i in range(100)))  # ~21 KiB > 16 KiB
    assert len(head) > 16 * 1024
    assert exchange(server, head).status == 431


def test_too_many_headers_431(server):
    assert exchange(server, get("/echo", *(f"X-H{i}: v" for i in range(100)))).status == 431


def test_head_just_under_limit_upgrades(server):
    filler = [f"X-Filler-{i}: {'f' * 290}" for i in range(50)]  # ~15 KiB in under 64 headers
    req = upgrade_request(extra_headers=filler)
    assert 14 * 1024 < len(req) < 16 * 1024
    resp = exchange(server, req, expect_close=False)
    assert resp.status == 101


def test_max_header_size_is_configurable(start_server):
    server = start_server('[limits]\nmax_header_size = "1KiB"\n')
    assert exchange(server, get("/echo", f"X-Big: {'b' * 1100}")).status == 431
    assert exchange(server, upgrade_request(), expect_close=False).status == 101


@pytest.mark.parametrize("version", ["8", "12", "14", ""])
def test_unsupported_websocket_version_426(server, version):
    resp = exchange(server, upgrade_request(version=version))
    assert resp.status == 426
    assert resp.headers.get("sec-websocket-version") == "13"


@pytest.mark.parametrize("key", [
    "", "short", "AAAAAAAAAAAAAAAAAAAAAA",             # no padding
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",                 # 22 bytes, not 16
    "AAAAAAAAAAAAAAAAAAAA!A==",                         # not base64
])
def test_bad_websocket_key_400(server, key):
    lines = ["GET /echo HTTP/1.1", "Host: x", "Upgrade: websocket", "Connection: Upgrade",
             f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
    assert exchange(server, ("\r\n".join(lines) + "\r\n\r\n").encode()).status == 400


def test_upgrade_without_connection_upgrade_400(server):
    req = upgrade_request().replace(b"Connection: Upgrade", b"Connection: keep-alive")
    assert exchange(server, req).status == 400


def test_post_with_upgrade_405(server):
    req = upgrade_request().replace(b"GET ", b"POST ", 1)
    assert exchange(server, req).status == 405


def test_header_tokens_are_case_insensitive(server):
    req = (upgrade_request().replace(b"Upgrade: websocket", b"upgrade: WebSocket")
           .replace(b"Connection: Upgrade", b"connection: keep-alive, UPGRADE"))
    assert exchange(server, req, expect_close=False).status == 101


def test_accept_key_and_headers_of_101(server):
    key = make_key()
    with open_socket(server.host, server.port) as s:
        s.sendall(upgrade_request(key=key))
        resp, _ = read_http_response(s)
    assert (resp.status, resp.reason) == (101, "Switching Protocols")
    assert resp.headers["upgrade"].lower() == "websocket"
    assert resp.headers["connection"].lower() == "upgrade"
    assert resp.headers["sec-websocket-accept"] == accept_for(key)
    assert "sec-websocket-protocol" not in resp.headers
    # The example key of RFC 6455 §1.3, checked against the server.
    with open_socket(server.host, server.port) as s:
        s.sendall(upgrade_request(key="dGhlIHNhbXBsZSBub25jZQ=="))
        resp, _ = read_http_response(s)
    assert resp.headers["sec-websocket-accept"] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


# ---- allowed_origins -----------------------------------------------------------------------

def test_allowed_origins(start_server):
    server = start_server('[server]\nallowed_origins = ["https://good.example", "https://also.example"]\n')
    for origin in ["https://evil.example", "https://good.example.evil", "http://good.example"]:
        resp = exchange(server, upgrade_request(extra_headers=[f"Origin: {origin}"]))
        assert resp.status == 403, origin
    for origin in ["https://good.example", "https://also.example"]:
        with RawWS.connect(server.host, server.port, extra_headers=[f"Origin: {origin}"]) as c:
            assert c.echo(OP_TEXT, b"hi") == (OP_TEXT, b"hi")


def test_any_origin_when_not_configured(server):
    with RawWS.connect(server.host, server.port, extra_headers=["Origin: https://anything"]) as c:
        assert c.echo(OP_TEXT, b"hi") == (OP_TEXT, b"hi")


# ---- subprotocols --------------------------------------------------------------------------

CHAT_ROUTE = '[[routes]]\npath = "/chat"\ncomponent = "echo"\nprotocols = ["chat.v1"]\n'


@pytest.mark.parametrize("offered, selected", [
    ("x, chat.v1", "chat.v1"),
    ("chat.v1", "chat.v1"),
    (" x ,  chat.v1 , y", "chat.v1"),
    ("x, y", None),
    ("CHAT.V1", None),  # subprotocol names are case-sensitive
    (None, None),
])
def test_subprotocol_negotiation(start_server, offered, selected):
    server = start_server(CHAT_ROUTE)
    extra = [] if offered is None else [f"Sec-WebSocket-Protocol: {offered}"]
    with RawWS.connect(server.host, server.port, "/chat", extra_headers=extra) as c:
        assert c.response.headers.get("sec-websocket-protocol") == selected
        assert c.echo(OP_TEXT, b"hi") == (OP_TEXT, b"hi")


def test_subprotocol_with_websockets_client(start_server):
    server = start_server(CHAT_ROUTE)

    async def main():
        async with connect(server.url("/chat"), subprotocols=["x", "chat.v1"]) as ws:
            assert ws.subprotocol == "chat.v1"
            assert await echo_roundtrip(ws, "chat") == "chat"
    run(main())


# ---- prefix --------------------------------------------------------------------------------

def test_prefix(start_server):
    server = start_server('[server]\nprefix = "/socket.io"\n')
    with RawWS.connect(server.host, server.port, "/socket.io/echo") as c:
        assert c.echo(OP_TEXT, b"prefixed") == (OP_TEXT, b"prefixed")
    assert exchange(server, upgrade_request("/echo")).status == 404
    assert exchange(server, get("/socket.io/echo")).status == 426
    assert exchange(server, get("/healthz")).status == 200  # health stays unprefixed


def test_query_string_is_not_part_of_the_path(server):
    with RawWS.connect(server.host, server.port, "/echo?token=abc&x=1") as c:
        assert c.echo(OP_TEXT, b"q") == (OP_TEXT, b"q")


# ---- requests in pieces --------------------------------------------------------------------

def test_request_split_byte_by_byte(server):
    key = make_key()
    req = upgrade_request(key=key)
    with open_socket(server.host, server.port) as s:
        for i in range(len(req)):
            s.sendall(req[i:i + 1])
            time.sleep(0.002)
        resp, leftover = read_http_response(s)
        assert resp.status == 101
        assert resp.headers["sec-websocket-accept"] == accept_for(key)
        c = RawWS(s, leftover)
        assert c.echo(OP_TEXT, b"pieces") == (OP_TEXT, b"pieces")


def test_terminator_split_across_reads(server):
    req = upgrade_request()
    with open_socket(server.host, server.port) as s:
        for piece in (req[:-3], req[-3:-1], req[-1:]):  # "\r\n\r" | "\n" split points
            s.sendall(piece)
            time.sleep(0.05)
        resp, _ = read_http_response(s)
        assert resp.status == 101


def test_plain_http_keeps_serving_after_many_refusals(server):
    for _ in range(50):
        assert exchange(server, get("/nope")).status == 404
    with RawWS.connect(server.host, server.port) as c:
        assert c.echo(OP_TEXT, b"alive") == (OP_TEXT, b"alive")


@plain_only  # over TLS a connection over a limit is closed at accept: no plain 503/429 (see test_tls.py)
def test_max_connections_503(start_server):
    server = start_server('[limits]\nmax_connections = 2\n')
    with RawWS.connect(server.host, server.port) as a, RawWS.connect(server.host, server.port) as b:
        with open_socket(server.host, server.port) as s:
            resp, _ = read_http_response(s)  # refused at accept, before any request
            assert resp.status == 503
            assert wait_tcp_close(s) == b""
        assert a.echo(OP_TEXT, b"a") == (OP_TEXT, b"a")
        assert b.echo(OP_TEXT, b"b") == (OP_TEXT, b"b")


def test_connection_count_is_released_on_every_kind_of_close(start_server):
    """With max_connections = 2, connections ended every possible way must all be given
    back: two clients fit again afterwards. One loop, and each ending awaited (no TCP socket
    left in the server), so no close is still in flight when the next client connects."""
    server = start_server('[server]\nthreads = 1\n[limits]\nmax_connections = 2\n'
                          'close_timeout = "300ms"\nhandshake_timeout = "300ms"\n')
    h, p = server.host, server.port

    def settled():
        assert server.wait_tcp_connections(0), f"{server.tcp_connections()} connections left"

    for _ in range(3):
        assert exchange(server, get("/nope")).status == 404
        settled()
        with RawWS.connect(h, p) as c:  # protocol fault
            c.send_frame(OP_TEXT, b"x", mask=False)
            c.expect_close(1002)
        settled()
        with RawWS.connect(h, p) as c:  # clean close
            c.send_close(1000)
            c.expect_close(1000)
        settled()
        with RawWS.connect(h, p) as c:  # abrupt TCP close while open
            assert c.echo(OP_TEXT, b"x") == (OP_TEXT, b"x")
        settled()
        with open_socket(h, p) as s:    # abrupt close mid-request
            s.sendall(b"GET /echo")
        settled()
        with open_socket(h, p) as s:    # handshake timeout
            assert wait_tcp_close(s, 3) == b""
        settled()
        with RawWS.connect(h, p) as c:  # leaves without waiting for the server's close
            c.send_frame(OP_TEXT, b"x", mask=False)
        settled()
    with RawWS.connect(h, p) as a, RawWS.connect(h, p) as b:
        assert a.echo(OP_TEXT, b"a") == (OP_TEXT, b"a")
        assert b.echo(OP_TEXT, b"b") == (OP_TEXT, b"b")


def test_client_that_connects_and_leaves(server):
    for _ in range(20):
        socket.create_connection((server.host, server.port), timeout=2).close()
    assert exchange(server, get("/healthz")).status == 200
