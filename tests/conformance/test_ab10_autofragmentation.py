"""Autobahn|Testsuite group 10, automatic fragmentation: however the server splits its echo
of a large message (Capstan sends it whole; a future version may fragment), the frames must
form exactly one message: a text/binary first frame, then continuations, FIN on the last
only, no RSV, no mask; control frames may come in between (RFC 6455 5.4), and any pong must
answer a ping that was sent.
"""
import pytest

from wsconf import (OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT, binary_payload, connect,
                    fragments, frame, text_payload)

MIB = 1 << 20


def read_fragmented_message(c, timeout=30.0):
    """Returns (opcode, payload, data frame count, pong payloads seen in between)."""
    opcode, parts, pongs = None, [], []
    while True:
        f = c.next_frame(timeout)
        assert f.opcode != OP_CLOSE, f"close {f.close_code} {bytes(f.payload[2:])!r} inside the echo"
        if f.opcode == OP_PONG:
            pongs.append(bytes(f.payload))
            continue
        assert f.opcode != OP_PING, "unexpected ping from the server"
        if opcode is None:
            assert f.opcode in (OP_TEXT, OP_BINARY), f"first frame has opcode {f.opcode:#x}"
            opcode = f.opcode
        else:
            assert f.opcode == OP_CONT, f"frame {len(parts) + 1} has opcode {f.opcode:#x}, not continuation"
        parts.append(f.payload)
        if f.fin:
            return opcode, b"".join(parts), len(parts), pongs


def check_echo(c, opcode, payload, pings=()):
    got_op, got, _, pongs = read_fragmented_message(c)
    assert got_op == opcode
    assert len(got) == len(payload) and got == payload, "reassembled echo differs from what was sent"
    for p in pings[len(pongs):]:  # pongs not seen inside the message follow it
        c.expect_pong(p)
        pongs.append(p)
    assert pongs == list(pings), f"pongs {pongs!r} for pings {list(pings)!r}"
    c.close_clean()


@pytest.mark.parametrize("client_frame", [1300, None], ids=["10.1.1", "10.1.1+one-frame"])
def test_case(server, client_frame):
    """Autobahn 10.1.1: 64 KiB text; sent in 1300-byte frames (as Autobahn), or in one frame."""
    payload = text_payload(65536)
    parts = [payload[i:i + client_frame] for i in range(0, len(payload), client_frame)] if client_frame else [payload]
    with connect(server) as c:
        c.send_raw(b"".join(fragments(OP_TEXT, parts)))
        check_echo(c, OP_TEXT, payload)


@pytest.mark.parametrize("opcode", [OP_TEXT, OP_BINARY], ids=["10.x+1MiB-text", "10.x+1MiB-binary"])
@pytest.mark.parametrize("client_frame", [None, 4096, 65536], ids=["one-frame", "4KiB-frames", "64KiB-frames"])
def test_1mib_message(server, opcode, client_frame):
    """1 MiB (the default max_message_size, so at the limit), with a ping behind it."""
    payload = (text_payload if opcode == OP_TEXT else binary_payload)(MIB)
    step = client_frame or MIB
    parts = [payload[i:i + step] for i in range(0, len(payload), step)]
    with connect(server, timeout=30) as c:
        c.send_raw(b"".join(fragments(opcode, parts)) + frame(OP_PING, b"behind the message"))
        check_echo(c, opcode, payload, pings=[b"behind the message"])
