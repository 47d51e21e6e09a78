"""Autobahn|Testsuite group 1, framing: text (1.1.x) and binary (1.2.x) messages at every
length-encoding boundary (7-bit, 16-bit, 64-bit), each echoed byte for byte, header
included (unmasked, FIN, minimal length), then a clean close.

Beyond Autobahn (ids with '+'): frames sent one byte per write with small delays, so every
split of the header and payload is met; a 64-bit header split byte-wise; 16 MiB messages with
limits.max_message_size raised.
"""
import time

import pytest

from wsconf import (LARGE_CONFIG, OP_BINARY, OP_TEXT, BackgroundSend, Cases, binary_payload, connect,
                    frame, text_payload)

LENGTHS = [0, 125, 126, 127, 128, 65535, 65536]
KINDS = {1: OP_TEXT, 2: OP_BINARY}


def payload_for(opcode, size):
    return text_payload(size) if opcode == OP_TEXT else binary_payload(size)


def echo_exact(c, opcode, data, send=None, timeout=10.0):
    """Sends one frame (through `send`, default one write) and expects its exact echo."""
    wire = frame(opcode, data)
    (send or c.send_raw)(wire)
    c.expect_wire(frame(opcode, data, mask=False), timeout=timeout)
    c.close_clean()


CASES = Cases()
for group, opcode in KINDS.items():
    for n, length in enumerate(LENGTHS, start=1):
        CASES(f"1.{group}.{n}")(lambda c, op=opcode, size=length: echo_exact(c, op, payload_for(op, size)))
    # 1.x.8: 65536 bytes sent in chops of 997 octets.
    CASES(f"1.{group}.8")(lambda c, op=opcode: echo_exact(
        c, op, payload_for(op, 65536), send=lambda w: c.send_chopped(w, 997, delay=0.0005)))
    # Every byte of the frame in its own write (7-bit, 16-bit length forms).
    for size in (0, 1, 125, 126):
        CASES(f"1.{group}.8+bytewise-{size}")(lambda c, op=opcode, size=size: echo_exact(
            c, op, payload_for(op, size), send=lambda w: c.send_chopped(w, 1, delay=0.001)))


@pytest.mark.parametrize("case_id", list(CASES))
def test_case(server, case_id):
    with connect(server) as c:
        CASES[case_id](c)


@pytest.mark.parametrize("opcode", KINDS.values(), ids=["1.1.7+header-bytewise", "1.2.7+header-bytewise"])
def test_64bit_header_split_bytewise(server, opcode):
    """The 14-byte header of a 65536-byte frame one byte per write, then the payload."""
    data = payload_for(opcode, 65536)
    wire = frame(opcode, data)
    with connect(server) as c:
        c.send_chopped(wire[:14], 1, delay=0.002)
        c.expect_quiet(0.05)
        c.send_raw(wire[14:])
        c.expect_wire(frame(opcode, data, mask=False))
        c.close_clean()


@pytest.mark.parametrize("opcode", KINDS.values(), ids=["1.1.9+16MiB", "1.2.9+16MiB"])
def test_16mib_message(start_server, opcode):
    server = start_server(LARGE_CONFIG)
    data = payload_for(opcode, 16 << 20)
    with connect(server, timeout=30) as c:
        started = time.monotonic()
        upload = BackgroundSend(c, frame(opcode, data))
        c.expect_wire(frame(opcode, data, mask=False), timeout=30)
        upload.join()
        assert time.monotonic() - started < 30
        c.close_clean()


@pytest.mark.parametrize("opcode", KINDS.values(), ids=["1.1.x+back-to-back", "1.2.x+back-to-back"])
def test_every_length_back_to_back(server, opcode):
    """One message of each boundary length in a single write: echoed in order, exactly."""
    sizes = LENGTHS + [1, 2, 124, 129, 255, 256, 65534, 65537]
    c = connect(server)
    with c:
        c.send_raw(b"".join(frame(opcode, payload_for(opcode, n)) for n in sizes))
        for n in sizes:
            c.expect_wire(frame(opcode, payload_for(opcode, n), mask=False))
        c.close_clean()
