"""Autobahn|Testsuite group 7, the close handshake: the server echoes a valid close code (with
no reason), answers an empty close with an empty close, fails with 1002 on a malformed close
(1-byte payload, payload over 125, an invalid code) and with 1007 on a reason that is not
UTF-8; anything after the peer's close is ignored; then the server ends TCP.

7.13 ("large codes") is informational in Autobahn; Capstan treats 5000 and 65535 as invalid
codes (1002). Beyond Autobahn (ids with '+'): codes 1012-1014 and 1015, reasons with
multi-byte and invalid UTF-8 from the 6.x tables, data and pings after the close reply.
"""
import struct

import pytest

from cases_utf8 import KOSME
from rawws import wait_tcp_close
from wsconf import (OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_TEXT, Cases, close_payload, connect,
                    frame, text_payload)

HELLO = b"Hello World!"
CLOSE_1000 = frame(OP_CLOSE, close_payload(1000))
CASES = Cases()


@CASES("7.1.1")
def _(c):
    c.send_raw(frame(OP_TEXT, HELLO) + CLOSE_1000)
    c.expect_message(OP_TEXT, HELLO)
    c.expect_close(1000)


@CASES("7.1.2")
def _(c):
    c.send_raw(CLOSE_1000 + CLOSE_1000)
    c.expect_close(1000)  # one reply, then EOF: the second close is ignored


@CASES("7.1.3")
def _(c):
    c.send_raw(CLOSE_1000 + frame(OP_PING, HELLO))
    c.expect_close(1000)


@CASES("7.1.4")
def _(c):
    c.send_raw(CLOSE_1000 + frame(OP_TEXT, HELLO))
    c.expect_close(1000)


@CASES("7.1.5")
def _(c):
    c.send_raw(frame(OP_TEXT, b"fragment1", fin=False) + CLOSE_1000 + frame(OP_CONT, b"fragment2"))
    c.expect_close(1000)


@CASES("7.1.6")
def _(c):
    big = (b"BAsd7&jh23" * (256 * 1024 // 10 + 1))[:256 * 1024]
    c.send_raw(frame(OP_TEXT, big) + frame(OP_TEXT, HELLO) + CLOSE_1000 + frame(OP_PING))
    c.expect_message(OP_TEXT, big)
    c.expect_message(OP_TEXT, HELLO)
    c.expect_close(1000)


@CASES("7.3.1")
def _(c):
    c.send_frame(OP_CLOSE, b"")
    f = c.expect_close(None)
    assert f.payload == b"", f"an empty close must be answered with an empty close: {bytes(f.payload)!r}"


CASES("7.3.2")(lambda c: (c.send_frame(OP_CLOSE, b"a"), c.expect_fail(1002)))
CASES("7.3.3")(lambda c: c.close_clean(1000))
CASES("7.3.4")(lambda c: c.close_clean(1000, b"Hello World!"))
CASES("7.3.5")(lambda c: c.close_clean(1000, b"*" * 123))
CASES("7.3.6")(lambda c: (c.send_close(1000, b"*" * 124), c.expect_fail(1002)))
CASES("7.5.1")(lambda c: (c.send_close(1000, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited"),
                          c.expect_fail(1007)))

VALID_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999]
for n, code in enumerate(VALID_CODES, start=1):
    CASES(f"7.7.{n}")(lambda c, code=code: c.close_clean(code))
for code in (1012, 1013, 1014):
    CASES(f"7.7.x+{code}")(lambda c, code=code: c.close_clean(code))

INVALID_CODES = [0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999]
for n, code in enumerate(INVALID_CODES, start=1):
    CASES(f"7.9.{n}")(lambda c, code=code: (c.send_close(code), c.expect_fail(1002)))
CASES("7.9.x+1015")(lambda c: (c.send_close(1015), c.expect_fail(1002)))
CASES("7.13.1")(lambda c: (c.send_close(5000), c.expect_fail(1002)))
CASES("7.13.2")(lambda c: (c.send_close(65535), c.expect_fail(1002)))


@pytest.mark.parametrize("case_id", list(CASES))
def test_case(server, case_id):
    with connect(server) as c:
        CASES[case_id](c)


# ---- beyond Autobahn -----------------------------------------------------------------------

GOOD_REASONS = {
    "multibyte-123": KOSME * 11 + b"ab",  # the largest reason: 123 bytes
    "4-byte-chars": "𝄞€µ".encode() * 13,
    "noncharacters": b"\xef\xbf\xbe\xef\xbf\xbf\xf4\x8f\xbf\xbf",
    "nul": b"\x00",
}
BAD_REASONS = {
    "ff": b"bye \xff", "truncated-at-end": b"bye \xe2\x82", "lone-lead": b"\xc3 ", "surrogate": b"\xed\xa0\x80",
    "overlong-slash": b"\xc0\xaf", "above-10ffff": b"\xf4\x90\x80\x80", "stray-continuation": b"\x80",
    "5-byte-form": b"\xf8\x88\x80\x80\x80",
}


@pytest.mark.parametrize("reason", GOOD_REASONS.values(), ids=[f"7.5.x+valid-{k}" for k in GOOD_REASONS])
def test_close_reason_valid(server, reason):
    with connect(server) as c:
        c.close_clean(4000, reason)


@pytest.mark.parametrize("reason", BAD_REASONS.values(), ids=[f"7.5.x+{k}" for k in BAD_REASONS])
def test_close_reason_invalid_utf8(server, reason):
    with connect(server) as c:
        c.send_close(1000, reason)
        c.expect_fail(1007)


@pytest.mark.parametrize("payload_size", [124, 125])
def test_close_payload_at_control_limit(server, payload_size):
    """7.3.5 seen from the frame side: 125 payload bytes is the last valid close frame,
    with the 16-bit length form 126 already refused (7.3.6)."""
    with connect(server) as c:
        c.close_clean(1000, b"r" * (payload_size - 2))


@pytest.mark.parametrize("after", ["text", "binary", "ping", "close", "garbage"])
def test_anything_after_close_reply_is_ignored(server, after):
    """The client keeps talking after the server's close reply: no answer, only EOF."""
    extra = {"text": frame(OP_TEXT, HELLO), "binary": frame(OP_BINARY, b"\x00"), "ping": frame(OP_PING, b"?"),
             "close": CLOSE_1000, "garbage": b"\xff" * 32}[after]
    with connect(server) as c:
        c.send_close(1000)
        f = c.expect_close(1000, then_tcp_close=False)
        assert f.payload == struct.pack("!H", 1000)
        try:
            c.send_raw(extra)
        except OSError:
            return
        rest = bytes(c.buf) + wait_tcp_close(c.sock, 5.0)
        assert rest == b"", f"bytes after the close reply: {rest[:64]!r}"


@pytest.mark.parametrize("code", [1000, 1001, 4999])
def test_close_inside_many_messages(server, code):
    """Messages, the close, more messages, in one write: only those before are echoed."""
    before = [text_payload(n) for n in (0, 1, 200, 70000)]
    with connect(server) as c:
        c.send_raw(b"".join(frame(OP_TEXT, p) for p in before) + frame(OP_CLOSE, close_payload(code, b"bye"))
                   + b"".join(frame(OP_TEXT, p) for p in before))
        for p in before:
            c.expect_message(OP_TEXT, p)
        f = c.expect_close(code)
        assert f.payload == struct.pack("!H", code)
