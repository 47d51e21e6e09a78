"""Shared helpers of the conformance suite: a RawWS with a fast receive buffer and strict
expectations, in the vocabulary of Autobahn|Testsuite cases.

Every expectation is exact: `expect_message` wants the very next frames to form that one
message (no control frame in between), `expect_fail` wants the very next frame to be a close
with that code followed by the end of TCP (Capstan always says why before it hangs up, which
also satisfies Autobahn's "fail or drop TCP"), `close_clean` wants the close echoed with the
same code and nothing else. Each wait is bounded.
"""
import socket
import ssl
import struct
import threading
import time

from rawws import (OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT, RawWS, TcpClosed,
                   close_payload, encode_frame)

__all__ = ["OP_BINARY", "OP_CLOSE", "OP_CONT", "OP_PING", "OP_PONG", "OP_TEXT", "Conn", "TcpClosed",
           "close_payload", "encode_frame", "connect", "frame", "fragments", "text_payload",
           "binary_payload", "BackgroundSend", "Cases", "REPLY", "QUIET", "LARGE_CONFIG"]

REPLY = 5.0   # bound for a reply that should come at once
QUIET = 0.15  # how long "nothing arrives" is watched
# Large messages (groups 1 and 9), with the default send_buffer (16 MiB): a 16 MiB echo to a
# reader that keeps up must not be refused, since the cap bounds what the server holds.
LARGE_CONFIG = '[limits]\nmax_message_size = "32MiB"\n'
OPCODE_NAMES = {OP_CONT: "continuation", OP_TEXT: "text", OP_BINARY: "binary",
                OP_CLOSE: "close", OP_PING: "ping", OP_PONG: "pong"}


def frame(opcode, payload=b"", **kwargs) -> bytes:
    """A client frame, masked (rawws.encode_frame); with mask=False, what the server sends."""
    return encode_frame(opcode, payload, **kwargs)


def fragments(opcode, parts) -> list:
    """The frames of one message split into `parts` (first opcode, then continuations)."""
    last = len(parts) - 1
    return [encode_frame(opcode if i == 0 else OP_CONT, p, fin=i == last) for i, p in enumerate(parts)]


