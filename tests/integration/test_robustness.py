"""Clients that vanish at the worst moments, and a shutdown in the middle of traffic: the
server must stay up and correct (run these under the ASan build to catch memory errors)."""
import asyncio
import socket
import struct
import time

import websockets

from helpers import connect, run
from rawws import OP_BINARY, OP_PING, OP_TEXT, encode_frame, open_socket, upgrade_request


def reset_close(sock):
    """Closes with SO_LINGER 0: the server sees a TCP reset instead of an orderly FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


ABRUPT_ENDINGS = {
    "mid-request": lambda: b"GET /echo HTTP/1.1\r\nHost: x\r\n",
    "after-request": lambda: upgrade_request(),
    "mid-frame-header": lambda: upgrade_request() + encode_frame(OP_TEXT, b"x" * 200)[:3],
    "mid-payload": lambda: upgrade_request() + encode_frame(OP_BINARY, b"p" * 200_000)[:100_000],
    "mid-fragmented": lambda: upgrade_request() + encode_frame(OP_TEXT, b"part", fin=False),
    "echo-unread": lambda: upgrade_request() + encode_frame(OP_BINARY, b"e" * 300_000) * 3,
    "ping-unread": lambda: upgrade_request() + encode_frame(OP_PING, b"p" * 125) * 200,
}


def test_abrupt_disconnects_do_not_disturb_others(start_server, bystander_for):
    server = start_server('[limits]\nmax_message_size = "1MiB"\n')
    bystander = bystander_for(server)
    for _ in range(10):
        for name, data in ABRUPT_ENDINGS.items():
            s = open_socket(server.host, server.port)
            try:
                s.sendall(data())
            except (BrokenPipeError, ConnectionResetError):
                pass
            if name.endswith("unread"):
                time.sleep(0.005)  # let the server start writing into a dead socket
            reset_close(s)
        bystander.assert_echoes()
    assert server.wait_tcp_connections(1, timeout=5), f"{server.tcp_connections()} connections left"
    bystander.assert_echoes()


def test_many_connections_closing_at_once(start_server):
    server = start_server("")

    async def client(i):
        async with connect(server.url()) as ws:
            await ws.send(f"m{i}" * 1000)
            # leave without reading the echo: the close races with the server's write

    async def main():
        await asyncio.gather(*(client(i) for i in range(100)))
    run(main())
    assert server.wait_tcp_connections(0, timeout=5), f"{server.tcp_connections()} connections left"


def test_sigterm_during_traffic(start_server):
    server = start_server('[server]\nshutdown_timeout = "3s"\n')
    payload = b"t" * 50_000

    async def busy_client(ready):
        async with connect(server.url()) as ws:
            ready.release()
            try:
                while True:
                    await ws.send(payload)
                    assert await asyncio.wait_for(ws.recv(), 5) == payload
            except websockets.ConnectionClosed as e:
                return e.rcvd.code if e.rcvd else None

    async def main():
        ready = asyncio.Semaphore(0)
        tasks = [asyncio.create_task(busy_client(ready)) for _ in range(30)]
        for _ in tasks:
            await asyncio.wait_for(ready.acquire(), 10)
        await asyncio.sleep(0.3)
        server.terminate()
        return await asyncio.gather(*tasks)

    codes = run(main(), timeout=20)
    assert codes == [1001] * 30, f"close codes seen by the clients: {codes}"
    assert server.wait(timeout=5) == 0, server.stderr
