"""The echo component through a real client (python-websockets) and, where the exact bytes
matter (pong payloads, interleaved control frames), through the raw client."""
import asyncio
import os
import time

import pytest

from helpers import connect, echo_roundtrip, run
from rawws import (OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT, RawWS, close_payload, encode_frame,
                   open_socket, read_http_response, upgrade_request)


def test_text(server):
    async def main():
        async with connect(server.url()) as ws:
            assert await echo_roundtrip(ws, "hello") == "hello"
            assert await echo_roundtrip(ws, "héllo wörld € 😀") == "héllo wörld € 😀"
    run(main())


def test_binary_stays_binary(server):
    payload = bytes(range(256)) * 4

    async def main():
        async with connect(server.url()) as ws:
            echoed = await echo_roundtrip(ws, payload)
            assert isinstance(echoed, bytes) and echoed == payload
    run(main())


@pytest.mark.parametrize("message", ["", b""], ids=["text", "binary"])
def test_empty_message(server, message):
    async def main():
        async with connect(server.url()) as ws:
            echoed = await echo_roundtrip(ws, message)
            assert type(echoed) is type(message) and echoed == message
            assert await echo_roundtrip(ws, "after") == "after"
    run(main())


@pytest.mark.parametrize("kind", ["binary", "text"])
def test_8_mib_message(start_server, kind):
    server = start_server('[limits]\nmax_message_size = "16MiB"\n')
    if kind == "binary":
        message = os.urandom(8 << 20)
    else:  # multi-byte characters, so UTF-8 sequences straddle the server's reads
        unit = "aé€😀"  # 1 + 2 + 3 + 4 bytes
        message = unit * ((8 << 20) // len(unit.encode()))

    async def main():
        async with connect(server.url(), max_size=None) as ws:
            assert await echo_roundtrip(ws, message, timeout=20) == message
            assert await echo_roundtrip(ws, "small after big") == "small after big"
    run(main(), timeout=40)


def test_fragmented_messages(server):
    async def text_fragments():
        for part in ["frag", "mented ", "", "tëxt ", "😀"]:
            yield part

    async def main():
        async with connect(server.url()) as ws:
            await asyncio.wait_for(ws.send(text_fragments()), 5)
            assert await asyncio.wait_for(ws.recv(), 5) == "fragmented tëxt 😀"
            await asyncio.wait_for(ws.send([b"\x00\x01", b"", b"\x02" * 70000, b"\x03"]), 5)
            assert await asyncio.wait_for(ws.recv(), 5) == b"\x00\x01" + b"\x02" * 70000 + b"\x03"
    run(main())


def test_utf8_sequence_split_across_fragments(server):
    euro = "€".encode()  # 3 bytes, cut after the first and the second byte
    with RawWS.connect(server.host, server.port) as c:
        c.send_frame(OP_TEXT, b"x" + euro[:1], fin=False)
        c.send_frame(OP_CONT, euro[1:2], fin=False)
        c.send_frame(OP_CONT, euro[2:], fin=True)
        assert c.recv_message() == (OP_TEXT, b"x" + euro)


def test_control_frames_between_fragments(server):
    with RawWS.connect(server.host, server.port) as c:
        c.send_frame(OP_BINARY, b"first ", fin=False)
        c.send_frame(OP_PING, b"in between")
        c.send_frame(OP_PONG, b"unsolicited")  # must be ignored
        c.send_frame(OP_CONT, b"second", fin=True)
        pong = c.recv_frame()
        assert (pong.opcode, pong.payload, pong.fin) == (OP_PONG, b"in between", True)
        assert c.recv_message() == (OP_BINARY, b"first second")


@pytest.mark.parametrize("payload", [b"", b"\x00\xffping-payload", bytes(range(125))],
                         ids=["empty", "binary", "125-bytes"])
def test_ping_gets_pong_with_same_payload(server, payload):
    with RawWS.connect(server.host, server.port) as c:
        c.send_frame(OP_PING, payload)
        f = c.recv_frame()
        assert (f.opcode, f.fin, f.rsv, f.masked, f.payload) == (OP_PONG, True, 0, False, payload)
        assert c.echo(OP_TEXT, b"still open") == (OP_TEXT, b"still open")


def test_ping_from_websockets_client(server):
    async def main():
        async with connect(server.url()) as ws:
            pong_waiter = await ws.ping(b"abc\x00def")  # resolves only on a matching pong
            await asyncio.wait_for(pong_waiter, 5)
    run(main())


@pytest.mark.parametrize("split", [None, 30], ids=["one-write", "request-in-two-writes"])
def test_messages_sent_right_behind_the_request(server, split):
    """A client may send frames without waiting for the 101: they arrive with the request."""
    data = upgrade_request() + encode_frame(OP_TEXT, b"eager") + encode_frame(OP_BINARY, b"\x01" * 300)
    with open_socket(server.host, server.port) as s:
        if split:
            s.sendall(data[:split])
            time.sleep(0.05)
        s.sendall(data[split or 0:])
        resp, leftover = read_http_response(s)
        assert resp.status == 101
        c = RawWS(s, leftover)
        assert c.recv_message() == (OP_TEXT, b"eager")
        assert c.recv_message() == (OP_BINARY, b"\x01" * 300)


def send_byte_by_byte(c, data):
    for i in range(len(data)):
        c.send_raw(data[i:i + 1])
        time.sleep(0.001)


def test_frames_split_byte_by_byte(server):
    """Every header, mask offset and payload path of the decoder, one byte per read."""
    with RawWS.connect(server.host, server.port) as c:
        send_byte_by_byte(c, encode_frame(OP_PING, b"0123456789" * 12))
        f = c.recv_frame()
        assert (f.opcode, f.payload) == (OP_PONG, b"0123456789" * 12)
        text = "héllo €😀 ".encode() * 20
        send_byte_by_byte(c, encode_frame(OP_TEXT, text))
        assert c.recv_message() == (OP_TEXT, text)
        send_byte_by_byte(c, encode_frame(OP_BINARY, b"\xab" * 300))  # 16-bit length
        assert c.recv_message() == (OP_BINARY, b"\xab" * 300)
        send_byte_by_byte(c, encode_frame(OP_CLOSE, close_payload(4000, b"split")))
        c.expect_close(4000)


async def echo_client(url, index, count):
    async with connect(url, open_timeout=15) as ws:
        messages = [f"client {index} message {i}" for i in range(count)]
        await asyncio.gather(*(ws.send(m) for m in messages))  # all in flight at once
        echoed = [await asyncio.wait_for(ws.recv(), 15) for _ in messages]
        assert sorted(echoed) == sorted(messages)
        assert echoed == messages, "echo changed the order of one connection's messages"


def test_200_concurrent_clients(server):
    async def main():
        await asyncio.gather(*(echo_client(server.url(), i, 5) for i in range(200)))
    run(main(), timeout=60)


def thread_cpu_ns(pid):
    """CPU time of each thread of `pid`, from /proc/PID/task/TID/schedstat."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
            out[tid] = int(f.read().split()[0])
    return out


def test_two_loops_both_serve(start_server):
    server = start_server("[server]\nthreads = 2\n")
    assert server.loops == 2
    # The log line comes once the sockets are bound, just before the second loop's thread
    # starts: wait for it (sanitizer runtimes may add threads of their own).
    deadline = time.monotonic() + 5
    while len(os.listdir(f"/proc/{server.pid}/task")) < 2:
        assert time.monotonic() < deadline, "the second loop's thread never started"
        time.sleep(0.01)
    before = thread_cpu_ns(server.pid)
    payload = os.urandom(100 << 10)

    async def heavy_client():
        async with connect(server.url()) as ws:
            for _ in range(20):
                assert await echo_roundtrip(ws, payload) == payload

    # 40 connections: SO_REUSEPORT spreads them over both loops' listeners (the chance that
    # one loop gets all of them is 2^-39).
    async def main():
        await asyncio.gather(*(heavy_client() for _ in range(40)))
        await asyncio.gather(*(echo_client(server.url(), i, 3) for i in range(40)))
    run(main(), timeout=60)
    after = thread_cpu_ns(server.pid)
    used_ms = sorted(((after[t] - before.get(t, 0)) / 1e6 for t in after), reverse=True)
    # Each loop echoed ~40 MB; an idle loop only runs its sweep tick (microseconds).
    assert used_ms[1] > 1.0, f"one loop did no work: CPU ms per thread {used_ms}"
