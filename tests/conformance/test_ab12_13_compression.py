"""Autobahn|Testsuite groups 12 and 13, permessage-deflate: many compressed messages of
16 B .. 128 KiB echoed in order (12.x), under each offer variant of 13.x — the client asking
for no context takeover and/or a server window size, and a list of offers where the first
is unacceptable (13.7). The client is python-websockets' own permessage-deflate, which checks
the server's response against its offer and inflates what the server sends.

Autobahn's 13.3/13.5/13.7 ask for server_max_window_bits=8, which zlib cannot produce: such an
offer is declined (the connection then runs uncompressed, or takes the next offer)."""
import asyncio
import os

import pytest
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory

from helpers import connect, run

SIZES = [16, 64, 256, 1024, 4096, 16384, 65536, 131072]
MESSAGES_PER_SIZE = 40
SHARED = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"


def text_of(size: int) -> str:
    unit = '{"action":"message","data":"Hello, wörld"} '
    return (unit * (size // len(unit) + 1))[:size]


def offer(no_context_takeover: bool, window_bits: int):
    kwargs = {"client_max_window_bits": True}
    if no_context_takeover:
        kwargs["server_no_context_takeover"] = True
    if window_bits:
        kwargs["server_max_window_bits"] = window_bits
    return ClientPerMessageDeflateFactory(**kwargs)


async def exchange(ws, binary: bool):
    """Sends MESSAGES_PER_SIZE messages of every size back to back; all echoes in order."""
    for size in SIZES:
        batch = [os.urandom(size) if binary else text_of(size - 1) + str(i % 10) for i in range(MESSAGES_PER_SIZE)]
        sender = asyncio.ensure_future(asyncio.gather(*(ws.send(m) for m in batch)))
        for expected in batch:
            assert await asyncio.wait_for(ws.recv(), 20) == expected
        await sender


CASES_12 = [(f"12.{kind}", binary) for kind, binary in ((1, False), (2, True))]


@pytest.mark.parametrize("case, binary", CASES_12, ids=[c for c, _ in CASES_12])
def test_case_12(server, case, binary):
    async def main():
        async with connect(server.url(), extensions=[offer(False, 0)], max_size=None) as ws:
            assert ws.response_headers.get("Sec-WebSocket-Extensions") == SHARED
            await exchange(ws, binary)
    run(main(), timeout=120)


# (offers as (no_context_takeover, server_max_window_bits), expected response or None)
CASES_13 = {
    "13.1": ([(False, 0)], SHARED),
    "13.2": ([(True, 0)], SHARED),
    "13.3": ([(False, 8)], None),
    "13.4": ([(False, 15)], SHARED + "; server_max_window_bits=15"),
    "13.5": ([(True, 8)], None),
    "13.6": ([(True, 15)], SHARED + "; server_max_window_bits=15"),
    "13.7": ([(True, 8), (True, 0), (False, 0)], SHARED),
    "13.4b": ([(False, 9)], SHARED + "; server_max_window_bits=9"),
}


@pytest.mark.parametrize("mode", ["shared", "dedicated"])
@pytest.mark.parametrize("case", list(CASES_13))
def test_case_13(start_server, case, mode):
    offers, expected = CASES_13[case]
    if mode == "dedicated" and expected is not None:
        # Per-connection codecs honour exactly what was asked: no forced no-context-takeover.
        asked_nct = next(nct for nct, bits in offers if bits != 8)
        bits = next(bits for nct, bits in offers if bits != 8)
        expected = "permessage-deflate" + ("; server_no_context_takeover" if asked_nct else "") + \
                   (f"; server_max_window_bits={bits}" if bits else "")
    server = start_server(f'[compression]\nmode = "{mode}"\n')

    async def main():
        factories = [offer(nct, bits) for nct, bits in offers]
        async with connect(server.url(), extensions=factories, max_size=None) as ws:
            assert ws.response_headers.get("Sec-WebSocket-Extensions") == expected
            await exchange(ws, binary=False)
    run(main(), timeout=120)
