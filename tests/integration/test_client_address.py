"""The client's address behind a trusted proxy against the real binary, without nginx: the
PROXY protocol v2 (binary, as HAProxy's send-proxy-v2 writes it) and v1 from a raw socket on
127.0.0.1 (the trusted proxy), limits applied per client, a malformed PROXY header closing
only its own connection and counted in /metrics, X-Forwarded-For from an untrusted peer
ignored, and the config keys' faults. (Through a real nginx: test_deploy_nginx.py.)"""
import re
import socket
import struct

from conftest import run_capstan
from rawws import OP_TEXT, RawWS, open_socket, read_http_response, upgrade_request, wait_tcp_close

ECHO = '\n[[routes]]\npath = "/echo"\ncomponent = "echo"\n'
SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"


def proxy_v2(source: str, source_port: int, tlvs=b"") -> bytes:
    body = socket.inet_aton(source) + socket.inet_aton("127.0.0.1") + struct.pack(">HH", source_port, 8080) + tlvs
    return SIGNATURE + bytes([0x21, 0x11]) + struct.pack(">H", len(body)) + body


def upgrade_through(server, header: bytes, source="127.0.0.1", extra_headers=(), path="/echo"):
    """A connection from `source` that sends `header` then an upgrade: (status, socket),
    the socket a RawWS when upgraded."""
    s = open_socket(server.host, server.port, source=source)
    s.sendall(header + upgrade_request(path, extra_headers=extra_headers))
    response, leftover = read_http_response(s)
    return response.status, RawWS(s, leftover, response) if response.status == 101 else s


def handshake_failures(server, reason):
    # From 127.0.0.2: 127.0.0.1 is the trusted proxy here, which must send a PROXY header first.
    with open_socket(server.host, server.port, source="127.0.0.2") as s:
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        body = wait_tcp_close(s).decode()
    m = re.search(rf'^capstan_handshake_failures_total{{reason="{reason}"}} (\d+)$', body, re.M)
    return int(m.group(1)) if m else 0


def test_proxy_v2_names_the_client_for_the_per_address_limit(start_server):
    server = start_server('[server]\ntrusted_proxies = ["127.0.0.1"]\nproxy_protocol = true\n'
                          '[limits]\nconnections_per_ip = 1\n' + ECHO)
    alpn = b"\x01\x00\x08http/1.1"  # a TLV, skipped
    status, first = upgrade_through(server, proxy_v2("192.0.2.10", 40001, alpn))
    assert status == 101
    status, second = upgrade_through(server, proxy_v2("192.0.2.11", 40002))
    assert status == 101  # another client behind the same proxy
    status, again = upgrade_through(server, proxy_v2("192.0.2.10", 40003))
    assert status == 429  # the first client's second connection
    assert server.wait_log("remote=192.0.2.10:40003"), server.stderr
    # v1 works on the same port, the client's limit being the same.
    status, v1 = upgrade_through(server, b"PROXY TCP4 192.0.2.11 127.0.0.1 40004 8080\r\n")
    assert status == 429
    for s in (first, second, again, v1):
        s.close()


def test_malformed_proxy_header_closes_that_connection_counted(start_server):
    server = start_server('[server]\ntrusted_proxies = ["127.0.0.1"]\nproxy_protocol = true\n' + ECHO)
    status, proxied = upgrade_through(server, b"PROXY TCP4 192.0.2.10 127.0.0.1 1 2\r\n")
    assert status == 101
    # A client that reaches Capstan directly (not a trusted proxy) sends no header at all.
    direct = RawWS.connect(server.host, server.port, source="127.0.0.2")
    before = handshake_failures(server, "proxy_header")
    for bad in (b"PROXY TCP4 192.0.2.999 127.0.0.1 1 2\r\n", b"GET /echo HTTP/1.1\r\n",
                SIGNATURE + b"\x21\x11\xff\xff", SIGNATURE + b"\x31\x11\x00\x0c" + bytes(12)):
        with open_socket(server.host, server.port) as s:
            s.sendall(bad)
            assert wait_tcp_close(s) == b"", bad  # no answer: nothing a proxy would misread
    assert handshake_failures(server, "proxy_header") - before == 4
    assert server.wait_log("bad PROXY header"), server.stderr
    # The connections already open never noticed.
    for ws in (proxied, direct):
        assert ws.echo(OP_TEXT, b"still here") == (OP_TEXT, b"still here")
        ws.close()


def test_untrusted_peers_forwarded_for_is_ignored(start_server):
    server = start_server('[server]\ntrusted_proxies = ["127.0.0.1"]\n[limits]\nconnections_per_ip = 1\n'
                          '\n[[routes]]\npath = "/"\ncomponent = "notify"\nauth = true\n'
                          '[auth]\nrequired = true\nalgorithms = ["HS256"]\nsecret = "s"\n')
    # 127.0.0.2 is not a trusted proxy: its X-Forwarded-For is its own invention.
    status, first = upgrade_through(server, b"", source="127.0.0.2",
                                    extra_headers=["X-Forwarded-For: 198.51.100.1"], path="/")
    assert status == 101  # then refused for having no token, and logged as itself
    assert server.wait_log("remote=127.0.0.2:"), server.stderr
    assert "198.51.100.1" not in server.stderr
    first.close()


def test_spoofed_forwarded_for_does_not_escape_the_limit(start_server):
    server = start_server('[server]\ntrusted_proxies = ["127.0.0.1"]\n[limits]\nconnections_per_ip = 1\n' + ECHO)
    status, first = upgrade_through(server, b"", source="127.0.0.2", extra_headers=["X-Forwarded-For: 198.51.100.1"])
    assert status == 101
    with open_socket(server.host, server.port, source="127.0.0.2") as s:
        s.sendall(upgrade_request("/echo", extra_headers=["X-Forwarded-For: 198.51.100.2"]))
        response, _ = read_http_response(s)
        assert response.status == 429  # refused at accept: a claim changes nothing
    first.close()


def test_config_faults_name_the_key():
    import tempfile
    from pathlib import Path
    with tempfile.TemporaryDirectory() as d:
        bad = Path(d) / "bad.toml"
        bad.write_text('[server]\ntrusted_proxies = ["127.0.0.1", "10.0.0.0/33"]\n')
        out = run_capstan("check", "-c", bad)
        assert out.returncode != 0 and "server.trusted_proxies" in out.stderr + out.stdout
        assert "10.0.0.0/33" in out.stderr + out.stdout
        lonely = Path(d) / "lonely.toml"
        lonely.write_text("[server]\nproxy_protocol = true\n")
        out = run_capstan("check", "-c", lonely)
        assert out.returncode != 0 and "proxy_protocol needs" in out.stderr + out.stdout
        good = Path(d) / "good.toml"
        good.write_text('[server]\ntrusted_proxies = ["127.0.0.1", "10.0.0.0/8", "fd00::/8"]\nproxy_protocol = true\n')
        out = run_capstan("check", "-c", good)
        assert out.returncode == 0, out.stderr
