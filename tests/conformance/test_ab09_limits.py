"""Autobahn|Testsuite group 9, limits and performance: large text (9.1.x) and binary (9.2.x)
messages in one frame, a 4 MiB message in frames of 64 B .. 4 MiB (9.3.x text, 9.4.x binary),
a 1 MiB frame written in chops of 64 B .. 2 KiB (9.5.x text, 9.6.x binary), and 1000 small
messages sent back to back (9.7.x text, 9.8.x binary), each echoed exactly
and in order. The server runs with max_message_size = 32MiB (and a send buffer that holds a
16 MiB echo). Uploads run on a thread while the echo is read.

Autobahn's 9.7/9.8 wait for each echo before the next message; here all 1000 are written
at once and the echoes must come back in order.
"""
import struct
import time

import pytest

from wsconf import (LARGE_CONFIG, OP_BINARY, OP_TEXT, BackgroundSend, binary_payload, connect, fragments,
                    frame, text_payload)

KIB, MIB = 1 << 10, 1 << 20
SIZES = [64 * KIB, 256 * KIB, 1 * MIB, 4 * MIB, 8 * MIB, 16 * MIB]
FRAME_SIZES = [64, 256, 1 * KIB, 4 * KIB, 16 * KIB, 64 * KIB, 256 * KIB, 1 * MIB, 4 * MIB]
CHOP_SIZES = [64, 128, 256, 512, 1 * KIB, 2 * KIB]
SMALL_SIZES = [0, 16, 64, 256, 1 * KIB, 4 * KIB]
KINDS = {OP_TEXT: text_payload, OP_BINARY: binary_payload}
TIMEOUT = 60.0  # per case, generous for sanitizer builds


@pytest.fixture
def big_server(start_server):
    return start_server(LARGE_CONFIG)


def roundtrip(server, wire, expected):
    """Uploads `wire` while reading; expects the messages in `expected`, then a clean close."""
    started = time.monotonic()
    with connect(server, timeout=TIMEOUT) as c:
        upload = BackgroundSend(c, wire)
        for opcode, payload in expected:
            c.expect_message(opcode, payload, timeout=max(TIMEOUT - (time.monotonic() - started), 1))
        upload.join()
        c.close_clean()


def cases(group_text, group_binary, values):
    out = []
    for group, opcode in ((group_text, OP_TEXT), (group_binary, OP_BINARY)):
        out += [pytest.param(opcode, v, id=f"9.{group}.{n}") for n, v in enumerate(values, start=1)]
    return out


@pytest.mark.parametrize("opcode,size", cases(1, 2, SIZES))
def test_large_message(big_server, opcode, size):
    payload = KINDS[opcode](size)
    roundtrip(big_server, frame(opcode, payload), [(opcode, payload)])


@pytest.mark.parametrize("opcode,frame_size", cases(3, 4, FRAME_SIZES))
def test_fragmented_4mib(big_server, opcode, frame_size):
    payload = KINDS[opcode](4 * MIB)
    parts = [payload[i:i + frame_size] for i in range(0, len(payload), frame_size)]
    roundtrip(big_server, b"".join(fragments(opcode, parts)), [(opcode, payload)])


@pytest.mark.parametrize("opcode,chop", cases(5, 6, CHOP_SIZES))
def test_chopped_1mib(big_server, opcode, chop):
    payload = KINDS[opcode](1 * MIB)
    wire = frame(opcode, payload)
    with connect(big_server, timeout=TIMEOUT) as c:
        c.send_chopped(wire, chop, delay=0)
        c.expect_message(opcode, payload, timeout=TIMEOUT)
        c.close_clean()


def numbered(opcode, i, size):
    """Message `i` of `size` bytes, carrying its number when there is room."""
    if opcode == OP_TEXT:
        return (f"{i:06d}:".encode() + b"m" * size)[:size]
    return (struct.pack("!I", i) + binary_payload(size))[:size]


@pytest.mark.parametrize("opcode,size", cases(7, 8, SMALL_SIZES))
def test_1000_messages_back_to_back(big_server, opcode, size):
    messages = [numbered(opcode, i, size) for i in range(1000)]
    roundtrip(big_server, b"".join(frame(opcode, m) for m in messages), [(opcode, m) for m in messages])
