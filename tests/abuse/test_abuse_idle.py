"""Half-open connections: clients that complete the handshake, then never read, never answer
a ping, never send again (some stopped mid-frame). The idle timeout must reap every one of
them, not earlier than configured, even though none ever reads the server's pings or close.
(tests/integration/test_timeouts.py checks one silent client that does read its frames.)
Over TLS every duration is doubled (T): opening 100 clients one TLS handshake after another
must fit in the first half of idle_timeout on a busy machine."""
import time

from abuselib import TLS_MODE, Vitals, assert_alive, log, scaled, wait_until
from rawws import OP_BINARY, OP_CLOSE, OP_PING, RawWS, TcpClosed, encode_frame

T = 2.0 if TLS_MODE else 1.0
CONFIG = f'[limits]\nping_interval = "{int(500 * T)}ms"\nidle_timeout = "{int(2000 * T)}ms"\nclose_timeout = "{int(1000 * T)}ms"\n'
CLIENTS = scaled(100, 10)
HALF_FRAME = encode_frame(OP_BINARY, b"m" * 1024)[:8 + 3]
# 100 idle connections own almost nothing (no buffers while idle; a 1 KiB reassembly buffer
# for those mid-frame): measured < 0.5 MiB. 8 MiB would catch ~80 KiB per connection.
PEAK_GROWTH_MIB = 8
RETURN_MIB = 4


def test_silent_clients_reaped_by_idle_timeout(start_server, bystander_for):
    server = start_server(CONFIG)
    bystander = bystander_for(server)
    vitals = Vitals(server)

    clients = []
    try:
        first_open = time.monotonic()
        for i in range(CLIENTS):
            # A tiny receive window, and nothing read from here on: pings pile up unanswered.
            c = RawWS.connect(server.host, server.port, rcvbuf=4096)
            clients.append(c)
            if i % 2:
                c.send_raw(HALF_FRAME)  # went silent in the middle of a frame
        last_open = time.monotonic()
        assert last_open - first_open < 1.0 * T, f"opening took {last_open - first_open:.2f}s: too slow to test"

        def held():
            return vitals.socket_fd_count() - vitals.socket_fds

        # Nobody is reaped before idle_timeout (2 s) has passed since its last byte.
        while time.monotonic() < first_open + 1.8 * T:
            assert held() == CLIENTS, \
                f"{CLIENTS - held()} silent clients dropped {time.monotonic() - first_open:.2f}s " \
                f"after opening, before idle_timeout ({2 * T:g}s)"
            bystander.assert_echoes()
            time.sleep(0.1)
        first_drop = wait_until(lambda: held() < CLIENTS and time.monotonic(), 3.0 * T)
        # Reaped at idle_timeout + close_timeout (the close frame is sent, then the server waits
        # 1 s for a hang-up that never comes) + a 125 ms sweep tick: ~3.1 s.
        settle = vitals.assert_connections_return(timeout=max(0.1, last_open + 4.5 * T - time.monotonic()))
        all_gone = time.monotonic()
        bystander.assert_echoes()
        peak = vitals.assert_peak_growth_below(PEAK_GROWTH_MIB)

        # What piled up unread in each client: a few empty pings, then close 1001, then EOF.
        pings = []
        for i, c in enumerate(clients):
            frames = []
            while True:
                f = c.recv_frame(timeout=2)
                frames.append(f.opcode)
                if f.opcode == OP_CLOSE:
                    break
                assert f.opcode == OP_PING and f.payload == b"", f"client {i}: unexpected {f}"
            assert f.close_code == 1001, f"client {i}: idle close code {f.close_code}, frames {frames}"
            try:
                rest = c.recv_frame(timeout=2)
                raise AssertionError(f"client {i}: frame after the close: {rest}")
            except TcpClosed:
                pass
            pings.append(len(frames) - 1)
    finally:
        for c in clients:
            c.close()

    assert first_drop, f"no silent client was dropped within {4.8 * T:g} s"
    assert first_drop - first_open >= 2.0 * T, f"first drop after {first_drop - first_open:.2f}s"
    # ping_interval 500 ms of silence before each ping: 0.5, 1.0, 1.5 s, then the close at 2 s.
    assert min(pings) >= 2 and max(pings) <= 4, f"pings before the idle close: {min(pings)}..{max(pings)}"
    back = vitals.assert_rss_returns(RETURN_MIB)
    assert_alive(server)
    log("idle", clients=CLIENTS, first_drop_s=first_drop - first_open, all_gone_s=all_gone - first_open,
        pings=f"{min(pings)}..{max(pings)}", peak_growth_mib=peak, rss_after_mib=back, settle_s=settle)
