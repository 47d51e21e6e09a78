"""The limiter against the real binary: concurrent connections and connection rate per
address (HTTP 429 at accept), messages per second per connection (the action protocol's
`error`, or close 1008), and that a limited client harms nobody else."""
import asyncio
import time

import pytest
import websockets

from helpers import connect, echo_roundtrip, receive_until_quiet, run
from notify_support import NotifyEnv, notify_config, recv_reply, send_action, url
from conftest import plain_only
from rawws import OP_TEXT, RawWS, open_socket, read_http_response, wait_tcp_close


def refused_with(server, source=None):
    with open_socket(server.host, server.port, source=source) as s:
        resp, _ = read_http_response(s)  # refused at accept, before any request
        assert wait_tcp_close(s) == b""
        return resp.status, resp.body


@plain_only  # over TLS a connection over a limit is closed at accept: no plain 503/429 (see test_tls.py)
def test_connections_per_ip_429_and_released(start_server):
    server = start_server('[server]\nthreads = 2\n[limits]\nconnections_per_ip = 3\n'
                          '\n[[routes]]\npath = "/echo"\ncomponent = "echo"\n')
    clients = [RawWS.connect(server.host, server.port) for _ in range(3)]
    try:
        status, body = refused_with(server)
        assert status == 429 and b"too many connections from this address" in body
        for c in clients:
            assert c.echo(OP_TEXT, b"still") == (OP_TEXT, b"still")
        clients.pop().close()
        assert server.wait_tcp_connections(2)
        clients.append(RawWS.connect(server.host, server.port))  # the slot came back
        assert clients[-1].echo(OP_TEXT, b"new") == (OP_TEXT, b"new")
    finally:
        for c in clients:
            c.close()


@plain_only  # over TLS a connection over a limit is closed at accept: no plain 503/429 (see test_tls.py)
def test_connection_rate_per_ip(start_server):
    """5 per second, one second deep: five quick connect-and-hang-ups pass, the sixth is
    refused even though nothing is open (hanging up does not pay the debt), and a second
    later connections pass again."""
    server = start_server('[limits]\nconnection_rate_per_ip = 5\n\n[[routes]]\npath = "/echo"\ncomponent = "echo"\n')
    for _ in range(5):
        RawWS.connect(server.host, server.port).close()
    status, body = refused_with(server)
    assert status == 429 and b"connection rate from this address exceeded" in body
    time.sleep(1.2)
    with RawWS.connect(server.host, server.port) as c:
        assert c.echo(OP_TEXT, b"ok") == (OP_TEXT, b"ok")


def test_message_rate_answers_error_on_notify_and_keeps_the_connection(start_server, tmp_path):
    env = NotifyEnv(tmp_path)
    server = start_server(notify_config() + '\n[limits]\nmessages_per_second = 5\nmessage_burst = 3\n')

    async def scenario():
        async with connect(url(server, env.token())) as ws, \
                connect(url(server, env.token("bob@example.com"))) as bob:
            for i in range(8):
                await send_action(ws, "echo", i)
            replies = [await recv_reply(ws) for _ in range(8)]
            assert replies[:3] == [("echo", 0), ("echo", 1), ("echo", 2)]
            assert ("error", {"message": "Rate limit exceeded: too many messages"}) in replies[3:]
            assert sum(1 for r in replies if r[0] == "echo") <= 4  # the burst, plus what refilled meanwhile
            await send_action(bob, "echo", "bob is not limited by alice")
            assert await recv_reply(bob) == ("echo", "bob is not limited by alice")
            await asyncio.sleep(0.7)  # refills at 5 per second
            await send_action(ws, "echo", "later")
            assert await recv_reply(ws) == ("echo", "later")
    run(scenario())


