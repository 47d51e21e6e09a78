"""Several clients that send large messages, over and over, and never read the echoes. The
send-buffer cap must drop each of them (1008 or a TCP drop) and keep the server's memory far
below what they sent. (tests/integration/test_backpressure.py checks one such client with a
256 KiB cap; this is several at once, each able to fill a 1 MiB cap many times over.)"""
import socket
import ssl
import threading
import time

from abuselib import Vitals, assert_alive, log, scaled
from rawws import OP_BINARY, OP_CLOSE, RawWS, TcpClosed, encode_frame

CONFIG = '[limits]\nsend_buffer = "1MiB"\nclose_timeout = "1s"\nmax_message_size = "1MiB"\n'
CLIENTS = scaled(8, 2)
MESSAGE = 256 * 1024
PER_CLIENT = 96 << 20  # 3x what the kernel alone can buffer (tcp_rmem max 32 MB) per socket
# Each dropped client may cost the server its capped outbox (1 MiB, in a std::string that can
# have doubled to 2 MiB) plus a message being reassembled (256 KiB): ~2.5 MiB, x 8 = 20 MiB.
# Measured peak growth: ~11 MiB. The bound, 48 MiB, is 16x below the 768 MiB the clients push
# (8 x 96 MiB) and below even one client's worth, so holding any client's flood would fail.
PEAK_GROWTH_MIB = 48
# Afterwards: glibc keeps some freed chunks in its arenas; measured ~1 MiB left over.
RETURN_MIB = 8


def flood(c, frame, result, deadline):
    """Sends copies of `frame` until the server hangs up, PER_CLIENT is sent, or time is out."""
    sent = 0
    while sent * MESSAGE < PER_CLIENT and time.monotonic() < deadline:
        c.sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            c.sock.sendall(frame)
            sent += 1
        except socket.timeout:
            break  # held off until the deadline: the server stopped reading us
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):  # over TLS the drop may show inside ssl
            result["ended"] = "reset while sending"
            break
    result["sent"] = sent


def ending_of(c, timeout=5.0):
    """Reads what reached the client: echoes, then a close frame, or a drop. Returns (echoed
    bytes, close code or None)."""
    echoed, deadline = 0, time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            f = c.recv_frame(timeout=max(0.01, deadline - time.monotonic()))
        except (TcpClosed, ConnectionResetError):
            return echoed, None
        if f.opcode == OP_CLOSE:
            return echoed, f.close_code
        assert f.opcode == OP_BINARY and len(f.payload) == MESSAGE, f"unexpected frame {f.opcode:#x}"
        echoed += len(f.payload)
    raise AssertionError(f"non-reading client neither closed nor dropped after {timeout}s")


def test_never_reading_clients_are_dropped_and_memory_stays_bounded(start_server, bystander_for):
    server = start_server(CONFIG)
    bystander = bystander_for(server)
    vitals = Vitals(server)
    frame = encode_frame(OP_BINARY, b"\xa5" * MESSAGE)

    clients = [RawWS.connect(server.host, server.port, rcvbuf=4096) for _ in range(CLIENTS)]
    try:
        results = [{} for _ in clients]
        deadline = time.monotonic() + 20
        threads = [threading.Thread(target=flood, args=(c, frame, r, deadline), daemon=True)
                   for c, r in zip(clients, results)]
        started = time.monotonic()
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            bystander.assert_echoes()
            time.sleep(0.05)
        flood_s = time.monotonic() - started
        peak = vitals.assert_peak_growth_below(PEAK_GROWTH_MIB)
        # Dropped within close_timeout (1s) of the overflow even though none of them reads.
        settle = vitals.assert_connections_return(timeout=4)
        endings = [ending_of(c) for c in clients]
    finally:
        for c in clients:
            c.close()

    sent = [r["sent"] * MESSAGE for r in results]
    for i, ((echoed, code), total) in enumerate(zip(endings, sent)):
        assert code in (1008, None), f"client {i}: close {code}, expected 1008 (send buffer full)"
        # Only the cap plus what the kernels held can have been echoed, never everything.
        assert echoed < 8 << 20, f"client {i}: {echoed} of {total} bytes echoed: not dropped"
    assert sum(sent) > CLIENTS * 4 << 20, f"clients sent only {sum(sent)} bytes: nothing was tested"
    bystander.assert_echoes()
    back = vitals.assert_rss_returns(RETURN_MIB)
    assert_alive(server)
    log("nonreaders", clients=CLIENTS, sent_mib=sum(sent) / 2**20, flood_s=flood_s,
        reset_while_sending=sum(1 for r in results if "ended" in r),
        codes=[code for _, code in endings], peak_growth_mib=peak, rss_after_mib=back,
        settle_s=settle)
