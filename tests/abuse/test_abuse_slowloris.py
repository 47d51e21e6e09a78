"""Slowloris: many clients dribbling request heads a byte at a time. The handshake deadline
must close every one of them, all at once, while an upgraded client keeps being served.
(tests/integration/test_timeouts.py checks one slow client; this is 200 at once.)
Over TLS the clients complete their TLS handshakes (all at once) and then dribble the head,
a record per byte; the deadline counts from the TCP accept, so from each connect's start."""
import selectors
import socket
import time

from abuselib import TLS_MODE, WOULD_BLOCK, Vitals, assert_alive, connect_all, log, scaled

# Over TLS the deadline also covers the clients' TLS handshakes, all 200 at once: 3 s leaves
# room for them on a busy machine (the bounds below scale with it).
TIMEOUT = 3.0 if TLS_MODE else 1.0
CONFIG = f'[limits]\nhandshake_timeout = "{TIMEOUT:g}s"\n'
CLIENTS = scaled(200, 10)
DRIBBLE_EVERY = 0.2
# Never completed within 1 s at 5 bytes/s: the head's blank line is ~150 bytes away.
HEAD = b"GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nX-Slow: " + b"s" * 400
# Memory: 200 half-read heads are a few hundred bytes each plus a small Handshake object;
# what really moves RSS is malloc arenas (2 loops). Measured: < 0.5 MiB growth. 8 MiB is far
# from that yet would catch a per-connection buffer of even 40 KiB (200 x 40 KiB).
PEAK_GROWTH_MIB = 8
if TLS_MODE:
    # Plus each connection's OpenSSL state (~22 KiB measured, see test_abuse_10k.py) and the
    # record buffers held while a record is read: measured 8.6 MiB for 200. 40 KiB each.
    PEAK_GROWTH_MIB += CLIENTS * 40 / 1024
RETURN_MIB = 4
if TLS_MODE:
    # glibc keeps the TLS state's many small freed chunks in its arenas (measured: 7.9 MiB
    # after 200); that memory is reused, not leaked: test_abuse_10k.py's second round over
    # TLS reuses it (+0.01 MiB), and LeakSanitizer checks the ASan build.
    RETURN_MIB = PEAK_GROWTH_MIB


def test_slowloris_clients_all_closed_by_handshake_timeout(start_server, bystander_for):
    server = start_server(CONFIG)
    bystander = bystander_for(server)
    vitals = Vitals(server)

    sel = selectors.DefaultSelector()
    opened, sent, closed_after = {}, {}, {}
    try:
        for s, connect_began in connect_all(server.host, server.port, CLIENTS):
            opened[s] = connect_began
            sent[s] = 0
            sel.register(s, selectors.EVENT_READ)
        held = server.wait_tcp_connections(vitals.connections + CLIENTS, timeout=3)
        assert held, f"server accepted {server.tcp_connections()} of {CLIENTS} slow clients"
        started = time.monotonic()
        next_dribble = started
        while len(closed_after) < CLIENTS and time.monotonic() - started < 5 + TIMEOUT:
            now = time.monotonic()
            if now >= next_dribble:
                for s in list(sent):
                    if s in closed_after:
                        continue
                    try:
                        if s.send(HEAD[sent[s]:sent[s] + 1]) == 1:
                            sent[s] += 1
                    except WOULD_BLOCK:
                        pass  # connect still in progress
                    except (BrokenPipeError, ConnectionResetError):
                        closed_after[s] = now - opened[s]
                        sel.unregister(s)
                next_dribble += DRIBBLE_EVERY
                bystander.assert_echoes()  # served while hundreds of slow heads hang on
            for key, _ in sel.select(timeout=max(0.0, next_dribble - time.monotonic())):
                s = key.fileobj
                try:
                    data = s.recv(4096)
                except WOULD_BLOCK:
                    continue  # (over TLS: a record that carries no data)
                except ConnectionResetError:
                    data = b""
                # The server has nothing to say to an unfinished head: it just hangs up.
                assert data == b"", f"server answered a head still in progress: {data[:80]!r}"
                closed_after[s] = time.monotonic() - opened[s]
                sel.unregister(s)
        elapsed = time.monotonic() - started
        peak = vitals.assert_peak_growth_below(PEAK_GROWTH_MIB)
    finally:
        sel.close()
        for s in opened:
            s.close()

    assert len(closed_after) == CLIENTS, \
        f"{CLIENTS - len(closed_after)} of {CLIENTS} slow clients still open after {elapsed:.1f}s " \
        f"(handshake_timeout {TIMEOUT:g}s)"
    times = sorted(closed_after.values())
    # The deadline is 1 s from accept, checked by a sweep every 250 ms (a quarter of the
    # shortest timeout), plus our 200 ms dribble granularity.
    assert times[0] >= 0.9 * TIMEOUT and times[-1] <= TIMEOUT + 2.0, \
        f"closed between {times[0]:.2f}s and {times[-1]:.2f}s after connect, expected {TIMEOUT:g}-{TIMEOUT + 2:g} s"
    bytes_each = sorted(sent.values())
    assert bytes_each[-1] < len(HEAD), "a slow head was completed: the test would not test anything"
    settle = vitals.assert_connections_return(timeout=3)
    bystander.assert_echoes()
    back = vitals.assert_rss_returns(RETURN_MIB)
    assert_alive(server)
    log("slowloris", clients=CLIENTS, first_close_s=times[0], last_close_s=times[-1],
        max_bytes_sent=bytes_each[-1], peak_growth_mib=peak, rss_after_mib=back, settle_s=settle)