def test_message_rate_close_mode(start_server):
    server = start_server('[limits]\nmessages_per_second = 10\nmessage_burst = 5\non_limit = "close"\n'
                          '\n[[routes]]\npath = "/echo"\ncomponent = "echo"\n')

    async def scenario():
        async with connect(server.url()) as ws:
            for i in range(5):
                assert await echo_roundtrip(ws, f"m{i}") == f"m{i}"
            await ws.send("one too many")
            with pytest.raises(websockets.ConnectionClosed):
                while True:
                    await asyncio.wait_for(ws.recv(), 5)
            assert ws.close_code == 1008 and ws.close_reason == "message rate limit exceeded"
    run(scenario())


def test_message_rate_error_mode_drops_on_echo(start_server):
    server = start_server('[limits]\nmessages_per_second = 2\nmessage_burst = 2\n'
                          '\n[[routes]]\npath = "/echo"\ncomponent = "echo"\n')

    async def scenario():
        async with connect(server.url()) as ws:
            for i in range(6):
                await ws.send(f"m{i}")
            got = await receive_until_quiet(ws)
            assert got[:2] == ["m0", "m1"] and len(got) <= 3  # the rest dropped, the connection kept
            await asyncio.sleep(0.6)
            assert await echo_roundtrip(ws, "after") == "after"
    run(scenario())


@plain_only  # over TLS a connection over a limit is closed at accept: no plain 503/429 (see test_tls.py)
def test_limit_hits_are_counted_in_metrics(start_server):
    import urllib.request
    server = start_server('[limits]\nconnections_per_ip = 1\nmessages_per_second = 1\nmessage_burst = 1\n'
                          '\n[[routes]]\npath = "/echo"\ncomponent = "echo"\n')

    def hits():
        with urllib.request.urlopen(f"{server.http_url('')}/metrics", timeout=5) as r:
            text = r.read().decode()
        return {kind: float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                if line.startswith("capstan_limit_hits_total{")
                for kind in [line.split('kind="')[1].split('"')[0]]}

    before = hits()  # the scrape itself is the one connection allowed at a time ...
    assert server.wait_tcp_connections(0)  # ... until the server has closed it
    with RawWS.connect(server.host, server.port) as c:
        assert refused_with(server)[0] == 429
        c.send_frame(OP_TEXT, b"one")
        c.send_frame(OP_TEXT, b"two")  # over the rate: dropped on echo
        assert c.recv_frame().payload == b"one"
    assert server.wait_tcp_connections(0)
    after = hits()
    assert after["connections_per_ip"] - before["connections_per_ip"] == 1
    assert after["messages"] - before["messages"] >= 1


@plain_only  # over TLS a connection over a limit is closed at accept: no plain 503/429 (see test_tls.py)
def test_per_ip_limits_count_each_source_address_apart(start_server):
    """Clients from 127.0.0.2 and 127.0.0.3 (several loopback addresses, several loops): one
    address at its limit leaves the others untouched, for the concurrent count and the rate."""
    server = start_server('[server]\nthreads = 2\n[limits]\nconnections_per_ip = 2\nconnection_rate_per_ip = 3\n'
                          '\n[[routes]]\npath = "/echo"\ncomponent = "echo"\n')
    a = [RawWS.connect(server.host, server.port, source="127.0.0.2") for _ in range(2)]
    try:
        assert refused_with(server, "127.0.0.2")[0] == 429           # concurrent: 2 of 2
        with RawWS.connect(server.host, server.port, source="127.0.0.3") as b:
            assert b.echo(OP_TEXT, b"b") == (OP_TEXT, b"b")
        for c in a:
            assert c.echo(OP_TEXT, b"a") == (OP_TEXT, b"a")
    finally:
        for c in a:
            c.close()
    # A third connection uses 127.0.0.2's last one of this second (the refusal above took
    # none); the fourth is over the rate, though nothing is open; 127.0.0.4 has its own bucket.
    assert server.wait_tcp_connections(0)  # the two closes reached the server
    RawWS.connect(server.host, server.port, source="127.0.0.2").close()
    status, body = refused_with(server, "127.0.0.2")
    assert status == 429 and b"rate" in body
    with RawWS.connect(server.host, server.port, source="127.0.0.4") as d:
        assert d.echo(OP_TEXT, b"d") == (OP_TEXT, b"d")
