"""RFC 6455 faults sent over raw sockets: each must close the offender with the exact code
(RFC 6455 §7.4.1) and then TCP, while an independent python-websockets client connected
before the fault keeps being served after it."""
import struct
import time

import pytest

from rawws import (OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT, RawWS, close_payload,
                   encode_frame)

MAX_MESSAGE = 64 * 1024
CONFIG = '[limits]\nmax_message_size = "64KiB"\n'


@pytest.fixture
def env(start_server, bystander_for):
    server = start_server(CONFIG)
    return server, bystander_for(server)


def assert_closes_with(env, data, code):
    """Sends `data` on a fresh connection, expects close `code` as the next frame then TCP
    close, and checks the bystander still echoes."""
    server, bystander = env
    with RawWS.connect(server.host, server.port) as c:
        c.send_raw(data)
        c.expect_close(code)
    bystander.assert_echoes()


def text(payload, **kw):
    return encode_frame(OP_TEXT, payload, **kw)


# ---- framing faults: 1002 ------------------------------------------------------------------

FRAMING_FAULTS = {
    "unmasked-text": text(b"hi", mask=False),
    "unmasked-ping": encode_frame(OP_PING, b"", mask=False),
    "rsv1": text(b"hi", rsv=4),
    "rsv2": text(b"hi", rsv=2),
    "rsv3": text(b"hi", rsv=1),
    "rsv1-on-ping": encode_frame(OP_PING, b"", rsv=4),
    **{f"reserved-opcode-{op:#x}": encode_frame(op, b"x") for op in (0x3, 0x7, 0xB, 0xF)},
    "fragmented-ping": encode_frame(OP_PING, b"a", fin=False),
    "fragmented-close": encode_frame(OP_CLOSE, close_payload(1000), fin=False),
    "ping-126-bytes": encode_frame(OP_PING, b"p" * 126),
    "pong-126-bytes": encode_frame(OP_PONG, b"p" * 126),
    "close-126-bytes": encode_frame(OP_CLOSE, close_payload(1000, b"r" * 124)),
    "continuation-without-start": encode_frame(OP_CONT, b"x", fin=False),
    "final-continuation-without-start": encode_frame(OP_CONT, b"x", fin=True),
    "new-message-inside-fragmented": text(b"a", fin=False) + text(b"b"),
    "length-16-not-minimal": text(b"abc", length_form=16),
    "length-64-not-minimal": text(b"abc", length_form=64),
    "length-64-msb-set": encode_frame(OP_BINARY, b"", length=1 << 63, length_form=64),
    "close-1-byte": encode_frame(OP_CLOSE, b"\x03"),
}


@pytest.mark.parametrize("data", FRAMING_FAULTS.values(), ids=FRAMING_FAULTS.keys())
def test_framing_fault_closes_1002(env, data):
    assert_closes_with(env, data, 1002)


def test_fault_after_valid_message_in_same_write(env):
    """The message before the fault is echoed, nothing after it."""
    server, bystander = env
    with RawWS.connect(server.host, server.port) as c:
        c.send_raw(text(b"ok") + text(b"bad", mask=False) + text(b"never echoed"))
        assert c.recv_message() == (OP_TEXT, b"ok")
        c.expect_close(1002)
    bystander.assert_echoes()


def test_fault_in_header_split_byte_by_byte(env):
    """A header arriving one byte per read is still checked (buffered header path)."""
    server, bystander = env
    with RawWS.connect(server.host, server.port) as c:
        for b in text(b"x", rsv=2)[:2]:
            c.send_raw(bytes([b]))
            time.sleep(0.02)
        c.expect_close(1002)
    bystander.assert_echoes()


# ---- close frames --------------------------------------------------------------------------

@pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535])
def test_invalid_close_code_closes_1002(env, code):
    assert_closes_with(env, encode_frame(OP_CLOSE, close_payload(code)), 1002)


def test_close_reason_with_invalid_utf8_closes_1007(env):
    assert_closes_with(env, encode_frame(OP_CLOSE, close_payload(1000, b"bad \xff")), 1007)


@pytest.mark.parametrize("code", [1000, 1001, 1003, 1007, 1014, 3000, 4999])
def test_clean_close_handshake_echoes_code(env, code):
    server, bystander = env
    with RawWS.connect(server.host, server.port) as c:
        c.send_close(code, "bye ✓".encode())
        f = c.expect_close(code)  # then TCP close, from the server's side
        assert f.fin and not f.masked
    bystander.assert_echoes()


def test_close_without_code_is_answered_without_code(env):
    server, bystander = env
    with RawWS.connect(server.host, server.port) as c:
        c.send_close()
        f = c.expect_close(None)
        assert f.payload == b""
    bystander.assert_echoes()


