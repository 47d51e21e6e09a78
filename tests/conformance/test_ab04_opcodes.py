"""Autobahn|Testsuite group 4, opcodes: the reserved non-control opcodes 3-7 (4.1.x) and
control opcodes 0xB-0xF (4.2.x) fail the connection with 1002, with or without payload; a
message complete before them is still echoed, the ping after them is never answered.

Beyond Autobahn (`test_reserved_opcode`): every reserved opcode alone, behind a valid
message in the same write, inside a fragmented message, without FIN, and with only the
first two header bytes sent (the decoder needs those two, but no more, to fail).
"""
import pytest

from wsconf import OP_CONT, OP_PING, OP_TEXT, Cases, connect, frame

HELLO = b"Hello, world!"
NON_CONTROL = [0x3, 0x4, 0x5, 0x6, 0x7]
CONTROL = [0xB, 0xC, 0xD, 0xE, 0xF]
CASES = Cases()


def alone(c, opcode, payload):
    c.send_frame(opcode, payload)
    c.expect_fail(1002)


def after_echo(c, opcode, payload, mode):
    c.send_frames([frame(OP_TEXT, HELLO), frame(opcode, payload), frame(OP_PING, b"")], mode=mode,
                  delay=0.0005)
    c.expect_message(OP_TEXT, HELLO)
    c.expect_fail(1002)


for sub, ops in ((1, NON_CONTROL), (2, CONTROL)):
    # x.1: empty payload; x.2: payload; x.3: behind a message; x.4: same with payload;
    # x.5: same with payload, sent byte-wise.
    CASES(f"4.{sub}.1")(lambda c, op=ops[0]: alone(c, op, b""))
    CASES(f"4.{sub}.2")(lambda c, op=ops[1]: alone(c, op, b"reserved opcode = 4"))
    CASES(f"4.{sub}.3")(lambda c, op=ops[2]: after_echo(c, op, b"", "burst"))
    CASES(f"4.{sub}.4")(lambda c, op=ops[3]: after_echo(c, op, b"reserved opcode", "burst"))
    CASES(f"4.{sub}.5")(lambda c, op=ops[4]: after_echo(c, op, b"reserved opcode", "octet"))


@pytest.mark.parametrize("case_id", list(CASES))
def test_case(server, case_id):
    with connect(server) as c:
        CASES[case_id](c)


def v_alone(c, op):
    c.send_frame(op, b"payload")
    c.expect_fail(1002)


def v_after_valid(c, op):
    c.send_raw(frame(OP_TEXT, b"first") + frame(op, b"") + frame(OP_TEXT, b"never") + frame(OP_PING, b""))
    c.expect_message(OP_TEXT, b"first")
    c.expect_fail(1002)


def v_inside_fragmented(c, op):
    c.send_raw(frame(OP_TEXT, b"frag", fin=False) + frame(op, b"x") + frame(OP_CONT, b"ment"))
    c.expect_fail(1002)


def v_not_fin(c, op):
    c.send_frame(op, b"x", fin=False)
    c.expect_fail(1002)


def v_first_two_bytes(c, op):
    """No mask key, no payload yet: the opcode alone is enough to fail."""
    c.send_raw(frame(op, b"x" * 1000)[:2])
    c.expect_fail(1002)


VARIANTS = {"alone": v_alone, "after-valid": v_after_valid, "inside-fragmented": v_inside_fragmented,
            "not-fin": v_not_fin, "first-two-bytes": v_first_two_bytes}


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("opcode", NON_CONTROL + CONTROL, ids=lambda op: f"op{op:#x}")
def test_reserved_opcode(server, opcode, variant):
    with connect(server) as c:
        VARIANTS[variant](c, opcode)
