"""A client that sends but never reads: the server must drop it once `send_buffer` bytes wait
for it (close 1008), keep serving everyone else, and hold bounded memory meanwhile."""
import socket
import threading
import time

from rawws import OP_BINARY, OP_CLOSE, RawWS, TcpClosed, encode_frame

CONFIG = '[limits]\nsend_buffer = "256KiB"\nclose_timeout = "1s"\n'
MESSAGE = 128 * 1024
TOTAL = 24 << 20  # far above what the kernel buffers of both sides can absorb
RSS_GROWTH_LIMIT_KIB = 64 * 1024


def send_until_refused(sock, data, count, deadline):
    """Sends `count` copies of `data`; stops quietly when the server hangs up or time is out."""
    sock.settimeout(1.0)
    sent = 0
    while sent < count and time.monotonic() < deadline:
        try:
            sock.sendall(data)
            sent += 1
        except socket.timeout:
            continue  # the server's receive window is full for a moment
        except (BrokenPipeError, ConnectionResetError):
            break
    return sent


def drain_frames(c, timeout):
    """Reads what the server sent: the echoes that fitted, then, if it got that far, its close
    frame. Returns (number of data frames, close frame or None, how it ended)."""
    data_frames, deadline = 0, time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            f = c.recv_frame(timeout=max(deadline - time.monotonic(), 0.01))
        except TcpClosed as e:
            return data_frames, None, f"TCP closed ({e})"
        except TimeoutError:
            break
        if f.opcode == OP_CLOSE:
            return data_frames, f, "close frame"
        assert f.opcode == OP_BINARY and len(f.payload) == MESSAGE
        data_frames += 1
    return data_frames, None, "still open"


def test_slow_reader_is_dropped_and_others_served(start_server, bystander_for):
    server = start_server(CONFIG)
    bystander = bystander_for(server)
    rss_before = server.rss_kib("VmRSS")
    frame = encode_frame(OP_BINARY, b"\x5a" * MESSAGE)

    with RawWS.connect(server.host, server.port, rcvbuf=4096) as c:
        result = {}
        sender = threading.Thread(target=lambda: result.setdefault(
            "sent", send_until_refused(c.sock, frame, TOTAL // MESSAGE, time.monotonic() + 15)))
        sender.start()
        # While the slow client floods, the bystander keeps its round trips.
        while sender.is_alive():
            bystander.assert_echoes()
            time.sleep(0.05)
        sender.join()
        sent = result["sent"]
        # The server gives up on the client within close_timeout (1s) of the overflow, even
        # though the client reads nothing: only the bystander's socket is left in the server.
        assert server.wait_tcp_connections(1, timeout=3), \
            f"server still holds the slow reader's socket: {server.tcp_connections()} connections"
        assert server.rss_kib("VmHWM") - rss_before < RSS_GROWTH_LIMIT_KIB, \
            f"peak RSS grew from {rss_before} KiB to {server.rss_kib('VmHWM')} KiB"

        frames, close, ending = drain_frames(c, timeout=10)
        echoed = frames * (MESSAGE + 4)
        # Only the send buffer plus what the kernels held may have been echoed, not all of it.
        assert echoed < 8 << 20, f"{frames} of {sent} messages echoed: the slow reader was not dropped"
        if close is not None:
            assert close.close_code == 1008, f"expected close 1008, got {close.close_code}"
        else:
            assert ending.startswith("TCP closed"), f"slow reader not dropped ({ending}), {echoed} bytes echoed"
    bystander.assert_echoes()
    assert server.proc.poll() is None


def test_fast_reader_with_small_send_buffer_is_not_dropped(start_server):
    """The cap is on unsent bytes, not on traffic: a reader that keeps up is never dropped."""
    server = start_server(CONFIG)
    payload = b"\x11" * (100 * 1024)
    with RawWS.connect(server.host, server.port) as c:
        for _ in range(40):  # 4 MB through a 256 KiB send buffer
            assert c.echo(OP_BINARY, payload) == (OP_BINARY, payload)


def test_message_bigger_than_send_buffer_reaches_a_reader_that_keeps_up(start_server, bystander_for):
    """The cap bounds what the server holds, not what it sends: an echo larger than the whole
    send buffer goes straight to the kernel, and a reader that keeps up receives all of it."""
    server = start_server('[limits]\nsend_buffer = "64KiB"\nmax_message_size = "1MiB"\n')
    bystander = bystander_for(server)
    with RawWS.connect(server.host, server.port) as c:
        payload = bytes(range(256)) * 800  # 200 KiB
        assert c.echo(OP_BINARY, payload) == (OP_BINARY, payload)
    bystander.assert_echoes()
