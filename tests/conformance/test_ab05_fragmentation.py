"""Autobahn|Testsuite group 5, fragmentation: control frames cannot be fragmented (1002); a
message in fragments is echoed whole; pings between fragments are answered at once, before
the message ends; a continuation with nothing to continue, or a new data frame inside an
unfinished message, fails with 1002 (after echoing what was complete before it).

Autobahn's 1-second waits are 50 ms here. Chops: burst = one write, frame = a write per frame
(Autobahn "sync"), octet = a write per byte.
Beyond Autobahn (ids with '+'): 2..256 fragments of text (split inside characters) and
binary, zero-length fragments in every position, a ping or pong between every fragment, and
fragments with waits during which the server must stay silent.
"""
import pytest

from wsconf import (OP_BINARY, OP_CONT, OP_PING, OP_PONG, OP_TEXT, Cases, binary_payload, connect,
                    fragments, frame, text_payload)

HELLO = b"Hello, world!"
F1, F2 = b"fragment1", b"fragment2"
PAUSE = 0.05
CASES = Cases()


@CASES("5.1")
def _(c):
    c.send_raw(frame(OP_PING, F1, fin=False) + frame(OP_CONT, F2))
    c.expect_fail(1002)


@CASES("5.2")
def _(c):
    c.send_raw(frame(OP_PONG, F1, fin=False) + frame(OP_CONT, F2))
    c.expect_fail(1002)


def two_fragments(c, mode):
    c.send_frames(fragments(OP_TEXT, [F1, F2]), mode=mode, delay=0.001)
    c.expect_message(OP_TEXT, F1 + F2)
    c.close_clean()


CASES("5.3")(lambda c: two_fragments(c, "burst"))
CASES("5.4")(lambda c: two_fragments(c, "frame"))
CASES("5.5")(lambda c: two_fragments(c, "octet"))


def ping_between(c, mode):
    c.send_frames([frame(OP_TEXT, F1, fin=False), frame(OP_PING, b"ping payload"), frame(OP_CONT, F2)],
                  mode=mode, delay=0.001)
    c.expect_pong(b"ping payload")
    c.expect_message(OP_TEXT, F1 + F2)
    c.close_clean()


CASES("5.6")(lambda c: ping_between(c, "burst"))
CASES("5.7")(lambda c: ping_between(c, "frame"))
CASES("5.8")(lambda c: ping_between(c, "octet"))


def nothing_to_continue(c, fin, mode):
    c.send_frames([frame(OP_CONT, b"non-continuation payload", fin=fin), frame(OP_TEXT, HELLO)],
                  mode=mode, delay=0.0005)
    c.expect_fail(1002)


for n, (fin, mode) in enumerate([(True, "burst"), (True, "frame"), (True, "octet"),
                                 (False, "burst"), (False, "frame"), (False, "octet")], start=9):
    CASES(f"5.{n}")(lambda c, fin=fin, mode=mode: nothing_to_continue(c, fin, mode))


@CASES("5.15")
def _(c):
    c.send_raw(b"".join(fragments(OP_TEXT, [F1, F2])) + frame(OP_CONT, b"fragment3", fin=False)
               + frame(OP_TEXT, b"fragment4"))
    c.expect_message(OP_TEXT, F1 + F2)
    c.expect_fail(1002)


def repeated_twice(c, fin):
    once = [frame(OP_CONT, F1, fin=fin), frame(OP_TEXT, F2, fin=False), frame(OP_CONT, b"fragment3")]
    c.send_raw(b"".join(once * 2))
    c.expect_fail(1002)


CASES("5.16")(lambda c: repeated_twice(c, False))
CASES("5.17")(lambda c: repeated_twice(c, True))


@CASES("5.18")
def _(c):
    c.send_raw(frame(OP_TEXT, F1, fin=False) + frame(OP_TEXT, F2))
    c.expect_fail(1002)


def pings_inside(c, mode):
    parts = [f"fragment{i}".encode() for i in range(1, 6)]
    c.send_frames([frame(OP_TEXT, parts[0], fin=False), frame(OP_CONT, parts[1], fin=False),
                   frame(OP_PING, b"pongme 1!")], mode=mode)
    c.expect_pong(b"pongme 1!")  # answered while the message is still unfinished
    c.expect_quiet(PAUSE)
    c.send_frames([frame(OP_CONT, parts[2], fin=False), frame(OP_CONT, parts[3], fin=False),
                   frame(OP_PING, b"pongme 2!"), frame(OP_CONT, parts[4])], mode=mode)
    c.expect_pong(b"pongme 2!")
    c.expect_message(OP_TEXT, b"".join(parts))
    c.close_clean()


