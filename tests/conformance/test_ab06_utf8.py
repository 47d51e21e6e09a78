"""Autobahn|Testsuite group 6, UTF-8 in text messages: valid text is echoed exactly, invalid
text fails the connection with 1007, and it fails fast, at the first byte that cannot start
or continue well-formed UTF-8, without waiting for the end of the message.

6.1-6.4 are Autobahn's own cases (6.4: fail-fast across fragments and across chops of one
frame, Autobahn's 1-second waits shortened). 6.5-6.23 are the sequence tables of
cases_utf8.py (Markus Kuhn's stress test), each sent
  test_case                 as one frame (Autobahn's variant),
  test_fragment_per_byte    as one fragment per byte,
  test_split_at_every_byte  as two fragments, for every split position (valid: all on one
                            connection, so validator state must also reset per message),
  test_fail_fast            (invalid only) up to and including the first bad byte, as an
                            unfinished fragment, as an unfinished frame and behind a valid
                            fragment; the rest is never sent. Sequences invalid only because
                            they end inside a character must not fail before the end.
"""
import pytest

from cases_utf8 import CASES as TABLE, KOSME, fail_index, is_valid
from wsconf import OP_CONT, OP_TEXT, Cases, connect, fragments, frame

BY_ID = {case_id: (valid, payload) for case_id, valid, payload in TABLE}
INVALID_IDS = [case_id for case_id, valid, _ in TABLE if not valid]
HELLO = "Hello-µ@ßöäüàá-UTF-8!!".encode()
EDITED = b"edited"
PAUSE = 0.1
CASES = Cases()


def outcome(c, valid, payload):
    if valid:
        c.expect_message(OP_TEXT, payload)
        c.close_clean()
    else:
        c.expect_fail(1007)


def per_byte(payload):
    parts = [payload[i:i + 1] for i in range(len(payload))]
    return parts + [b""] * (2 - len(parts))  # always at least two fragments


CASES("6.1.1")(lambda c: (c.send_frame(OP_TEXT, b""), outcome(c, True, b"")))
CASES("6.1.2")(lambda c: (c.send_raw(b"".join(fragments(OP_TEXT, [b"", b"", b""]))), outcome(c, True, b"")))
CASES("6.1.3")(lambda c: (c.send_raw(b"".join(fragments(OP_TEXT, [b"", b"middle frame payload", b""]))),
                          outcome(c, True, b"middle frame payload")))
CASES("6.2.1")(lambda c: (c.send_frame(OP_TEXT, HELLO), outcome(c, True, HELLO)))
CASES("6.2.2")(lambda c: (c.send_raw(b"".join(fragments(OP_TEXT, [HELLO[:12], HELLO[12:]]))),
                          outcome(c, True, HELLO)))
CASES("6.2.3")(lambda c: (c.send_raw(b"".join(fragments(OP_TEXT, per_byte(HELLO)))), outcome(c, True, HELLO)))
CASES("6.2.4")(lambda c: (c.send_raw(b"".join(fragments(OP_TEXT, per_byte(KOSME)))), outcome(c, True, KOSME)))
BAD_63 = KOSME + b"\xed\xa0\x80" + EDITED
CASES("6.3.1")(lambda c: (c.send_frame(OP_TEXT, BAD_63), outcome(c, False, BAD_63)))
CASES("6.3.2")(lambda c: (c.send_raw(b"".join(fragments(OP_TEXT, per_byte(BAD_63)))), outcome(c, False, BAD_63)))

BAD_64 = KOSME + b"\xf4\x90\x80\x80" + EDITED  # invalid exactly at byte 12 (\x90)


def fail_fast_fragments(c, first, second):
    c.send_frame(OP_TEXT, first, fin=False)
    c.expect_quiet(PAUSE)
    c.send_frame(OP_CONT, second, fin=False)
    c.expect_fail(1007)  # the final fragment (EDITED) is never sent


def fail_fast_chops(c, cut, end):
    wire = frame(OP_TEXT, BAD_64)
    header = len(wire) - len(BAD_64)
    c.send_raw(wire[:header + cut])
    c.expect_quiet(PAUSE)
    c.send_raw(wire[header + cut:header + end])
    c.expect_fail(1007)  # the frame is never completed


