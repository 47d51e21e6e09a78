"""Native TLS ([server.tls]) against clients nobody here wrote: python-websockets and Python's
ssl module, `openssl s_client`, certificates made at test time with the `openssl` CLI.

Covers: wss:// echo on TLS 1.3 and 1.2, min_version, ciphers / ciphersuites, ALPN, SNI among
two certificates, encrypted keys (CAPSTAN_TLS_PASSPHRASE) and clear start failures, plain and
TLS listeners side by side, plain HTTP to the TLS port (400), handshakes that stall or are
abandoned, truncated records and garbage after the handshake (each counted in /metrics and
harmless to other connections), big messages and bursts, a slow reader (backpressure without
spinning, order kept), 200 concurrent clients, certificates reread on SIGHUP.
"""
import asyncio
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import statistics
import struct
import threading
import time
import urllib.request

import pytest
import websockets

import tlsenv
from conftest import TLS_MODE, run_capstan
from helpers import connect, echo_roundtrip, run
from rawws import OP_BINARY, OP_TEXT, RawWS, encode_frame, open_socket, read_http_response

HANDSHAKES = "capstan_tls_handshakes_total"
STREAM_ERRORS = "capstan_tls_stream_errors_total"


def q(value) -> str:
    """A TOML string (or list of strings) for a path or value."""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(json.dumps(str(v)) for v in value) + "]"
    return json.dumps(str(value))


def tls_config(cert=None, key=None, tls_extra="", extra="", listen='"127.0.0.1:0"', server_extra=""):
    """A plain listener and a TLS listener; the session certificate unless `cert`/`key`."""
    pki = tlsenv.session_pki()
    return (f'[server]\nlisten = "127.0.0.1:0"\n{server_extra}\n[server.tls]\nlisten = {listen}\n'
            f'cert = {q(cert or pki.cert)}\nkey = {q(key or pki.key)}\n{tls_extra}\n{extra}')


def tls_url(server, path="/echo", host=None):
    return f"wss://{host or server.host}:{server.tls_port}{path}"


def ctx(maximum=None, minimum=None, alpn=None, check_hostname=True):
    c = tlsenv.client_context(alpn=alpn)
    if maximum:
        c.maximum_version = maximum
    if minimum:
        c.minimum_version = minimum
    c.check_hostname = check_hostname
    return c


def tls_socket(server, context=None, server_hostname="127.0.0.1", timeout=5.0):
    raw = socket.create_connection((server.host, server.tls_port), timeout=timeout)
    try:
        return (context or ctx()).wrap_socket(raw, server_hostname=server_hostname)
    except BaseException:
        raw.close()
        raise


def metrics(server) -> dict:
    """{(family, label value): value} of the TLS families, scraped over the plain listener."""
    with urllib.request.urlopen(f"http://{server.host}:{server.plain_port}/metrics", timeout=5) as r:
        body = r.read().decode()
    return {(m[1], m[2]): float(m[3]) for m in
            re.finditer(r'^(capstan_tls_\w+)\{\w+="(\w+)"\} (\S+)$', body, re.M)}


def wait_metric(server, family, label, expected, timeout=5.0):
    """Waits until the sample equals `expected` (a counter the server bumps as it acts may
    lag the client's view a little); returns the last scrape."""
    deadline = time.monotonic() + timeout
    while True:
        m = metrics(server)
        if m.get((family, label)) == expected or time.monotonic() > deadline:
            assert m.get((family, label)) == expected, \
                f'{family}{{..="{label}"}} is {m.get((family, label))}, expected {expected}: {m}'
            return m
        time.sleep(0.05)


