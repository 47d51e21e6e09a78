"""Timeouts checked by the loop's sweep: the handshake deadline, server pings, idle close."""
import asyncio
import time

import pytest

from helpers import connect, echo_roundtrip, run
from rawws import OP_CLOSE, OP_PING, OP_PONG, OP_TEXT, RawWS, TcpClosed, is_tcp_closed, open_socket

HANDSHAKE_CONFIG = '[limits]\nhandshake_timeout = "1s"\n'
IDLE_CONFIG = '[limits]\nping_interval = "500ms"\nidle_timeout = "2s"\n'


@pytest.mark.parametrize("behaviour", ["dribbling", "silent"])
def test_handshake_timeout(start_server, bystander_for, behaviour):
    server = start_server(HANDSHAKE_CONFIG)
    bystander = bystander_for(server)
    partial = b"GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"s" * 100
    with open_socket(server.host, server.port) as s:
        started = time.monotonic()
        sent, closed_after = 0, None
        while time.monotonic() - started < 5:
            if behaviour == "dribbling" and sent < len(partial):
                try:
                    s.sendall(partial[sent:sent + 1])
                    sent += 1
                except (BrokenPipeError, ConnectionResetError):
                    closed_after = time.monotonic() - started
                    break
            if is_tcp_closed(s, wait=0.2):
                closed_after = time.monotonic() - started
                break
            bystander.assert_echoes()  # served while the slow client hangs on
    assert closed_after is not None, "slow client still connected after 5 s (handshake_timeout 1s)"
    assert 0.9 <= closed_after <= 3.0, f"closed after {closed_after:.2f}s, handshake_timeout is 1s"
    bystander.assert_echoes()


def test_handshake_timeout_does_not_apply_after_upgrade(start_server):
    server = start_server(HANDSHAKE_CONFIG)
    with RawWS.connect(server.host, server.port) as c:
        time.sleep(1.6)
        assert c.echo(OP_TEXT, b"still here") == (OP_TEXT, b"still here")


def test_websockets_client_answering_pings_stays_connected(start_server):
    server = start_server(IDLE_CONFIG)

    async def main():
        # ping_interval=None: the client never pings on its own, it only answers the server.
        async with connect(server.url()) as ws:
            await asyncio.sleep(3.5)
            assert ws.open, f"closed with {ws.close_code} {ws.close_reason!r}"
            assert await echo_roundtrip(ws, "after 3.5 s") == "after 3.5 s"
    run(main())


def test_raw_client_answering_pings_stays_connected(start_server):
    """Pongs alone count as traffic: no data, yet no idle close."""
    server = start_server(IDLE_CONFIG)
    with RawWS.connect(server.host, server.port) as c:
        started, pings = time.monotonic(), 0
        while time.monotonic() - started < 3.5:
            try:
                f = c.recv_frame(timeout=0.3)
            except TimeoutError:
                continue
            assert f.opcode == OP_PING, f"unexpected frame {f.opcode:#x} {f.payload!r}"
            pings += 1
            c.send_frame(OP_PONG, f.payload)
        assert pings >= 3, f"only {pings} pings in 3.5 s with ping_interval 500ms"
        assert c.echo(OP_TEXT, b"alive") == (OP_TEXT, b"alive")


def test_silent_client_is_pinged_then_closed_1001(start_server, bystander_for):
    server = start_server(IDLE_CONFIG)
    bystander = bystander_for(server)
    with RawWS.connect(server.host, server.port) as c:
        opened = time.monotonic()
        frames = []
        while True:
            f = c.recv_frame(timeout=5)
            frames.append((round(time.monotonic() - opened, 2), f.opcode))
            if f.opcode == OP_CLOSE:
                break
            assert f.opcode == OP_PING and f.payload == b"", f"unexpected frame {f}"
        closed_at = frames[-1][0]
        assert frames[0][1] == OP_PING and frames[0][0] <= 1.2, f"first ping late: {frames}"
        assert f.close_code == 1001, f"idle close code {f.close_code}, frames {frames}"
        assert 1.8 <= closed_at <= 3.0, f"idle close after {closed_at}s, idle_timeout is 2s: {frames}"
        with pytest.raises(TcpClosed):  # the server hangs up after its close frame
            c.recv_frame(timeout=3)
    bystander.assert_echoes()
