"""Autobahn|Testsuite group 2, pings and pongs: every ping is answered by a pong with the
same payload, in order; an unsolicited pong is ignored; a control payload over 125 bytes
fails the connection with 1002.

Beyond Autobahn (ids with '+'): every ping payload length 0..125, pings between data
messages in one write, pings after the close frame (never answered).
"""
import os

import pytest

from rawws import wait_tcp_close
from wsconf import OP_BINARY, OP_CLOSE, OP_PING, OP_PONG, OP_TEXT, Cases, close_payload, connect, frame

CASES = Cases()


@CASES("2.1")
def _(c):
    c.send_frame(OP_PING, b"")
    c.expect_pong(b"")
    c.close_clean()


@CASES("2.2")
def _(c):
    c.send_frame(OP_PING, b"Hello, world!")
    c.expect_pong(b"Hello, world!")
    c.close_clean()


@CASES("2.3")
def _(c):
    payload = b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff"
    c.send_frame(OP_PING, payload)
    c.expect_pong(payload)
    c.close_clean()


@CASES("2.4")
def _(c):
    c.send_frame(OP_PING, b"\xfe" * 125)
    c.expect_pong(b"\xfe" * 125)
    c.close_clean()


@CASES("2.5")
def _(c):
    c.send_frame(OP_PING, b"\xfe" * 126)
    c.expect_fail(1002)


@CASES("2.6")
def _(c):
    c.send_chopped(frame(OP_PING, b"\xfe" * 125), 1, delay=0.0005)
    c.expect_pong(b"\xfe" * 125)
    c.close_clean()


@CASES("2.7")
def _(c):
    c.send_frame(OP_PONG, b"")
    c.close_clean()  # the close reply is the very next frame: nothing answered the pong


@CASES("2.8")
def _(c):
    c.send_frame(OP_PONG, b"unsolicited pong payload")
    c.close_clean()


@CASES("2.9")
def _(c):
    c.send_raw(frame(OP_PONG, b"unsolicited pong payload") + frame(OP_PING, b"ping payload"))
    c.expect_pong(b"ping payload")
    c.close_clean()


def ten_pings(c, mode):
    payloads = [f"payload-{i}".encode() for i in range(10)]
    c.send_frames([frame(OP_PING, p) for p in payloads], mode=mode, delay=0.0005)
    for p in payloads:
        c.expect_pong(p)
    c.close_clean()


CASES("2.10")(lambda c: ten_pings(c, "burst"))
CASES("2.11")(lambda c: ten_pings(c, "octet"))
CASES("2.11+frame-wise")(lambda c: ten_pings(c, "frame"))


@CASES("2.x+every-length")
def _(c):
    for n in range(126):
        payload = os.urandom(n)
        c.send_frame(OP_PING, payload)
        c.expect_pong(payload)
    c.close_clean()


@CASES("2.x+every-length-one-write")
def _(c):
    payloads = [os.urandom(n) for n in range(126)]
    c.send_raw(b"".join(frame(OP_PING, p) for p in payloads))
    for p in payloads:
        c.expect_pong(p)
    c.close_clean()


@CASES("2.x+between-messages")
def _(c):
    """text, ping, binary, ping, text in one write: answers come in the same order."""
    c.send_raw(frame(OP_TEXT, b"one") + frame(OP_PING, b"p1") + frame(OP_BINARY, b"\x00two")
               + frame(OP_PING, b"p2") + frame(OP_TEXT, b"three"))
    c.expect_message(OP_TEXT, b"one")
    c.expect_pong(b"p1")
    c.expect_message(OP_BINARY, b"\x00two")
    c.expect_pong(b"p2")
    c.expect_message(OP_TEXT, b"three")
    c.close_clean()


@CASES("2.x+ping-after-close")
def _(c):
    """A ping behind the close frame, in the same write: the close is answered, the ping never."""
    c.send_raw(frame(OP_CLOSE, close_payload(1000)) + frame(OP_PING, b"too late"))
    c.expect_close(1000)


@CASES("2.x+ping-after-close-reply")
def _(c):
    """A ping sent after the server's close reply arrived: no pong, just the end of TCP."""
    c.send_close(1000)
    c.expect_close(1000, then_tcp_close=False)
    try:
        c.send_frame(OP_PING, b"too late")
    except OSError:
        return  # already gone: nothing could answer
    rest = bytes(c.buf) + wait_tcp_close(c.sock, 5.0)
    assert rest == b"", f"bytes after the close reply: {rest[:64]!r}"


@CASES("2.x+pong-126")
def _(c):
    c.send_raw(frame(OP_TEXT, b"before") + frame(OP_PONG, b"\xfe" * 126) + frame(OP_PING, b"after"))
    c.expect_message(OP_TEXT, b"before")
    c.expect_fail(1002)


@pytest.mark.parametrize("case_id", list(CASES))
def test_case(server, case_id):
    with connect(server) as c:
        CASES[case_id](c)
