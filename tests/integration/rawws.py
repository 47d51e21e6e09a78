"""A small raw WebSocket client over a plain socket, for bytes no real client would send.

    with RawWS.connect(host, port, "/echo") as c:
        c.send_frame(OP_TEXT, b"hi", mask=False)     # an invalid, unmasked frame
        c.expect_close(1002)                          # close frame with 1002, then TCP close

Plus raw HTTP helpers: `http_exchange` sends bytes and parses the response head and body.
A socket to a TLS listener (tlsenv.is_tls_port: the suites' TLS mode) is wrapped with TLS at
connect, so the same bytes go inside TLS records.
"""
import base64
import hashlib
import os
import socket
import ssl
import struct
import time
from dataclasses import dataclass, field

import tlsenv

OP_CONT, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class TcpClosed(Exception):
    """The peer closed the TCP connection (EOF or reset) before the expected data came."""


@dataclass
class Frame:
    fin: bool
    rsv: int  # the three RSV bits, as 0..7
    opcode: int
    payload: bytes
    masked: bool

    @property
    def close_code(self):
        return struct.unpack("!H", self.payload[:2])[0] if len(self.payload) >= 2 else None


@dataclass
class HttpResponse:
    status: int
    reason: str
    headers: dict = field(default_factory=dict)  # lower-case names
    body: bytes = b""


