"""Connection storm: thousands of connections upgraded and closed in tight loops, from several
threads at once, ending every way a client can (clean close handshake, FIN right after the
101, reset right after the 101, reset before the 101 arrives). No fd may leak."""
import socket
import threading
import time

from abuselib import Vitals, assert_alive, log, reset_close, scaled
from rawws import OP_TEXT, RawWS, open_socket, upgrade_request

CONNECTIONS = scaled(2000, 100)
THREADS = 4
# Connections come and go one by one: at most THREADS exist at any time. Measured growth
# < 0.5 MiB; 8 MiB would catch a leak of ~4 KiB per connection.
PEAK_GROWTH_MIB = 8
RETURN_MIB = 4


def clean(host, port):
    with RawWS.connect(host, port) as c:
        assert c.echo(OP_TEXT, b"storm") == (OP_TEXT, b"storm")
        c.send_close(1000)
        c.expect_close(1000, timeout=3)


def fin_after_101(host, port):
    RawWS.connect(host, port).close()


def reset_after_101(host, port):
    reset_close(RawWS.connect(host, port).sock)


def reset_before_101(host, port):
    s = open_socket(host, port)
    s.sendall(upgrade_request(host=f"{host}:{port}"))
    reset_close(s)  # the 101 may still be on its way: the server writes into a dead socket


ENDINGS = (clean, fin_after_101, reset_after_101, reset_before_101)


def test_connection_storm_leaks_no_fd(start_server, bystander_for):
    server = start_server('[limits]\nclose_timeout = "1s"\n')
    bystander = bystander_for(server)
    vitals = Vitals(server)
    errors, done = [], [0] * THREADS

    def storm(t):
        try:
            for i in range(t, CONNECTIONS, THREADS):
                ENDINGS[i % len(ENDINGS)](server.host, server.port)
                done[t] += 1
        except Exception as e:
            errors.append(f"thread {t}, connection {done[t]}: {e!r}")

    threads = [threading.Thread(target=storm, args=(t,), daemon=True) for t in range(THREADS)]
    started = time.monotonic()
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads) and time.monotonic() - started < 60:
        bystander.assert_echoes()  # served in the middle of the storm
        time.sleep(0.05)
    for t in threads:
        t.join(timeout=1)
    took = time.monotonic() - started
    assert not errors, f"{len(errors)} storm clients failed: {errors[:3]}"
    assert sum(done) == CONNECTIONS, f"only {sum(done)} of {CONNECTIONS} connections in {took:.1f}s"
    peak = vitals.assert_peak_growth_below(PEAK_GROWTH_MIB)
    settle = vitals.assert_connections_return(timeout=3)
    vitals.assert_fds_return(timeout=2)
    bystander.assert_echoes()
    back = vitals.assert_rss_returns(RETURN_MIB)
    assert_alive(server)
    log("storm", connections=CONNECTIONS, threads=THREADS, seconds=took, per_second=int(CONNECTIONS / took),
        fds=vitals.fd_count(), peak_growth_mib=peak, rss_after_mib=back, settle_s=settle)
