"""Frames that announce 100 MB and never deliver it, from 100 connections at once. Over
max_message_size each is refused with 1009 on its header alone; under a limit that admits
them, the server must not reserve what was merely announced.
(tests/integration/test_protocol_violations.py checks one such frame on one connection.)"""
import time

from abuselib import Vitals, assert_alive, log, reset_close, scaled
from rawws import OP_BINARY, RawWS, encode_frame

CLIENTS = scaled(100, 10)
ANNOUNCED = 100 * 1000 * 1000
HEADER = encode_frame(OP_BINARY, b"", length=ANNOUNCED)  # 14 bytes: header + mask key
SOME_PAYLOAD = b"\x00" * 100
# Nothing near 100 connections x 100 MB (10 GB). Refused at once: the connections own no
# buffer at all; measured < 0.5 MiB. Admitted: the reassembly buffer starts at 64 KiB at most
# (then grows with what arrives): 100 x 64 KiB = 6.4 MiB reserved, but untouched pages are not
# resident, so RSS barely moves (measured < 0.5 MiB) and VmData (reserved address space) is
# checked too: measured ~7 MiB. Bound 24 MiB for both: fails if each connection reserved even
# 256 KiB of its announced 100 MB.
PEAK_GROWTH_MIB = 24
VMDATA_GROWTH_MIB = 24
RETURN_MIB = 8  # glibc keeps part of the freed 64 KiB buffers; measured ~1 MiB left


def test_100mb_frames_refused_1009_at_once(start_server, bystander_for):
    server = start_server('[limits]\nmax_message_size = "1MiB"\n')
    bystander = bystander_for(server)
    vitals = Vitals(server)
    clients = [RawWS.connect(server.host, server.port) for _ in range(CLIENTS)]
    try:
        started = time.monotonic()
        for c in clients:
            c.send_raw(HEADER + SOME_PAYLOAD)
        slowest = 0.0
        for i, c in enumerate(clients):
            # The close comes on the header alone, at once, not after some timeout (the
            # shortest here is close_timeout, 5 s).
            c.expect_close(1009, timeout=2.0)
            slowest = time.monotonic() - started
        bystander.assert_echoes()
        peak = vitals.assert_peak_growth_below(PEAK_GROWTH_MIB)
        vitals.assert_vmdata_growth_below(VMDATA_GROWTH_MIB)
    finally:
        for c in clients:
            c.close()
    assert slowest < 2.0, f"the last 1009 came {slowest:.2f}s after the headers"
    settle = vitals.assert_connections_return(timeout=3)
    bystander.assert_echoes()
    back = vitals.assert_rss_returns(RETURN_MIB)
    assert_alive(server)
    log("bigframes-1009", clients=CLIENTS, last_close_s=slowest, peak_growth_mib=peak,
        rss_after_mib=back, settle_s=settle)


def test_100mb_frames_admitted_reserve_nothing_like_100mb(start_server, bystander_for):
    server = start_server('[limits]\nmax_message_size = "256MiB"\nidle_timeout = "30s"\n')
    bystander = bystander_for(server)
    vitals = Vitals(server)
    clients = [RawWS.connect(server.host, server.port) for _ in range(CLIENTS)]
    try:
        for c in clients:
            c.send_raw(HEADER + SOME_PAYLOAD)
        time.sleep(0.5)  # let the server take every header and start each message
        assert vitals.socket_fd_count() - vitals.socket_fds == CLIENTS, "an admitted frame was refused"
        bystander.assert_echoes()
        peak = vitals.assert_peak_growth_below(PEAK_GROWTH_MIB)
        vmdata = vitals.assert_vmdata_growth_below(VMDATA_GROWTH_MIB)
        # Half a MiB more each: the buffers grow with what really arrives, and only that (a
        # string doubling its capacity: at most 1 MiB each).
        for c in clients:
            c.send_raw(b"\x01" * (512 * 1024))
        time.sleep(0.5)
        fed_growth = vitals.peak_growth_mib()
        assert fed_growth < (PEAK_GROWTH_MIB + CLIENTS * 1.25) * vitals.factor, \
            f"RSS grew {fed_growth:.1f} MiB for {CLIENTS} x 0.5 MiB received"
        bystander.assert_echoes()
    finally:
        for c in clients:
            reset_close(c.sock)  # mid-message: the buffers must be freed on a reset too
    settle = vitals.assert_connections_return(timeout=3)
    bystander.assert_echoes()
    back = vitals.assert_rss_returns(RETURN_MIB + CLIENTS // 10)
    assert_alive(server)
    log("bigframes-admitted", clients=CLIENTS, peak_growth_mib=peak, vmdata_growth_mib=vmdata,
        fed_growth_mib=fed_growth,
        rss_after_mib=back, settle_s=settle)