def encode_frame(opcode, payload=b"", fin=True, rsv=0, mask=True, mask_key=None, length=None,
                 length_form=None):
    """Builds a client frame. `length` overrides the announced payload length;
    `length_form` forces 7, 16 or 64 for the length encoding (even when not minimal)."""
    if isinstance(payload, str):
        payload = payload.encode()
    n = len(payload) if length is None else length
    form = length_form or (7 if n < 126 else 16 if n <= 0xFFFF else 64)
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    mask_bit = 0x80 if mask else 0
    if form == 7:
        head += bytes([mask_bit | n])
    elif form == 16:
        head += bytes([mask_bit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([mask_bit | 127]) + struct.pack("!Q", n)
    if not mask:
        return head + payload
    key = mask_key if mask_key is not None else os.urandom(4)
    return head + key + apply_mask(payload, key)


def apply_mask(data, key):
    if not data:
        return b""
    repeated = (key * (len(data) // 4 + 1))[:len(data)]
    return (int.from_bytes(data, "big") ^ int.from_bytes(repeated, "big")).to_bytes(len(data), "big")


def close_payload(code, reason=b""):
    return struct.pack("!H", code) + reason


def make_key():
    return base64.b64encode(os.urandom(16)).decode()


def accept_for(key):
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


def upgrade_request(path="/echo", host="127.0.0.1", key=None, extra_headers=(), version="13"):
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", "Upgrade: websocket", "Connection: Upgrade",
             f"Sec-WebSocket-Key: {key or make_key()}", f"Sec-WebSocket-Version: {version}",
             *extra_headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def open_socket(host, port, timeout=5.0, rcvbuf=None, source=None, tls=None):
    """`source`: a local address to connect from (127.0.0.2, ...: another client address).
    `tls`: wrap with TLS (None: when `port` is a registered TLS listener's)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if source is not None:
        s.bind((source, 0))
    if rcvbuf is not None:  # before connect, so the advertised window stays small
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.settimeout(timeout)
    s.connect((host, port))
    if tls or (tls is None and tlsenv.is_tls_port(port)):
        try:
            return tlsenv.wrap_client(s, host)
        except BaseException:
            s.close()
            raise
    return s


def parse_head(head: bytes) -> HttpResponse:
    lines = head.decode("latin-1").split("\r\n")
    version, status, reason = (lines[0].split(" ", 2) + [""])[:3]
    assert version == "HTTP/1.1", f"bad status line {lines[0]!r}"
    headers = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return HttpResponse(int(status), reason, headers)


def read_http_response(sock, buf=b"", timeout=5.0):
    """Reads one response (head + Content-Length body); returns (response, leftover bytes)."""
    deadline = time.monotonic() + timeout
    while b"\r\n\r\n" not in buf:
        buf += _recv_some(sock, deadline)
    head, buf = buf.split(b"\r\n\r\n", 1)
    resp = parse_head(head)
    length = int(resp.headers.get("content-length", "0"))
    while len(buf) < length:
        buf += _recv_some(sock, deadline)
    resp.body, buf = buf[:length], buf[length:]
    return resp, buf


def _recv_some(sock, deadline):
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("no complete response in time")
    sock.settimeout(left)
    try:
        data = sock.recv(65536)
    except ConnectionResetError as e:
        raise TcpClosed("connection reset") from e
    except ssl.SSLError as e:  # over TLS: the end of the stream without a close_notify
        if isinstance(e, (ssl.SSLWantReadError, ssl.SSLWantWriteError)):
            raise
        raise TcpClosed(f"TLS: {e}") from e
    if not data:
        raise TcpClosed("EOF")
    return data


def wait_tcp_close(sock, timeout=5.0):
    """Reads and discards until EOF or reset; returns the discarded bytes. Raises
    TimeoutError if the connection stays open."""
    deadline = time.monotonic() + timeout
    junk = b""
    while True:
        try:
            junk += _recv_some(sock, deadline)
        except TcpClosed:
            return junk
        except (socket.timeout, TimeoutError):
            raise TimeoutError(f"TCP connection still open after {timeout}s") from None


def http_exchange(host, port, request: bytes, timeout=5.0):
    """Sends raw request bytes, returns the parsed response; the server must then close."""
    with open_socket(host, port, timeout) as s:
        s.sendall(request)
        resp, _ = read_http_response(s, timeout=timeout)
        return resp


def is_tcp_closed(sock, wait=0.0):
    """True when the peer has closed (EOF/reset) within `wait` seconds."""
    sock.settimeout(wait if wait > 0 else 0.001)
    if isinstance(sock, ssl.SSLSocket):
        # No MSG_PEEK over TLS (and the socket below may hold records that are no data, a
        # session ticket, a close_notify): read one byte, which is lost if data came.
        try:
            return sock.recv(1) == b""
        except (socket.timeout, BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return False
        except (ConnectionError, ssl.SSLError):
            return True
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except (socket.timeout, BlockingIOError):
        return False
    except ConnectionError:
        return True


class RawWS:
    def __init__(self, sock, leftover=b"", response=None):
        self.sock = sock
        self.buf = leftover
        self.response = response  # the 101

    @classmethod
    def connect(cls, host, port, path="/echo", extra_headers=(), timeout=5.0, rcvbuf=None, source=None):
        sock = open_socket(host, port, timeout, rcvbuf, source)
        try:
            key = make_key()
            sock.sendall(upgrade_request(path, f"{host}:{port}", key, extra_headers))
            resp, leftover = read_http_response(sock, timeout=timeout)
            assert resp.status == 101, f"expected 101, got {resp.status} {resp.reason}: {resp.body!r}"
            assert resp.headers.get("sec-websocket-accept") == accept_for(key)
        except BaseException:
            sock.close()
            raise
        return cls(sock, leftover, resp)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.sock.close()

    # ---- sending ----
    def send_raw(self, data: bytes):
        self.sock.sendall(data)

    def send_frame(self, opcode, payload=b"", **kwargs):
        self.send_raw(encode_frame(opcode, payload, **kwargs))

    def send_close(self, code=None, reason=b""):
        self.send_frame(OP_CLOSE, b"" if code is None else close_payload(code, reason))

    # ---- receiving ----
    def _need(self, n, deadline):
        while len(self.buf) < n:
            self.buf += _recv_some(self.sock, deadline)

    def recv_frame(self, timeout=5.0) -> Frame:
        """Next frame from the server; TcpClosed on EOF/reset, TimeoutError when none comes."""
        deadline = time.monotonic() + timeout
        try:
            self._need(2, deadline)
            b0, b1 = self.buf[0], self.buf[1]
            n, pos = b1 & 0x7F, 2
            if n == 126:
                self._need(4, deadline)
                n, pos = struct.unpack("!H", self.buf[2:4])[0], 4
            elif n == 127:
                self._need(10, deadline)
                n, pos = struct.unpack("!Q", self.buf[2:10])[0], 10
            masked = bool(b1 & 0x80)
            key = b""
            if masked:
                self._need(pos + 4, deadline)
                key, pos = self.buf[pos:pos + 4], pos + 4
            self._need(pos + n, deadline)
        except socket.timeout:
            raise TimeoutError(f"no frame within {timeout}s") from None
        payload, self.buf = self.buf[pos:pos + n], self.buf[pos + n:]
        if masked:
            payload = apply_mask(payload, key)
        return Frame(bool(b0 & 0x80), (b0 >> 4) & 7, b0 & 0x0F, payload, masked)

    def recv_message(self, timeout=5.0):
        """Reassembles the next data message, skipping control frames except close."""
        deadline = time.monotonic() + timeout
        parts, opcode = [], None
        while True:
            f = self.recv_frame(max(deadline - time.monotonic(), 0.01))
            if f.opcode in (OP_PING, OP_PONG):
                continue
            assert f.opcode != OP_CLOSE, f"unexpected close {f.close_code}"
            opcode = opcode if f.opcode == OP_CONT else f.opcode
            parts.append(f.payload)
            if f.fin:
                return opcode, b"".join(parts)

    def recv_close(self, timeout=5.0) -> Frame:
        """Skips data and ping/pong frames until the close frame, which it returns."""
        deadline = time.monotonic() + timeout
        while True:
            f = self.recv_frame(max(deadline - time.monotonic(), 0.01))
            if f.opcode == OP_CLOSE:
                return f

    def expect_close(self, code, timeout=5.0, then_tcp_close=True, skip_other_frames=False):
        """Asserts the next frame (or, with skip_other_frames, the next close frame) is a close
        with `code` (None: no payload), and that the server then closes TCP."""
        if skip_other_frames:
            f = self.recv_close(timeout)
        else:
            f = self.recv_frame(timeout)
            assert f.opcode == OP_CLOSE, f"expected a close frame, got opcode {f.opcode:#x}: {f.payload[:64]!r}"
        assert not f.masked, "server frames must not be masked"
        assert f.close_code == code, f"expected close {code}, got {f.close_code} ({f.payload[2:]!r})"
        if then_tcp_close:
            rest = self.buf + wait_tcp_close(self.sock, timeout)
            self.buf = b""
            assert rest == b"", f"data after the close frame: {rest[:64]!r}"
        return f

    def echo(self, opcode, payload, timeout=5.0):
        self.send_frame(opcode, payload)
        return self.recv_message(timeout)