CASES("6.4.1")(lambda c: fail_fast_fragments(c, KOSME, b"\xf4\x90\x80\x80"))
CASES("6.4.2")(lambda c: fail_fast_fragments(c, BAD_64[:12], BAD_64[12:13]))
CASES("6.4.3")(lambda c: fail_fast_chops(c, 11, 15))
CASES("6.4.4")(lambda c: fail_fast_chops(c, 12, 13))

for _id, (_valid, _payload) in BY_ID.items():
    CASES(_id)(lambda c, v=_valid, p=_payload: (c.send_frame(OP_TEXT, p), outcome(c, v, p)))


@pytest.mark.parametrize("case_id", list(CASES))
def test_case(server, case_id):
    with connect(server) as c:
        CASES[case_id](c)


@pytest.mark.parametrize("case_id", list(BY_ID))
def test_fragment_per_byte(server, case_id):
    valid, payload = BY_ID[case_id]
    with connect(server) as c:
        c.send_raw(b"".join(fragments(OP_TEXT, per_byte(payload))))
        outcome(c, valid, payload)


def two_fragments(payload, k):
    return b"".join(fragments(OP_TEXT, [payload[:k], payload[k:]]))


@pytest.mark.parametrize("case_id", list(BY_ID))
def test_split_at_every_byte(server, case_id):
    valid, payload = BY_ID[case_id]
    positions = range(len(payload) + 1)  # 0 and len: an empty first / last fragment
    if valid:
        with connect(server) as c:
            c.send_raw(b"".join(two_fragments(payload, k) for k in positions))
            for k in positions:
                c.expect_message(OP_TEXT, payload)
            c.close_clean()
        return
    for k in positions:
        with connect(server) as c:
            c.send_raw(two_fragments(payload, k))
            c.expect_fail(1007)


def completion(prefix):
    """Continuation bytes that finish the character `prefix` ends inside."""
    tail = b""
    while fail_index(prefix + tail) == len(prefix + tail):
        tail += next(bytes([b]) for b in range(0x80, 0xC0) if fail_index(prefix + tail + bytes([b])) != len(prefix + tail))
    assert is_valid(prefix + tail)
    return tail


@pytest.mark.parametrize("case_id", INVALID_IDS)
def test_fail_fast(server, case_id):
    _, payload = BY_ID[case_id]
    bad = fail_index(payload)
    if bad == len(payload):
        # A valid beginning that ends inside a character: only the end of the message is bad.
        with connect(server) as c:
            c.send_frame(OP_TEXT, payload, fin=False)
            c.expect_quiet(PAUSE)
            c.send_frame(OP_CONT, b"", fin=True)
            c.expect_fail(1007)
        with connect(server) as c:  # and the next fragment may still complete the character
            c.send_frame(OP_TEXT, payload, fin=False)
            c.send_frame(OP_CONT, completion(payload), fin=True)
            c.expect_message(OP_TEXT, payload + completion(payload))
            c.close_clean()
        return
    upto = payload[:bad + 1]
    with connect(server) as c:  # an unfinished first fragment
        c.send_frame(OP_TEXT, upto, fin=False)
        c.expect_fail(1007)
    with connect(server) as c:  # an unfinished frame announcing 64 more bytes
        wire = frame(OP_TEXT, payload + b"x" * 64)
        header = len(wire) - len(payload) - 64
        c.send_raw(wire[:header + bad + 1])
        c.expect_fail(1007)
    with connect(server) as c:  # behind a valid fragment, in an unfinished continuation
        c.send_raw(frame(OP_TEXT, KOSME, fin=False) + frame(OP_CONT, upto, fin=False))
        c.expect_fail(1007)


def test_table_sanity():
    """The tables agree with Python's strict decoder, and fail_index with Autobahn's 6.4."""
    assert len(TABLE) == 132 and len(INVALID_IDS) == 69
    for case_id, valid, payload in TABLE:
        try:
            payload.decode("utf-8")
            decodes = True
        except UnicodeDecodeError:
            decodes = False
        assert decodes == valid == is_valid(payload), case_id
    assert fail_index(BAD_64) == 12 and fail_index(BAD_63) == 12
    assert fail_index(b"\xe0\x80") == 1 and fail_index(b"\xed\xa0") == 1 and fail_index(b"\xf0\x90") == 2
