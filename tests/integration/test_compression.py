"""permessage-deflate (RFC 7692) against the real binary: negotiation with python-websockets'
offers (an implementation nobody here wrote), both memory modes, the threshold, and the
faults only a compressed message can have (deflate bombs, corrupt data, bad UTF-8 inside)."""
import os
import zlib

import pytest
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory

from helpers import connect, echo_roundtrip, run
from rawws import OP_CONT, OP_TEXT, RawWS

RSV1 = 0b100
JSON = '{"action":"message","data":"hello, world"} ' * 40  # ~1.7 KB, compresses well
OFFER = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"


def deflate_raw(data: bytes, wbits=15) -> bytes:
    """A message as a client compresses it: raw DEFLATE, sync-flushed, tail removed (§7.2.1)."""
    c = zlib.compressobj(1, zlib.DEFLATED, -wbits)
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


def inflate_raw(data: bytes) -> bytes:
    return zlib.decompressobj(-15).decompress(data + b"\x00\x00\xff\xff")


def extensions_of(ws):
    return ws.response_headers.get("Sec-WebSocket-Extensions")


@pytest.mark.parametrize("factory, expected", [
    (ClientPerMessageDeflateFactory(client_max_window_bits=True),
     "permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
    (ClientPerMessageDeflateFactory(server_max_window_bits=10, client_max_window_bits=9),
     "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10"),
    (ClientPerMessageDeflateFactory(server_no_context_takeover=True, client_no_context_takeover=True),
     "permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
], ids=["default", "window-bits", "no-context-takeover"])
def test_shared_mode_negotiates_and_echoes(server, factory, expected):
    messages = ["small", "x" * 300, JSON, "héllo wörld € 😀 " * 500, os.urandom(5000), b"\0" * 100_000]

    async def main():
        async with connect(server.url(), extensions=[factory], max_size=None) as ws:
            assert extensions_of(ws) == expected
            for m in messages:
                assert await echo_roundtrip(ws, m) == m
    run(main())


def test_dedicated_mode_keeps_context_across_messages(start_server):
    server = start_server('[compression]\nmode = "dedicated"\n')

    async def main():
        factory = ClientPerMessageDeflateFactory(client_max_window_bits=True)
        async with connect(server.url(), extensions=[factory], max_size=None) as ws:
            assert extensions_of(ws) == "permessage-deflate"  # context takeover both ways
            for i in range(20):  # later messages refer back into earlier ones
                assert await echo_roundtrip(ws, JSON + str(i)) == JSON + str(i)
    run(main())


def test_disabled_declines_every_offer(start_server):
    server = start_server("[compression]\nenabled = false\n")

    async def main():
        async with connect(server.url(), compression="deflate") as ws:
            assert extensions_of(ws) is None
            assert await echo_roundtrip(ws, JSON) == JSON
    run(main())


def test_unacceptable_offer_is_declined_not_refused(server):
    with RawWS.connect(server.host, server.port, extra_headers=[
            "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=8, permessage-deflate; bogus"]) as ws:
        assert "sec-websocket-extensions" not in ws.response.headers
        assert ws.echo(OP_TEXT, b"plain") == (OP_TEXT, b"plain")


def test_replies_over_the_threshold_are_compressed_and_under_it_are_not(start_server):
    server = start_server('[compression]\nthreshold = "1KiB"\n')
    with RawWS.connect(server.host, server.port, extra_headers=[OFFER]) as ws:
        big = JSON.encode()
        ws.send_frame(OP_TEXT, deflate_raw(big), rsv=RSV1)
        frame = ws.recv_frame()
        assert frame.rsv == RSV1 and frame.opcode == OP_TEXT
        assert len(frame.payload) < len(big) // 4
        assert inflate_raw(frame.payload) == big
        ws.send_frame(OP_TEXT, b"tiny")  # an uncompressed message is always allowed
        frame = ws.recv_frame()
        assert frame.rsv == 0 and frame.payload == b"tiny"


def test_compressed_fragmented_message(server):
    with RawWS.connect(server.host, server.port, extra_headers=[OFFER]) as ws:
        packed = deflate_raw(JSON.encode())
        third = len(packed) // 3
        ws.send_frame(OP_TEXT, packed[:third], fin=False, rsv=RSV1)  # RSV1 on the first frame only
        ws.send_frame(OP_CONT, packed[third:2 * third], fin=False)
        ws.send_frame(OP_CONT, packed[2 * third:])
        frame = ws.recv_frame()
        assert inflate_raw(frame.payload) == JSON.encode()


def test_deflate_bomb_closes_1009(server):
    # 64 MiB of zeros is ~64 KiB compressed; the 1 MiB limit applies to the inflated size.
    # Growth over the RSS before, not the RSS itself: the ASan build starts at ~55 MiB, ~60
    # with TLS contexts loaded, so an absolute 64 MiB bound would say nothing about the bomb.
    rss_before = server.rss_kib()
    with RawWS.connect(server.host, server.port, extra_headers=[OFFER]) as ws:
        bomb = deflate_raw(b"\0" * (64 << 20))
        assert len(bomb) < 1 << 20
        ws.send_frame(OP_TEXT, bomb, rsv=RSV1)
        ws.expect_close(1009)
    grown = server.rss_kib() - rss_before
    assert grown < 32 * 1024, f"RSS grew {grown} KiB: the bomb must not be inflated in full"


@pytest.mark.parametrize("payload, code", [
    (b"\xff\xff\xff\xff\xff", 1007),                       # not DEFLATE at all
    (None, 1007),                                          # valid DEFLATE of invalid UTF-8
], ids=["corrupt", "bad-utf8-inside"])
def test_bad_compressed_text_closes(server, payload, code):
    if payload is None:
        payload = deflate_raw(b"valid start \xc0\xaf then overlong")
    with RawWS.connect(server.host, server.port, extra_headers=[OFFER]) as ws:
        ws.send_frame(OP_TEXT, payload, rsv=RSV1)
        ws.expect_close(code)


def test_rsv1_without_negotiation_or_on_continuation_is_1002(server):
    with RawWS.connect(server.host, server.port) as ws:  # no offer
        ws.send_frame(OP_TEXT, deflate_raw(b"hello"), rsv=RSV1)
        ws.expect_close(1002)
    with RawWS.connect(server.host, server.port, extra_headers=[OFFER]) as ws:
        ws.send_frame(OP_TEXT, b"part one ", fin=False)
        ws.send_frame(OP_CONT, b"part two", rsv=RSV1)
        ws.expect_close(1002)
