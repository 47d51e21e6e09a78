"""Autobahn|Testsuite group 3, reserved bits: with no extension negotiated, any RSV bit fails
the connection with 1002. A message complete before the offending frame is still echoed
first; nothing after it (the trailing ping) is answered.

RSV values follow Autobahn: rsv=4 is RSV1 (0x40), 2 is RSV2 (0x20), 1 is RSV3 (0x10).
Beyond Autobahn (`test_rsv_matrix`): every non-zero RSV combination on every frame kind,
each behind a valid message in the same write.
"""
import pytest

from wsconf import (OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT, Cases, close_payload,
                    connect, frame)

HELLO = b"Hello, world!"
CASES = Cases()


@CASES("3.1")
def _(c):
    c.send_frame(OP_TEXT, HELLO, rsv=1)
    c.expect_fail(1002)


def echo_then_rsv(c, rsv, mode):
    c.send_frames([frame(OP_TEXT, HELLO), frame(OP_TEXT, HELLO, rsv=rsv), frame(OP_PING, b"")],
                  mode=mode, delay=0.001)
    c.expect_message(OP_TEXT, HELLO)
    c.expect_fail(1002)


CASES("3.2")(lambda c: echo_then_rsv(c, 2, "burst"))
CASES("3.3")(lambda c: echo_then_rsv(c, 3, "frame"))
CASES("3.4")(lambda c: echo_then_rsv(c, 4, "octet"))


@CASES("3.5")
def _(c):
    c.send_frame(OP_BINARY, b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff", rsv=5)
    c.expect_fail(1002)


@CASES("3.6")
def _(c):
    c.send_frame(OP_PING, HELLO, rsv=6)
    c.expect_fail(1002)


@CASES("3.7")
def _(c):
    c.send_frame(OP_CLOSE, close_payload(1000), rsv=7)
    c.expect_fail(1002)  # not an echo of 1000: the close frame itself is malformed


@pytest.mark.parametrize("case_id", list(CASES))
def test_case(server, case_id):
    with connect(server) as c:
        CASES[case_id](c)


RSV_NAMES = {4: "RSV1", 2: "RSV2", 1: "RSV3", 6: "RSV1+2", 5: "RSV1+3", 3: "RSV2+3", 7: "RSV1+2+3"}
TARGETS = {
    "text": lambda rsv: [frame(OP_TEXT, b"bad", rsv=rsv)],
    "binary": lambda rsv: [frame(OP_BINARY, b"\xffbad", rsv=rsv)],
    "empty-text": lambda rsv: [frame(OP_TEXT, b"", rsv=rsv)],
    "ping": lambda rsv: [frame(OP_PING, b"ping", rsv=rsv)],
    "pong": lambda rsv: [frame(OP_PONG, b"pong", rsv=rsv)],
    "close": lambda rsv: [frame(OP_CLOSE, close_payload(1000), rsv=rsv)],
    # RSV on the first fragment, or only on a later continuation of a message
    "first-fragment": lambda rsv: [frame(OP_TEXT, b"frag", fin=False, rsv=rsv), frame(OP_CONT, b"ment")],
    "continuation": lambda rsv: [frame(OP_TEXT, b"frag", fin=False), frame(OP_CONT, b"ment", rsv=rsv)],
    "ping-inside-message": lambda rsv: [frame(OP_TEXT, b"frag", fin=False), frame(OP_PING, b"", rsv=rsv),
                                        frame(OP_CONT, b"ment")],
}


@pytest.mark.parametrize("rsv", RSV_NAMES, ids=RSV_NAMES.values())
@pytest.mark.parametrize("target", TARGETS)
def test_rsv_matrix(server, rsv, target):
    before = "valid before ✓".encode()
    with connect(server) as c:
        c.send_raw(b"".join([frame(OP_TEXT, before), *TARGETS[target](rsv), frame(OP_PING, b"after"),
                             frame(OP_TEXT, b"never echoed")]))
        c.expect_message(OP_TEXT, before)
        c.expect_fail(1002)


@pytest.mark.parametrize("rsv", [4, 2, 1], ids=["RSV1", "RSV2", "RSV3"])
def test_rsv_before_mask_key_and_payload(server, rsv):
    """The first two header bytes carry the fault: the close comes before the mask key and
    the payload are sent."""
    with connect(server) as c:
        c.send_raw(frame(OP_TEXT, b"ok"))
        c.expect_message(OP_TEXT, b"ok")
        c.send_raw(frame(OP_BINARY, b"x" * 300, rsv=rsv)[:2])
        c.expect_fail(1002)