def client_hello(server_hostname="localhost") -> bytes:
    """The bytes of a real ClientHello, from an ssl object over memory BIOs."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx().wrap_bio(incoming, outgoing, server_hostname=server_hostname)
    with pytest.raises(ssl.SSLWantReadError):
        obj.do_handshake()
    hello = outgoing.read()
    assert hello[0] == 0x16 and len(hello) > 100, hello[:16]
    return hello


def raw_of(tls_sock) -> socket.socket:
    """A second handle on the TCP socket under an SSLSocket: bytes that bypass TLS."""
    return socket.socket(fileno=os.dup(tls_sock.fileno()))


async def wss_echo(url, message, **kwargs):
    async with connect(url, **kwargs) as ws:
        assert await echo_roundtrip(ws, message) == message
        return ws.transport.get_extra_info("ssl_object")


class Bystander:
    """A wss:// client on a thread of its own that echoes every `interval` and records each
    round trip, so a test can show that the loop went on serving it."""

    def __init__(self, url, interval=0.02):
        self.url, self.interval = url, interval
        self.rtts, self.error = [], None
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)
        self._thread.start()
        assert self._ready.wait(10), "bystander never connected"
        assert self.error is None, self.error

    async def _run(self):
        try:
            async with connect(self.url, **({"ssl": ctx()} if self.url.startswith("wss:") else {})) as ws:
                self._ready.set()
                n = 0
                while not self._stop.is_set():
                    n += 1
                    started = time.monotonic()
                    assert await echo_roundtrip(ws, f"bystander {n}") == f"bystander {n}"
                    self.rtts.append(time.monotonic() - started)
                    await asyncio.sleep(self.interval)
        except Exception as e:  # reported by stop()
            self.error = e
            self._ready.set()

    def stop(self):
        self._stop.set()
        self._thread.join(10)
        assert not self._thread.is_alive(), "bystander stuck"
        assert self.error is None, f"bystander failed: {self.error!r}"
        assert self.rtts, "bystander made no round trip"
        return self.rtts


def assert_low_latency(rtts, what):
    # A loop blocked by the stalled handshakes would hold the bystander for the whole
    # handshake_timeout (1 s); on a busy 2-core machine ordinary round trips stay far below.
    assert max(rtts) < 0.5, f"bystander round trip up to {max(rtts) * 1000:.0f} ms {what}"
    assert statistics.median(rtts) < 0.05, f"median bystander round trip {statistics.median(rtts) * 1000:.0f} ms {what}"


# ---- versions, ciphers, ALPN --------------------------------------------------------------

def test_tls_mode_of_the_suites_speaks_tls(server):
    """In CAPSTAN_TEST_TLS=1 mode the fixtures' servers are reached over TLS (else plain)."""
    assert server.url().startswith("wss://" if TLS_MODE else "ws://")
    with RawWS.connect(server.host, server.port) as c:
        assert isinstance(c.sock, ssl.SSLSocket) == TLS_MODE
        assert c.echo(OP_TEXT, b"mode") == (OP_TEXT, b"mode")
    if TLS_MODE:
        wait_metric(server, HANDSHAKES, "completed", 1)


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2])
def test_wss_echo_on_each_version(start_server, version):
    server = start_server(tls_config())
    obj = run(wss_echo(tls_url(server), "héllo over TLS", ssl=ctx(maximum=version, minimum=version)))
    assert obj.version() == {ssl.TLSVersion.TLSv1_3: "TLSv1.3", ssl.TLSVersion.TLSv1_2: "TLSv1.2"}[version]
    m = wait_metric(server, HANDSHAKES, "completed", 1)
    assert m[(HANDSHAKES, "failed")] == 0
    assert (STREAM_ERRORS, "truncated") not in m and (STREAM_ERRORS, "protocol") not in m, \
        "the stream-error family shows before any stream error"


def test_min_version_13_refuses_a_tls12_client(start_server):
    server = start_server(tls_config(tls_extra='min_version = "1.3"'))
    with pytest.raises(ssl.SSLError):
        tls_socket(server, ctx(maximum=ssl.TLSVersion.TLSv1_2)).close()
    wait_metric(server, HANDSHAKES, "failed", 1)
    obj = run(wss_echo(tls_url(server), "1.3 only", ssl=ctx()))
    assert obj.version() == "TLSv1.3"
    wait_metric(server, HANDSHAKES, "completed", 1)


