"""Oversized request heads. The server must answer 431 as soon as max_header_size is passed,
without waiting for (or buffering) the rest: a 1 MB header line sent in chunks is refused
long before its end, and many such clients at once cost bounded memory.
(tests/integration/test_http.py checks a 431 for a whole oversized head sent in one write.)"""
import select
import threading
import time

from abuselib import Vitals, assert_alive, log, recv_now, scaled
from rawws import TcpClosed, open_socket, parse_head, wait_tcp_close

CONFIG = '[limits]\nmax_header_size = "4KiB"\nclose_timeout = "1s"\n'
LINE = 1 << 20  # one header line of 1 MB
CHUNK = 4096
PREFIX = b"GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nX-Huge: "
CLIENTS = scaled(50, 5)
# Each refused head was buffered up to max_header_size plus one read, then freed: tens of KiB
# per client at most. Measured growth for 50 clients: < 1 MiB; 16 MiB would fail if even a
# third of each client's 1 MB were buffered.
PEAK_GROWTH_MIB = 16
RETURN_MIB = 4


def send_huge_line(host, port, poll=0.1):
    """Sends PREFIX + a 1 MB header line in CHUNK pieces, looking for an answer after each.
    Returns (bytes sent when the answer or the hang-up came, response head or None). The
    wait for an answer after each chunk is what makes "refused early" robust on a busy
    machine: the server would have to stall for poll x chunks to fail the test."""
    with open_socket(host, port) as s:
        s.sendall(PREFIX)
        sent, reply = len(PREFIX), b""
        while sent < len(PREFIX) + LINE:
            try:
                s.sendall(b"h" * CHUNK)
                sent += CHUNK
            except (BrokenPipeError, ConnectionResetError):
                return sent, None  # closed on us mid-send: refused early, also a success
            if select.select([s], [], [], poll)[0]:
                try:
                    reply = recv_now(s, 4096)
                except ConnectionResetError:
                    return sent, None
                if reply is None:
                    continue  # over TLS: a record that carries no data (a session ticket)
                break
        if not reply:
            return sent, None
        while b"\r\n\r\n" not in reply:
            more = s.recv(4096)
            assert more, f"server hung up in the middle of its response: {reply!r}"
            reply += more
        head = parse_head(reply.split(b"\r\n\r\n", 1)[0])
        # Our last word is not needed: the server has half-closed, it hangs up once we stop.
        try:
            wait_tcp_close(s, timeout=3)
        except TcpClosed:
            pass
        return sent, head


def test_1mb_header_line_refused_before_it_is_sent(start_server, bystander_for):
    server = start_server(CONFIG)
    bystander = bystander_for(server)
    vitals = Vitals(server)
    sent, head = send_huge_line(server.host, server.port)
    assert sent < len(PREFIX) + LINE, "the whole 1 MB line went out before the server answered"
    if head is not None:
        assert head.status == 431, f"expected 431, got {head.status} {head.reason}"
    # Refused at the 4 KiB limit: allow for the chunks in flight before our poll saw the answer.
    assert sent <= 64 * 1024, f"431 only after {sent} bytes with max_header_size 4 KiB"
    settle = vitals.assert_connections_return(timeout=3)
    bystander.assert_echoes()
    log("headers-1mb", sent_before_answer=sent, status=head.status if head else "reset", settle_s=settle)


def test_many_clients_with_huge_header_lines(start_server, bystander_for):
    server = start_server(CONFIG)
    bystander = bystander_for(server)
    vitals = Vitals(server)
    results = [None] * CLIENTS

    def client(i):
        try:
            results[i] = send_huge_line(server.host, server.port, poll=0.05)
        except Exception as e:  # reported below, with the others
            results[i] = e

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(CLIENTS)]
    started = time.monotonic()
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads) and time.monotonic() - started < 20:
        bystander.assert_echoes()
        time.sleep(0.05)
    for t in threads:
        t.join(timeout=1)
    took = time.monotonic() - started
    failures = [r for r in results if not isinstance(r, tuple)]
    assert not failures, f"{len(failures)} clients failed: {failures[:3]}"
    statuses = sorted({h.status if h else "reset" for _, h in results}, key=str)
    assert set(statuses) <= {431, "reset"}, f"answers seen: {statuses}"
    late = [sent for sent, _ in results if sent > 256 * 1024]
    assert not late, f"{len(late)} clients sent over 256 KiB before being refused: {late[:5]}"
    peak = vitals.assert_peak_growth_below(PEAK_GROWTH_MIB)
    settle = vitals.assert_connections_return(timeout=3)
    bystander.assert_echoes()
    back = vitals.assert_rss_returns(RETURN_MIB)
    assert_alive(server)
    log("headers-many", clients=CLIENTS, seconds=took, statuses=statuses,
        max_sent=max(sent for sent, _ in results), peak_growth_mib=peak, rss_after_mib=back,
        settle_s=settle)