CASES("5.19")(lambda c: pings_inside(c, "burst"))
CASES("5.20")(lambda c: pings_inside(c, "frame"))


# ---- beyond Autobahn -----------------------------------------------------------------------

def split(data, count):
    """`count` pieces of near-equal size (text: cuts fall inside characters)."""
    step, extra = divmod(len(data), count)
    pieces, pos = [], 0
    for i in range(count):
        size = step + (1 if i < extra else 0)
        pieces.append(data[pos:pos + size])
        pos += size
    return pieces


for opcode, make in ((OP_TEXT, text_payload), (OP_BINARY, binary_payload)):
    kind = "text" if opcode == OP_TEXT else "binary"
    for count in (2, 3, 4, 7, 16, 64, 256):
        for mode in ("burst", "frame") if count <= 16 else ("burst",):
            def many(c, op=opcode, data=make(1000), count=count, mode=mode):
                c.send_frames(fragments(op, split(data, count)), mode=mode, delay=0.0005)
                c.expect_message(op, data)
                c.close_clean()
            CASES(f"5.x+{kind}-{count}-fragments-{mode}")(many)

ZERO_LENGTH = {
    "first": [b"", b"abc", b"def"], "middle": [b"abc", b"", b"def"], "last": [b"abc", b"def", b""],
    "all": [b"", b"", b""], "many": [b""] * 50 + [b"x"] + [b""] * 50, "two-empty": [b"", b""],
}
for where, parts in ZERO_LENGTH.items():
    for opcode in (OP_TEXT, OP_BINARY):
        def zero(c, op=opcode, parts=parts):
            c.send_raw(b"".join(fragments(op, parts)))
            c.expect_message(op, b"".join(parts))
            c.close_clean()
        CASES(f"5.x+zero-length-{where}-{'text' if opcode == OP_TEXT else 'binary'}")(zero)


@CASES("5.x+ping-between-every-fragment")
def _(c):
    parts = split(text_payload(200), 10)
    frames = []
    for i, part in enumerate(parts):
        frames.append(frame(OP_TEXT if i == 0 else OP_CONT, part, fin=i == 9))
        if i < 9:
            frames.append(frame(OP_PING, f"ping {i}".encode()))
    c.send_raw(b"".join(frames))
    for i in range(9):
        c.expect_pong(f"ping {i}".encode())
    c.expect_message(OP_TEXT, b"".join(parts))
    c.close_clean()


@CASES("5.x+pong-between-every-fragment")
def _(c):
    parts = split(binary_payload(200), 10)
    frames = []
    for i, part in enumerate(parts):
        frames.append(frame(OP_BINARY if i == 0 else OP_CONT, part, fin=i == 9))
        frames.append(frame(OP_PONG, b"unsolicited"))
    c.send_raw(b"".join(frames))
    c.expect_message(OP_BINARY, b"".join(parts))
    c.close_clean()


@CASES("5.x+silent-until-last-fragment")
def _(c):
    parts = split(text_payload(100), 4)
    frames = fragments(OP_TEXT, parts)
    for f in frames[:-1]:
        c.send_raw(f)
        c.expect_quiet(PAUSE)
    c.send_raw(frames[-1])
    c.expect_message(OP_TEXT, b"".join(parts))
    c.close_clean()


@CASES("5.x+messages-after-fragmented")
def _(c):
    """A fragmented message, then whole ones, in one write: decoder state resets between."""
    c.send_raw(b"".join(fragments(OP_TEXT, [b"a", b"b", b"c"])) + frame(OP_BINARY, b"\x00d")
               + b"".join(fragments(OP_BINARY, [b"\xff", b"e"])) + frame(OP_TEXT, b"f"))
    c.expect_message(OP_TEXT, b"abc")
    c.expect_message(OP_BINARY, b"\x00d")
    c.expect_message(OP_BINARY, b"\xffe")
    c.expect_message(OP_TEXT, b"f")
    c.close_clean()


@CASES("5.x+binary-after-unfinished-text")
def _(c):
    c.send_raw(frame(OP_TEXT, F1, fin=False) + frame(OP_BINARY, F2))
    c.expect_fail(1002)


@CASES("5.x+continuation-after-finished")
def _(c):
    c.send_raw(b"".join(fragments(OP_TEXT, [F1, F2])) + frame(OP_CONT, b"fragment3"))
    c.expect_message(OP_TEXT, F1 + F2)
    c.expect_fail(1002)


@pytest.mark.parametrize("case_id", list(CASES))
def test_case(server, case_id):
    with connect(server) as c:
        CASES[case_id](c)
