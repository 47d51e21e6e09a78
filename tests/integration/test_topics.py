"""Topics (capstan/topics.hpp) across loops with real clients: bench/servers/topics_fanout (every
connection subscribed to the topic "all", each message published to it) on two loops, driven
by python3-websockets. Every client hears every publication, in the order published, whichever
loop it and the publisher are on; clients that leave are no longer sent to; the server stops
cleanly (the fixture checks its exit and sanitizer reports)."""
import asyncio
from pathlib import Path

import pytest

from conftest import Server, capstan_bin
from helpers import connect, receive_until_quiet, run

CLIENTS = 16  # on two loops: all on one loop has a chance of 2**-15


@pytest.fixture
def topics_server():
    binary = Path(capstan_bin()).parent / "capstan_topics_fanout"
    if not binary.is_file():
        pytest.fail(f"{binary} not built (it is part of every root build)")
    server = Server([str(binary), "0", "2"])
    yield server
    server.terminate()
    assert server.wait(15) == 0, server.stderr
    assert server.sanitizer_report() is None, server.stderr


def test_a_publish_reaches_every_subscriber_on_both_loops_in_order(topics_server):
    assert topics_server.loops == 2
    url = f"{topics_server.url('')}/"

    async def scenario():
        clients = [await connect(url) for _ in range(CLIENTS)]
        try:
            for i in range(50):
                await clients[3].send(f"m{i}")
            expected = [f"m{i}" for i in range(50)]
            for k, ws in enumerate(clients):
                got = [await asyncio.wait_for(ws.recv(), 5) for _ in range(50)]
                assert got == expected, f"client {k}"
            # A publisher on each loop in turn: everyone hears every one.
            for k in (0, 1, 2):
                await clients[k].send(f"from {k}")
            for k, ws in enumerate(clients):
                got = sorted([await asyncio.wait_for(ws.recv(), 5) for _ in range(3)])
                assert got == ["from 0", "from 1", "from 2"], f"client {k}"
        finally:
            for ws in clients:
                await ws.close()

    run(scenario())


def test_clients_that_leave_are_no_longer_sent_to(topics_server):
    url = f"{topics_server.url('')}/"

    async def scenario():
        clients = [await connect(url) for _ in range(CLIENTS)]
        leaving, staying = clients[: CLIENTS // 2], clients[CLIENTS // 2:]
        for ws in leaving:
            await ws.close()
        await asyncio.sleep(0.2)  # the server reaps them
        await staying[0].send("after")
        for k, ws in enumerate(staying):
            assert await receive_until_quiet(ws, 0.5) == ["after"], f"client {k}"
        for ws in staying:
            await ws.close()

    run(scenario())