def test_data_after_close_is_not_echoed(env):
    server, bystander = env
    with RawWS.connect(server.host, server.port) as c:
        c.send_raw(encode_frame(OP_CLOSE, close_payload(1000)) + text(b"too late"))
        c.expect_close(1000)
    bystander.assert_echoes()


# ---- invalid UTF-8: 1007 -------------------------------------------------------------------

INVALID_UTF8 = {
    "ff": b"abc\xff",
    "stray-continuation": b"\x80",
    "overlong-2-byte": b"\xc0\xaf",
    "overlong-3-byte": b"\xe0\x80\xaf",
    "surrogate": b"\xed\xa0\x80",
    "above-10ffff": b"\xf4\x90\x80\x80",
    "truncated-at-end": b"abc\xe2\x82",
}


@pytest.mark.parametrize("payload", INVALID_UTF8.values(), ids=INVALID_UTF8.keys())
def test_text_with_invalid_utf8_closes_1007(env, payload):
    assert_closes_with(env, text(payload), 1007)


def test_invalid_utf8_in_second_fragment_fails_fast(env):
    """1007 must come at the bad byte, before the final fragment is ever sent."""
    server, bystander = env
    with RawWS.connect(server.host, server.port) as c:
        c.send_frame(OP_TEXT, "valid é".encode(), fin=False)
        c.send_frame(OP_CONT, b"still \xc3", fin=False)  # a lead byte: not yet an error
        c.send_frame(OP_CONT, b"\x28 bad", fin=False)    # \xc3\x28 is invalid
        c.expect_close(1007, timeout=3)
    bystander.assert_echoes()


def test_binary_is_not_utf8_checked(env):
    server, bystander = env
    with RawWS.connect(server.host, server.port) as c:
        assert c.echo(OP_BINARY, b"\xff\xfe\xc0") == (OP_BINARY, b"\xff\xfe\xc0")
    bystander.assert_echoes()


# ---- sizes: 1009 ---------------------------------------------------------------------------

def test_frame_at_limit_is_echoed(env):
    server, bystander = env
    with RawWS.connect(server.host, server.port) as c:
        payload = bytes(range(256)) * (MAX_MESSAGE // 256)
        assert c.echo(OP_BINARY, payload) == (OP_BINARY, payload)
    bystander.assert_echoes()


def test_frame_one_byte_over_limit_closes_1009(env):
    assert_closes_with(env, encode_frame(OP_BINARY, b"x" * (MAX_MESSAGE + 1)), 1009)


def test_huge_announced_frame_closes_1009_without_payload(env):
    """Only the header of a 100 MB frame is sent: the close must not wait for the payload."""
    header = encode_frame(OP_BINARY, b"", length=100_000_000)  # mask key but no payload
    server, bystander = env
    with RawWS.connect(server.host, server.port) as c:
        started = time.monotonic()
        c.send_raw(header)
        c.expect_close(1009, timeout=3)
        assert time.monotonic() - started < 2
    bystander.assert_echoes()


def test_reassembled_message_over_limit_closes_1009(env):
    server, bystander = env
    part = b"y" * (MAX_MESSAGE // 2 - 10)
    with RawWS.connect(server.host, server.port) as c:
        c.send_frame(OP_BINARY, part, fin=False)
        c.send_frame(OP_CONT, part, fin=False)  # still 20 bytes under the limit
        c.send_raw(encode_frame(OP_CONT, b"", length=21, fin=True))  # header only: over it
        c.expect_close(1009, timeout=3)
    bystander.assert_echoes()


def test_reassembled_message_at_limit_is_echoed(env):
    server, bystander = env
    parts = [b"a" * 30000, b"b" * 30000, b"c" * (MAX_MESSAGE - 60000)]
    with RawWS.connect(server.host, server.port) as c:
        c.send_frame(OP_TEXT, parts[0], fin=False)
        c.send_frame(OP_CONT, parts[1], fin=False)
        c.send_frame(OP_CONT, parts[2], fin=True)
        assert c.recv_message() == (OP_TEXT, b"".join(parts))
    bystander.assert_echoes()


def test_limit_counts_per_message_not_per_connection(env):
    server, bystander = env
    payload = b"z" * (MAX_MESSAGE * 3 // 4)
    with RawWS.connect(server.host, server.port) as c:
        for _ in range(3):  # 3 x 48 KiB over one connection, each message under 64 KiB
            assert c.echo(OP_BINARY, payload) == (OP_BINARY, payload)
    bystander.assert_echoes()


def test_close_code_from_server_is_network_order(env):
    """Guards the helper itself: 1009 is b'\\x03\\xf1' on the wire."""
    server, _ = env
    with RawWS.connect(server.host, server.port) as c:
        c.send_raw(encode_frame(OP_BINARY, b"", length=MAX_MESSAGE + 1))
        f = c.expect_close(1009)
        assert f.payload[:2] == struct.pack("!H", 1009) == b"\x03\xf1"