def test_ciphers_and_ciphersuites_are_applied(start_server):
    server = start_server(tls_config(tls_extra='ciphers = "ECDHE-ECDSA-CHACHA20-POLY1305"\n'
                                                'ciphersuites = "TLS_CHACHA20_POLY1305_SHA256"'))
    with tls_socket(server, ctx(maximum=ssl.TLSVersion.TLSv1_2)) as s:
        assert s.cipher()[0] == "ECDHE-ECDSA-CHACHA20-POLY1305", s.cipher()
    with tls_socket(server, ctx(minimum=ssl.TLSVersion.TLSv1_3)) as s:
        assert s.cipher()[0] == "TLS_CHACHA20_POLY1305_SHA256", s.cipher()
    only_aes = ctx(maximum=ssl.TLSVersion.TLSv1_2)
    only_aes.set_ciphers("ECDHE-ECDSA-AES128-GCM-SHA256")
    with pytest.raises(ssl.SSLError):
        tls_socket(server, only_aes).close()
    wait_metric(server, HANDSHAKES, "failed", 1)


def test_alpn_http11_selected_and_h2_only_client_still_served(start_server):
    server = start_server(tls_config())
    obj = run(wss_echo(tls_url(server), "alpn", ssl=ctx(alpn=["h2", "http/1.1"])))
    assert obj.selected_alpn_protocol() == "http/1.1"
    obj = run(wss_echo(tls_url(server), "h2 only", ssl=ctx(alpn=["h2"])))
    assert obj.selected_alpn_protocol() is None
    obj = run(wss_echo(tls_url(server), "no alpn", ssl=ctx()))
    assert obj.selected_alpn_protocol() is None
    wait_metric(server, HANDSHAKES, "completed", 3)


# ---- certificates: SNI, encrypted keys, start failures --------------------------------------

def test_sni_picks_each_certificate_and_unknown_names_get_the_first(start_server, tmp_path):
    ca = tlsenv.session_pki().ca
    a = tlsenv.make_cert(tmp_path, ca, "a", names=("a.test", "*.wild.test"), ips=(), serial=0xA1)
    b = tlsenv.make_cert(tmp_path, ca, "b", names=("b.test",), ips=(), serial=0xB2, key_type="rsa")
    server = start_server(tls_config(cert=[a[0], b[0]], key=[a[1], b[1]]))

    def serial_for(name, check=True):
        with tls_socket(server, ctx(check_hostname=check), server_hostname=name) as s:
            return int(s.getpeercert()["serialNumber"], 16)

    assert serial_for("a.test") == 0xA1
    assert serial_for("b.test") == 0xB2
    assert serial_for("B.TEST") == 0xB2  # names compare without case
    assert serial_for("x.wild.test") == 0xA1
    assert serial_for("unknown.test", check=False) == 0xA1  # the default: the first
    # No SNI at all (an address as host name): the default too.
    assert serial_for("127.0.0.1", check=False) == 0xA1
    # openssl s_client, another client's SNI, agrees.
    out = subprocess.run(["openssl", "s_client", "-connect", f"{server.host}:{server.tls_port}",
                          "-servername", "b.test", "-CAfile", str(ca.cert), "-verify_return_error",
                          "-verify_hostname", "b.test"],
                         input="", capture_output=True, text=True, timeout=10)
    assert "subject=CN = b.test" in out.stdout, out.stdout + out.stderr
    assert "Verify return code: 0 (ok)" in out.stdout, out.stdout
    run(wss_echo(f"wss://b.test:{server.tls_port}/echo", "sni echo", ssl=ctx(),
                 host=server.host, port=server.tls_port, server_hostname="b.test"))