def text_payload(size) -> bytes:
    """`size` bytes of valid UTF-8 mixing 1- to 4-byte characters (so that any split falls
    inside characters somewhere), padded with ASCII to end on a character boundary."""
    unit = "Hello-µ@ßöäüàá-κόσμε-€-𝄞-UTF-8!! ".encode()
    data = (unit * (size // len(unit) + 1))[:size]
    cut = len(data)
    while cut > 0 and (data[cut - 1] & 0xC0) == 0x80:
        cut -= 1
    if cut > 0 and data[cut - 1] >= 0xC0:  # a lead byte whose character was cut off
        cut -= 1
    return data[:cut] + b"*" * (size - cut)


def binary_payload(size) -> bytes:
    """`size` bytes cycling through all 256 values (a reordering would show)."""
    return (bytes(range(256)) * (size // 256 + 1))[:size]


class Cases(dict):
    """Case id -> function(conn), in registration order; `@CASES("5.3")` registers one."""

    def __call__(self, case_id):
        def register(fn):
            assert case_id not in self, f"case {case_id} registered twice"
            self[case_id] = fn
            return fn
        return register


class Conn(RawWS):
    """RawWS with a bytearray receive buffer (multi-MiB frames stay linear) and exact checks."""

    def _need(self, n, deadline):
        if not isinstance(self.buf, bytearray):
            self.buf = bytearray(self.buf)
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no complete frame in time")
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(1 << 20)
            except ConnectionResetError as e:
                raise TcpClosed("connection reset") from e
            if not data:
                raise TcpClosed("EOF")
            self.buf += data

    # ---- sending ----
    def send_chopped(self, data: bytes, chop=1, delay=0.001):
        """Sends `data` in separate writes of `chop` bytes with `delay` in between
        (Autobahn's chopsize; TCP_NODELAY makes each write its own segment)."""
        for i in range(0, len(data), chop):
            self.sock.sendall(data[i:i + chop])
            if delay:
                time.sleep(delay)

    def send_frames(self, frames, mode="burst", delay=0.001):
        """burst: one write; frame: one write per frame (Autobahn sync); octet: byte-wise."""
        if mode == "burst":
            self.send_raw(b"".join(frames))
        elif mode == "frame":
            for f in frames:
                self.send_raw(f)
                time.sleep(delay)
        elif mode == "octet":
            self.send_chopped(b"".join(frames), 1, delay)
        else:
            raise ValueError(mode)

    # ---- expectations ----
    def expect_wire(self, expected: bytes, timeout=REPLY):
        """The next bytes from the server are exactly `expected` (header included)."""
        try:
            self._need(len(expected), time.monotonic() + timeout)
        except (TimeoutError, TcpClosed) as e:
            raise AssertionError(f"{e}: got {len(self.buf)} of the {len(expected)} expected bytes, "
                                 f"starting {bytes(self.buf[:16])!r}") from None
        got, self.buf = self.buf[:len(expected)], self.buf[len(expected):]
        if got != expected:
            at = next(i for i, (a, b) in enumerate(zip(got, expected)) if a != b)
            raise AssertionError(f"wire bytes differ at {at}: got {bytes(got[at:at + 16])!r}, "
                                 f"expected {expected[at:at + 16]!r}")

    def next_frame(self, timeout=REPLY):
        f = self.recv_frame(timeout)
        assert not f.masked, "server frames must not be masked"
        assert f.rsv == 0, f"server frame with RSV bits {f.rsv:#o}"
        if f.opcode & 0x8:
            assert f.fin and len(f.payload) <= 125, "malformed control frame from the server"
        return f

    def expect_message(self, opcode, payload, timeout=REPLY):
        """The next frames are exactly one data message equal to (opcode, payload)."""
        got_op, got = self.read_message(timeout)
        assert got_op == opcode, f"expected a {OPCODE_NAMES[opcode]} message, got {OPCODE_NAMES.get(got_op, got_op)}"
        if got != payload:
            at = next((i for i, (a, b) in enumerate(zip(got, payload)) if a != b), min(len(got), len(payload)))
            raise AssertionError(f"echo differs: {len(got)} bytes vs {len(payload)} sent, first difference at "
                                 f"{at}: got {bytes(got[at:at + 16])!r}, sent {payload[at:at + 16]!r}")

    def read_message(self, timeout=REPLY, frames_out=None):
        """Reads one data message strictly: first frame text/binary, then continuations,
        no control frame in between. Returns (opcode, payload)."""
        deadline = time.monotonic() + timeout
        parts, opcode = [], None
        while True:
            f = self.next_frame(max(deadline - time.monotonic(), 0.01))
            if frames_out is not None:
                frames_out.append((f.opcode, f.fin, len(f.payload)))
            if f.opcode == OP_CLOSE:
                raise AssertionError(f"close {f.close_code} {bytes(f.payload[2:])!r} instead of a message")
            if opcode is None:
                assert f.opcode in (OP_TEXT, OP_BINARY), f"message starts with opcode {f.opcode:#x}"
                opcode = f.opcode
            else:
                assert f.opcode == OP_CONT, f"opcode {f.opcode:#x} inside a fragmented message"
            parts.append(f.payload)
            if f.fin:
                return opcode, b"".join(parts)

    def expect_pong(self, payload, timeout=REPLY):
        f = self.next_frame(timeout)
        assert f.opcode == OP_PONG, f"expected a pong, got opcode {f.opcode:#x} {bytes(f.payload[:32])!r}"
        assert f.payload == payload, f"pong payload {bytes(f.payload)!r} != ping payload {payload!r}"

    def expect_quiet(self, wait=QUIET):
        """Nothing arrives within `wait` and the connection stays open."""
        try:
            f = self.next_frame(wait)
        except TimeoutError:
            return
        except TcpClosed:
            raise AssertionError("the server closed TCP where it had to wait") from None
        raise AssertionError(f"unexpected frame: opcode {f.opcode:#x} code {f.close_code} {bytes(f.payload[:40])!r}")

    def expect_fail(self, code, timeout=REPLY):
        """The very next frame is a close with `code` (a valid UTF-8 reason allowed), then the
        server ends TCP."""
        f = self.expect_close(code, timeout=timeout)
        bytes(f.payload[2:]).decode("utf-8")  # the reason must be valid UTF-8 itself
        return f

    def close_clean(self, code=1000, reason=b"", timeout=REPLY):
        """Client-initiated close: the server echoes exactly the code (no reason) then ends TCP."""
        self.send_close(code, reason)
        f = self.expect_close(code, timeout=timeout)
        assert f.payload == struct.pack("!H", code), f"close reply {bytes(f.payload)!r}"


def connect(server, timeout=REPLY) -> Conn:
    return Conn.connect(server.host, server.port, "/echo", timeout=timeout)


class BackgroundSend:
    """sendall() on a thread, so a large upload and the echo download overlap."""

    def __init__(self, conn: Conn, data: bytes):
        self.error = None
        if isinstance(conn.sock, ssl.SSLSocket):
            # One OpenSSL object must not be used by two threads at once (Python's ssl does not
            # lock it): reading the echo while a thread writes broke the client's TLS state now
            # and then (the server then saw the client end the stream). Over TLS the upload goes
            # first, whole; the server buffers the echo (send_buffer) meanwhile.
            self._thread = threading.Thread(target=lambda: None)
            self._thread.start()
            self._run(conn.sock, data)
            return
        self._thread = threading.Thread(target=self._run, args=(conn.sock, data), daemon=True)
        self._thread.start()

    def _run(self, sock, data):
        try:
            sock.sendall(data)
        except (OSError, socket.timeout) as e:
            self.error = e

    def join(self, timeout=REPLY):
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "upload still running"
        if self.error:
            raise self.error
