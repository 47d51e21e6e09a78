"""Fan-out output (app/deferred_output): what a loop turn owes other connections leaves once
per connection at the end of the turn. Every client still sees its own stream in order, a
slow reader of broadcasts is dropped at limits.send_buffer, and nobody else notices."""
import asyncio
import json
import socket
import time

from helpers import run
from notify_support import connect, send_action
from rawws import RawWS, TcpClosed

ROUTE = """
[[routes]]
path = "/"
component = "notify"
auth = false

  [[routes.actions]]
  name = "message"
  kind = "relay"
  to = "all"

  [[routes.actions]]
  name = "echo"
  kind = "relay"
  to = "sender"
"""


def test_broadcasts_and_own_replies_keep_their_order(start_server):
    """A broadcasts 300 numbered messages while B asks for 300 numbered echoes, on two loops:
    B's broadcasts and B's echoes each arrive complete and in order, however they interleave."""
    server = start_server("[server]\nthreads = 2\n" + ROUTE)
    n = 300

    async def scenario():
        url = f"{server.url('')}/"
        async with connect(url) as a, connect(url) as b, connect(url) as c:
            async def publish():
                for i in range(n):
                    await send_action(a, "message", i)

            async def ask():
                for i in range(n):
                    await send_action(b, "echo", i)

            async def collect(ws, want):
                got = {"message": [], "echo": []}
                while sum(len(v) for v in got.values()) < want:
                    reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    got[reply["action"]].append(json.loads(reply["data"]))
                return got

            results = await asyncio.gather(publish(), ask(), collect(b, 2 * n), collect(c, n), collect(a, n))
            b_got, c_got, a_got = results[2], results[3], results[4]
            assert b_got["message"] == list(range(n))
            assert b_got["echo"] == list(range(n))
            assert c_got["message"] == list(range(n)) and c_got["echo"] == []
            assert a_got["message"] == list(range(n))
    run(scenario(), timeout=60)


def test_a_slow_reader_of_broadcasts_is_dropped_and_the_others_get_everything(start_server):
    server = start_server('[server]\nthreads = 1\n[limits]\nsend_buffer = "128KiB"\nclose_timeout = "1s"\n' + ROUTE)
    count, payload = 3000, "x" * 4000  # 12 MB of broadcasts: past the cap and what the kernel buffers (~4 MB)

    with RawWS.connect(server.host, server.port, "/", rcvbuf=4096) as slow:
        async def scenario():
            url = f"{server.url('')}/"
            async with connect(url) as publisher, connect(url) as reader:
                async def publish():
                    for i in range(count):
                        await send_action(publisher, "message", {"i": i, "pad": payload})

                async def read_all(ws):
                    seen = []
                    while len(seen) < count:
                        reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
                        seen.append(json.loads(reply["data"])["i"])
                    return seen

                _, got, own = await asyncio.gather(publish(), read_all(reader), read_all(publisher))
                assert got == list(range(count)) and own == list(range(count))
        run(scenario(), timeout=60)

        # The slow client was dropped: what the kernel holds for it ends, then the connection.
        slow.sock.settimeout(5)
        received, deadline, closed = 0, time.monotonic() + 20, False
        while time.monotonic() < deadline:
            try:
                chunk = slow.sock.recv(65536)
            except (ConnectionResetError, TcpClosed):
                closed = True
                break
            except socket.timeout:
                break
            if not chunk:
                closed = True
                break
            received += len(chunk)
        assert closed, f"the slow reader is still connected after {received} bytes"
        assert received < count * len(payload), "a dropped reader cannot have been sent everything"