def test_encrypted_key_with_passphrase_from_environment(start_server, tmp_path, monkeypatch):
    cert, key = tlsenv.make_cert(tmp_path, tlsenv.session_pki().ca, "enc", passphrase="s3cret pass")
    assert b"ENCRYPTED" in key.read_bytes()
    monkeypatch.setenv("CAPSTAN_TLS_PASSPHRASE", "s3cret pass")
    server = start_server(tls_config(cert=cert, key=key))
    run(wss_echo(tls_url(server), "encrypted key", ssl=ctx()))


def start_must_fail(tmp_path, text):
    path = tmp_path / "bad-tls.toml"
    path.write_text(text)
    r = run_capstan("start", "-c", path, timeout=15)
    assert r.returncode != 0, f"capstan started with {text!r}:\n{r.stderr}"
    return r.stderr


@pytest.mark.parametrize("case", ["no passphrase", "wrong passphrase", "key of another certificate",
                                  "missing certificate", "missing key", "no key"])
def test_start_fails_clearly(tmp_path, monkeypatch, case):
    monkeypatch.delenv("CAPSTAN_TLS_PASSPHRASE", raising=False)
    ca = tlsenv.session_pki().ca
    cert, key = tlsenv.make_cert(tmp_path, ca, "enc", passphrase="right")
    other_cert, other_key = tlsenv.make_cert(tmp_path, ca, "other")
    if case == "no passphrase":
        err = start_must_fail(tmp_path, tls_config(cert=cert, key=key))
        assert "passphrase" in err and str(key) in err, err
    elif case == "wrong passphrase":
        monkeypatch.setenv("CAPSTAN_TLS_PASSPHRASE", "wrong")
        err = start_must_fail(tmp_path, tls_config(cert=cert, key=key))
        assert str(key) in err, err
    elif case == "key of another certificate":
        err = start_must_fail(tmp_path, tls_config(cert=other_cert, key=tlsenv.session_pki().key))
        assert "does not match" in err or "mismatch" in err, err
    elif case == "missing certificate":
        err = start_must_fail(tmp_path, tls_config(cert=tmp_path / "nope.pem", key=other_key))
        assert "nope.pem" in err, err
    elif case == "missing key":
        err = start_must_fail(tmp_path, tls_config(cert=other_cert, key=tmp_path / "nokey.pem"))
        assert "nokey.pem" in err, err
    else:
        pki = tlsenv.session_pki()
        err = start_must_fail(tmp_path, f'[server]\nlisten = "127.0.0.1:0"\n[server.tls]\n'
                                        f'listen = "127.0.0.1:0"\ncert = {q(pki.cert)}\n')
        assert "server.tls" in err, err
    assert "server.tls" in err, err


def test_mismatched_plain_key_is_not_blamed_on_a_passphrase(tmp_path, monkeypatch):
    monkeypatch.delenv("CAPSTAN_TLS_PASSPHRASE", raising=False)
    other_cert, _ = tlsenv.make_cert(tmp_path, tlsenv.session_pki().ca, "other")
    err = start_must_fail(tmp_path, tls_config(cert=other_cert, key=tlsenv.session_pki().key))
    assert "passphrase" not in err, err
    assert "does not match" in err, err


# ---- listeners ------------------------------------------------------------------------------

def test_plain_and_tls_listeners_side_by_side(start_server):
    server = start_server(tls_config(listen='["127.0.0.1:0", "127.0.0.1:0"]'))
    assert [t for _, _, t in server.listeners] == [False, True, True], server.listeners
    assert f"address=127.0.0.1:{server.tls_port} loops=" in server.stderr

    async def both():
        async with connect(f"ws://{server.host}:{server.plain_port}/echo") as plain:
            tls_ports = [p for _, p, t in server.listeners if t]
            async with connect(f"wss://{server.host}:{tls_ports[0]}/echo", ssl=ctx()) as one, \
                    connect(f"wss://{server.host}:{tls_ports[1]}/echo", ssl=ctx()) as two:
                for i in range(20):
                    for ws, name in ((plain, "plain"), (one, "tls1"), (two, "tls2")):
                        assert await echo_roundtrip(ws, f"{name} {i}") == f"{name} {i}"
                assert plain.transport.get_extra_info("ssl_object") is None
                assert one.transport.get_extra_info("ssl_object") is not None
        # wss:// to the plain port is no TLS server.
        with pytest.raises((ssl.SSLError, OSError, websockets.exceptions.InvalidHandshake)):
            await connect(f"wss://{server.host}:{server.plain_port}/echo", ssl=ctx())

    run(both())
    wait_metric(server, HANDSHAKES, "completed", 2)


