#!/usr/bin/env python3
"""Writes the seed corpora in tests/fuzz/corpus/<target>/ (run from anywhere; idempotent).

Each seed is small and meaningful: valid frames, close frames, fragmented messages, upgrade
requests, a config file. The first bytes of the frame, HTTP and UTF-8 seeds are the options
the targets read before the payload (see the comment at the top of each fuzz_*.cpp)."""
import pathlib
import struct

ROOT = pathlib.Path(__file__).resolve().parent / "corpus"
KEY = bytes([0x37, 0xFA, 0x21, 0x3D])


def frame(opcode, payload=b"", fin=True, rsv=0, masked=True, length_form=None):
    b0 = (0x80 if fin else 0) | rsv | opcode
    n = len(payload)
    form = length_form or ("7" if n < 126 else "16" if n <= 0xFFFF else "64")
    mask_bit = 0x80 if masked else 0
    if form == "7":
        head = bytes([b0, mask_bit | n])
    elif form == "16":
        head = bytes([b0, mask_bit | 126]) + struct.pack(">H", n)
    else:
        head = bytes([b0, mask_bit | 127]) + struct.pack(">Q", n)
    if not masked:
        return head + payload
    return head + KEY + bytes(c ^ KEY[i % 4] for i, c in enumerate(payload))


def close(code=None, reason=b""):
    return frame(0x8, b"" if code is None else struct.pack(">H", code) + reason)


def frames_seed(wire, allow_rsv1=False, cap_index=0, max_piece_nibble=1, seed=0x1234):
    opts = (1 if allow_rsv1 else 0) | (cap_index << 1) | (max_piece_nibble << 4)
    return bytes([opts, seed & 0xFF, seed >> 8]) + wire


FRAME_SEEDS = {
    "text_hello": frames_seed(frame(0x1, b"Hello")),
    "binary_16bit_length": frames_seed(frame(0x2, bytes(range(256)) + b"tail")),
    "fragmented_with_ping": frames_seed(frame(0x1, b"Hel", fin=False) + frame(0x9, b"ping") + frame(0x0, b"lo")),
    "fragmented_utf8_split": frames_seed(frame(0x1, "κό".encode()[:3], fin=False) + frame(0x0, "κόσμε".encode()[3:])),
    "close_normal": frames_seed(close(1000, b"bye")),
    "close_empty": frames_seed(close()),
    "close_then_data": frames_seed(frame(0x1, b"last") + close(1001, "é".encode()) + frame(0x1, b"ignored")),
    "ping_pong_empty": frames_seed(frame(0x9) + frame(0xA, b"pong") + frame(0x1)),
    "compressed_rsv1": frames_seed(frame(0x1, b"\xf2\x48\xcd\xc9\xc9\x07\x00", rsv=0x40) + frame(0x2, b"x"), allow_rsv1=True),
    "too_big_for_cap_125": frames_seed(frame(0x2, b"x" * 100, fin=False) + frame(0x0, b"y" * 30), cap_index=3),
    "bytewise_pieces": frames_seed(frame(0x1, b"split me") + frame(0x2, b"\x00\xff"), max_piece_nibble=0),
    "bad_unmasked": frames_seed(frame(0x1, b"hi", masked=False)),
    "bad_non_minimal_64": frames_seed(frame(0x2, b"abc", length_form="64")),
    "bad_utf8_text": frames_seed(frame(0x1, b"ab\xed\xa0\x80cd")),
}

UPGRADE = (b"GET /chat?room=1 HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n"
           b"Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
           b"Origin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\n"
           b"Sec-WebSocket-Version: 13\r\n\r\n")


def http_seed(text, limit_index=0, piece=5):
    return bytes([limit_index | (piece << 2), 0x5A]) + text


HTTP_SEEDS = {
    "upgrade": http_seed(UPGRADE),
    "upgrade_then_frame": http_seed(UPGRADE + frame(0x1, b"Hello")),
    "plain_get": http_seed(b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n"),
    "http10": http_seed(b"GET / HTTP/1.0\r\n\r\n"),
    "post_upgrade": http_seed(UPGRADE.replace(b"GET", b"POST", 1)),
    "version_8": http_seed(UPGRADE.replace(b"Version: 13", b"Version: 8")),
    "http2": http_seed(b"GET / HTTP/2.0\r\nHost: a\r\n\r\n"),
    "obs_fold": http_seed(b"GET / HTTP/1.1\r\nX-A: one\r\n two\r\n\r\n"),
    "space_before_colon": http_seed(b"GET / HTTP/1.1\r\nHost : a\r\n\r\n"),
    "tls_client_hello": http_seed(bytes.fromhex("160301020001000001fc0303") + bytes(32)),
    "small_limit": http_seed(UPGRADE, limit_index=2),
    "many_headers": http_seed(b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(66)) + b"\r\n"),
}

CONFIG_SEEDS = {
    "full.toml": b"""# capstan.toml
[server]
name = "prod"
listen = ["0.0.0.0:80", "[::1]:8443", "localhost:9000"]
threads = 4
prefix = "/ws"
allowed_origins = ["https://example.com"]
log_format = "json"
shutdown_timeout = "30s"

[limits]
max_message_size = "16MiB"
max_header_size = 8192
handshake_timeout = "5s"
idle_timeout = "10m"
ping_interval = "45s"
close_timeout = "2500ms"
send_buffer = "64MB"
max_connections = 50000

[[routes]]
component = "echo"

[[routes]]
path = "/chat"
component = "chat"
protocols = ["chat.v2", "chat.v1"]
""",
    "dotted.toml": b'server.listen = "127.0.0.1:8080"\nlimits.idle_timeout = "120s"\nserver = { name = "x" }\n',
    "errors.toml": b'[server]\nthreads = -1\nlisten = "example.com:80"\nprefix = "/x/"\n[limits]\nidl_timeout = "5s"\nmax_message_size = "5GiB"\n[[routes]]\npath = "nope"\n',
    "syntax_error.toml": b'[server\nname = = "a"\n',
}


def utf8_seed(text, seed=0x0307):
    return bytes([seed & 0xFF, seed >> 8]) + text


UTF8_SEEDS = {
    "ascii": utf8_seed(b"Hello, world! {\"json\": [1, 2, 3]}"),
    "kosme": utf8_seed("κόσμε".encode()),
    "mixed_widths": utf8_seed("a\u00e9\u20ac\U0001F600\U0010FFFF\uFFFF\uE000".encode()),
    "overlongs": utf8_seed(b"\xc0\x80\xe0\x80\x80\xf0\x80\x80\x80\xc1\xbf"),
    "surrogate": utf8_seed(b"ok \xed\xa0\x80"),
    "above_max": utf8_seed(b"\xf4\x90\x80\x80"),
    "truncated": utf8_seed(b"abc\xe2\x82"),
    "lone_continuation": utf8_seed(b"0123456789abcdef\x80"),
}


def proxy_seed(header, limit_index=0, piece=3):
    """fuzz_proxy_header: limit and piece size, a split seed, then the bytes after accept."""
    return bytes([limit_index | (piece << 2), 0x5A]) + header


def proxy_v2(command, family, body):
    return b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x20 | command, family]) + struct.pack(">H", len(body)) + body


REQUEST = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
PROXY_SEEDS = {
    "v1_tcp4": proxy_seed(b"PROXY TCP4 203.0.113.7 127.0.0.1 51234 8080\r\n" + REQUEST),
    "v1_tcp6": proxy_seed(b"PROXY TCP6 2001:db8::7 ::1 65535 443\r\n"),
    "v1_unknown": proxy_seed(b"PROXY UNKNOWN\r\n" + REQUEST),
    "v1_bad_port": proxy_seed(b"PROXY TCP4 203.0.113.7 127.0.0.1 65536 80\r\n"),
    "v2_inet_tlv": proxy_seed(proxy_v2(1, 0x11, bytes([203, 0, 113, 7, 127, 0, 0, 1, 0xC8, 0x22, 0x1F, 0x90])
                                       + b"\x01\x00\x02h2") + REQUEST),
    "v2_inet6": proxy_seed(proxy_v2(1, 0x21, bytes(15) + b"\x07" + bytes(15) + b"\x01\x01\x00\x01\xbb")),
    "v2_local": proxy_seed(proxy_v2(0, 0x00, b"")),
    "v2_small_limit": proxy_seed(proxy_v2(1, 0x11, bytes(12)), limit_index=2),
    "plain_http": proxy_seed(REQUEST),
}


def write(target, seeds):
    folder = ROOT / target
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in seeds.items():
        assert len(data) < 4096, name
        (folder / name).write_bytes(data)


write("fuzz_frame_decoder", FRAME_SEEDS)
write("fuzz_http_parser", HTTP_SEEDS)
write("fuzz_config", CONFIG_SEEDS)
write("fuzz_utf8", UTF8_SEEDS)
write("fuzz_proxy_header", PROXY_SEEDS)