def test_plain_http_to_tls_port_gets_400_text(start_server):
    server = start_server(tls_config())
    bystander = Bystander(tls_url(server))
    for request in (b"GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n", b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"):
        with open_socket(server.host, server.tls_port, tls=False) as s:
            s.sendall(request)
            resp, rest = read_http_response(s)
            assert resp.status == 400, resp
            assert resp.headers["content-type"].startswith("text/plain")
            assert b"TLS" in resp.body and b"https://" in resp.body, resp.body
            s.settimeout(3)
            try:  # then the end: EOF, or a reset since the rest of the request stays unread
                assert s.recv(100) == b"", "data after the 400"
            except ConnectionResetError:
                pass
    wait_metric(server, HANDSHAKES, "plain_http", 2)
    assert_low_latency(bystander.stop(), "while plain HTTP came to the TLS port")
    assert metrics(server)[(HANDSHAKES, "failed")] == 0


# ---- handshakes that stall or are abandoned -------------------------------------------------

def test_stalled_handshakes_are_closed_and_counted_while_others_echo(start_server):
    server = start_server(tls_config(server_extra="threads = 1", extra='[limits]\nhandshake_timeout = "1s"\n'))
    assert server.loops == 1
    hello = client_hello()
    bystander = Bystander(tls_url(server))
    stalled = []
    try:
        for i in range(20):
            s = socket.create_connection((server.host, server.tls_port), timeout=5)
            s.sendall(hello[:len(hello) // 2 + i])  # part of a ClientHello, then silence
            stalled.append((s, time.monotonic()))
        # A fresh handshake and echoes meanwhile, with low latency.
        run(wss_echo(tls_url(server), "fresh", ssl=ctx()))
        closed = []
        for s, opened in stalled:
            s.settimeout(max(0.1, opened + 4 - time.monotonic()))
            try:
                assert s.recv(100) == b"", "the server answered a half ClientHello"
            except ConnectionResetError:
                pass
            except socket.timeout:
                raise AssertionError("a stalled handshake still open 4 s after (handshake_timeout 1s)") from None
            closed.append(time.monotonic() - opened)
        assert 0.9 <= min(closed) and max(closed) <= 3.0, f"closed after {min(closed):.2f}..{max(closed):.2f}s"
    finally:
        for s, _ in stalled:
            s.close()
    assert_low_latency(bystander.stop(), "while 20 handshakes stalled")
    m = wait_metric(server, HANDSHAKES, "timeout", 20)
    assert m[(HANDSHAKES, "completed")] == 2 and m[(HANDSHAKES, "failed")] == 0, m
    assert server.wait_tcp_connections(0, timeout=3)


@pytest.mark.parametrize("when", ["mid ClientHello", "after ClientHello", "right after connect"])
def test_client_leaving_mid_handshake_is_counted(start_server, when):
    server = start_server(tls_config())
    bystander = Bystander(tls_url(server))
    hello = client_hello()
    for _ in range(3):
        with socket.create_connection((server.host, server.tls_port), timeout=5) as s:
            if when == "mid ClientHello":
                s.sendall(hello[:60])
            elif when == "after ClientHello":
                s.sendall(hello)
                s.settimeout(5)
                assert s.recv(5)[:1] == b"\x16", "no ServerHello"  # then gone, before the Finished
            time.sleep(0.05)
    expected = {"mid ClientHello": 3, "after ClientHello": 3, "right after connect": 3}[when]
    m = wait_metric(server, HANDSHAKES, "client_left", expected)
    assert m[(HANDSHAKES, "failed")] == 0 and m[(HANDSHAKES, "timeout")] == 0, m
    assert_low_latency(bystander.stop(), f"while clients left {when}")
    assert server.wait_tcp_connections(0, timeout=3)


# ---- stream faults after the handshake ------------------------------------------------------

def upgraded(server) -> RawWS:
    return RawWS.connect(server.host, server.tls_port)


def test_truncated_record_is_counted_and_harms_no_one(start_server):
    server = start_server(tls_config())
    bystander = Bystander(tls_url(server))
    with upgraded(server) as c:
        assert c.echo(OP_TEXT, b"before") == (OP_TEXT, b"before")
        raw = raw_of(c.sock)
        # An application-data record header promising 16 KiB, 10 bytes of it, then the end.
        raw.sendall(b"\x17\x03\x03\x40\x00" + os.urandom(10))
        raw.shutdown(socket.SHUT_WR)
        raw.close()
        wait_metric(server, STREAM_ERRORS, "truncated", 1)
    m = metrics(server)
    assert m.get((STREAM_ERRORS, "protocol"), 0) == 0, m
    assert_low_latency(bystander.stop(), "while a record was cut short")
    assert server.wait_tcp_connections(0, timeout=3)


def test_garbage_after_handshake_is_counted_and_harms_no_one(start_server):
    server = start_server(tls_config())
    bystander = Bystander(tls_url(server))
    with upgraded(server) as c:
        assert c.echo(OP_TEXT, b"before") == (OP_TEXT, b"before")
        raw = raw_of(c.sock)
        # A whole record of the right type and length whose bytes do not decrypt.
        raw.sendall(b"\x17\x03\x03\x00\x40" + os.urandom(64))
        raw.settimeout(5)
        try:
            # The server ends it, perhaps with an alert first.
            while raw.recv(4096):
                pass
        except ConnectionResetError:
            pass
        raw.close()
    with upgraded(server) as c:
        raw = raw_of(c.sock)
        raw.sendall(b"this is not TLS at all\r\n" * 4)
        raw.settimeout(5)
        try:
            while raw.recv(4096):
                pass
        except ConnectionResetError:
            pass
        raw.close()
    m = wait_metric(server, STREAM_ERRORS, "protocol", 2)
    assert m.get((STREAM_ERRORS, "truncated"), 0) == 0, m
    assert_low_latency(bystander.stop(), "while garbage came after a handshake")
    assert server.wait_tcp_connections(0, timeout=3)


def test_orderly_tls_close_counts_no_stream_error(start_server):
    server = start_server(tls_config())
    with upgraded(server) as c:
        assert c.echo(OP_TEXT, b"x") == (OP_TEXT, b"x")
        c.send_close(1000)
        c.expect_close(1000, then_tcp_close=False)
        raw = c.sock.unwrap()  # our close_notify; the server's comes back
        raw.settimeout(5)
        assert raw.recv(100) == b"", "the server left the TCP connection open"
    assert server.wait_tcp_connections(0, timeout=3)
    m = metrics(server)
    assert (STREAM_ERRORS, "truncated") not in m and (STREAM_ERRORS, "protocol") not in m, m


def test_eof_after_a_finished_close_counts_no_stream_error(start_server):
    """Most clients end TCP after the WebSocket close without a close_notify of their own:
    after the server's close_notify that is an orderly end, not a truncated stream."""
    server = start_server(tls_config())
    with upgraded(server) as c:
        assert c.echo(OP_TEXT, b"x") == (OP_TEXT, b"x")
        c.send_close(1000)
        c.expect_close(1000, then_tcp_close=False)
        c.sock.close()  # no close_notify from us
    assert server.wait_tcp_connections(0, timeout=3)
    m = metrics(server)
    assert (STREAM_ERRORS, "truncated") not in m and (STREAM_ERRORS, "protocol") not in m, m


# ---- volume -------------------------------------------------------------------------------

def test_big_messages_and_bursts_both_ways(start_server):
    server = start_server(tls_config(extra='[limits]\nmax_message_size = "2MiB"\n'))

    async def go():
        async with connect(tls_url(server), ssl=ctx(), max_size=None) as ws:
            big = os.urandom(1 << 20)
            assert await echo_roundtrip(ws, big, timeout=20) == big
            text = "ü" * (1 << 19)  # 1 MiB of UTF-8
            assert await echo_roundtrip(ws, text, timeout=20) == text
            # A burst: 2000 messages of 1 B .. 64 KiB sent without waiting, echoed in order.
            sizes = [1 + (i * 7919) % 65536 if i % 10 == 0 else 1 + i % 300 for i in range(2000)]
            sent = [struct.pack("!I", i) + bytes([i % 256]) * n for i, n in enumerate(sizes)]

            async def send_all():
                for m in sent:
                    await ws.send(m)

            sender = asyncio.create_task(send_all())
            for i, m in enumerate(sent):
                got = await asyncio.wait_for(ws.recv(), 20)
                assert got == m, f"message {i} differs or out of order (got #{struct.unpack('!I', got[:4])[0]})"
            await sender

    run(go(), timeout=120)


def process_cpu_seconds(pid) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_slow_reader_backpressure_without_spinning_and_in_order(start_server):
    """Compare test_backpressure.py (plain): echoes pile up for a client that does not read;
    the server must wait for writability (not spin on WANT_WRITE) and keep the order."""
    server = start_server(tls_config())
    count, size = 64, 64 * 1024  # 4 MiB of echoes: under send_buffer (16 MiB), far over the socket buffers
    with RawWS.connect(server.host, server.tls_port, rcvbuf=4096) as c:
        frames = b"".join(encode_frame(OP_BINARY, struct.pack("!I", i) + bytes([i]) * (size - 4)) for i in range(count))
        c.sock.settimeout(15)
        c.sock.sendall(frames)  # the server reads all of it while its echoes wait
        time.sleep(0.5)
        cpu_before, wall_before = process_cpu_seconds(server.pid), time.monotonic()
        time.sleep(2.0)
        cpu = process_cpu_seconds(server.pid) - cpu_before
        wall = time.monotonic() - wall_before
        assert cpu < 0.25 * wall, f"server used {cpu:.2f}s of CPU in {wall:.2f}s while its client did not read: spinning"
        for i in range(count):
            opcode, payload = c.recv_message(timeout=15)
            assert opcode == OP_BINARY and len(payload) == size
            assert struct.unpack("!I", payload[:4])[0] == i, f"echo {i} out of order"
            assert payload[4:] == bytes([i % 256]) * (size - 4)
        assert c.echo(OP_TEXT, b"after") == (OP_TEXT, b"after")


def test_slow_reader_over_send_buffer_is_dropped_others_served(start_server):
    server = start_server(tls_config(extra='[limits]\nsend_buffer = "256KiB"\nclose_timeout = "1s"\n'))
    bystander = Bystander(tls_url(server))
    frame = encode_frame(OP_BINARY, b"\x5a" * (128 * 1024))
    with RawWS.connect(server.host, server.tls_port, rcvbuf=4096) as c:
        c.sock.settimeout(1)
        deadline, sent = time.monotonic() + 15, 0
        while time.monotonic() < deadline and sent < 192:
            try:
                c.sock.sendall(frame)
                sent += 1
            except (socket.timeout, ssl.SSLWantWriteError):
                continue
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                break
        assert server.wait_tcp_connections(1, timeout=5), \
            f"server still holds the slow reader: {server.tcp_connections()} connections"
    assert_low_latency(bystander.stop(), "while a slow reader overflowed")


def test_200_concurrent_tls_clients(start_server):
    server = start_server(tls_config())
    n = 200
    context = ctx()

    async def client(i):
        async with connect(tls_url(server), ssl=context, open_timeout=30) as ws:
            for j in range(3):
                assert await echo_roundtrip(ws, f"client {i} message {j}", timeout=30) == f"client {i} message {j}"
            return ws.transport.get_extra_info("ssl_object").version()

    async def all_clients():
        return await asyncio.gather(*(client(i) for i in range(n)))

    versions = run(all_clients(), timeout=120)
    assert versions == ["TLSv1.3"] * n
    m = wait_metric(server, HANDSHAKES, "completed", n)
    assert m[(HANDSHAKES, "failed")] == 0 and m[(HANDSHAKES, "client_left")] == 0, m


def test_connection_over_a_limit_is_closed_at_accept_without_a_plain_answer(start_server):
    """On a plain listener a connection over max_connections gets a 503; on a TLS one it is
    closed before its handshake (no plain bytes into a TLS stream), counted as a limit hit."""
    server = start_server(tls_config(extra="[limits]\nmax_connections = 3\n"))
    with RawWS.connect(server.host, server.tls_port) as a, RawWS.connect(server.host, server.tls_port) as b:
        with RawWS.connect(server.host, server.tls_port):
            with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
                tls_socket(server).close()
        assert server.wait_tcp_connections(2, timeout=3)  # room for the scrape
        with urllib.request.urlopen(f"http://{server.host}:{server.plain_port}/metrics", timeout=5) as r:
            body = r.read().decode()
        assert re.search(r'^capstan_limit_hits_total\{kind="max_connections"\} 1$', body, re.M), body
        assert a.echo(OP_TEXT, b"a") == (OP_TEXT, b"a") and b.echo(OP_TEXT, b"b") == (OP_TEXT, b"b")
    assert server.wait_tcp_connections(0, timeout=3)
    run(wss_echo(tls_url(server), "room again", ssl=ctx()))


# ---- reload -------------------------------------------------------------------------------

def test_sighup_rereads_certificates_open_connections_stay(start_server, tmp_path):
    ca = tlsenv.session_pki().ca
    cert, key = tlsenv.make_cert(tmp_path / "old", ca, "live", serial=0x01D)
    live_cert, live_key = tmp_path / "live.pem", tmp_path / "live.key"
    live_cert.write_bytes(cert.read_bytes())
    live_key.write_bytes(key.read_bytes())
    server = start_server(tls_config(cert=live_cert, key=live_key))

    def peer():
        with tls_socket(server, server_hostname="localhost") as s:
            c = s.getpeercert()
            return int(c["serialNumber"], 16), dict(x[0] for x in c["subject"])["commonName"]

    assert peer() == (0x01D, "localhost")
    with RawWS.connect(server.host, server.tls_port) as old:
        assert old.echo(OP_TEXT, b"old 1") == (OP_TEXT, b"old 1")
        new_cert, new_key = tlsenv.make_cert(tmp_path / "new", ca, "live", serial=0x2E, cn="renewed.localhost")
        for src, dst in ((new_cert, live_cert), (new_key, live_key)):
            tmp = dst.with_suffix(".tmp")
            tmp.write_bytes(src.read_bytes())
            os.replace(tmp, dst)
        os.kill(server.pid, signal.SIGHUP)
        assert server.wait_log("tls certificates"), server.stderr
        assert peer() == (0x2E, "renewed.localhost")
        assert old.echo(OP_TEXT, b"old 2") == (OP_TEXT, b"old 2")
        assert old.sock.getpeercert()["serialNumber"].lstrip("0") == "1D"

        # A broken renewal is refused; the last good certificate stays.
        live_key.write_bytes(key.read_bytes())  # the old key: does not match the new certificate
        os.kill(server.pid, signal.SIGHUP)
        assert server.wait_log("the TLS certificates were refused"), server.stderr
        assert peer() == (0x2E, "renewed.localhost")
        assert old.echo(OP_TEXT, b"old 3") == (OP_TEXT, b"old 3")
