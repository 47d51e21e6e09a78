"""Ping floods. A client that pings far faster than it reads the pongs must either get every
pong, in order, while the server holds bounded memory (it stops reading that client), or be
closed with 1008 when its unread pongs pass `send_buffer`, like any other slow reader. A
client that pings but reads its pongs gets every one of them, in order."""
import struct
import threading
import time

from abuselib import Vitals, assert_alive, log, scaled
from rawws import OP_CLOSE, OP_PING, OP_PONG, RawWS, TcpClosed, encode_frame

SEND_BUFFER_KIB = 256
CONFIG = f'[limits]\nsend_buffer = "{SEND_BUFFER_KIB}KiB"\nclose_timeout = "1s"\n'
PINGS = scaled(100_000, 2000)
PAYLOAD = 125  # the largest control payload: sequence number + padding
BATCH = 1000   # pings per write: ~130 KB
# The flood is ~13 MB of pings, hence ~12.7 MB of pongs. Whatever the server does with them,
# it must not hold more than the send buffer (256 KiB) of unsent pongs: with the 512 KiB read
# buffer and malloc's rounding, a well-behaved server grows by ~1 MiB. 6 MiB of headroom
# still fails a server that keeps half of the pongs it owes in memory.
PEAK_GROWTH_MIB = 6
RETURN_MIB = 4


def ping(i):
    return encode_frame(OP_PING, struct.pack("!I", i) + b"p" * (PAYLOAD - 4))


def read_pongs(c, out, deadline, pause, slow_for):
    """Reads pongs and checks their order: slowly (sleeping `pause` per 4 KiB) for `slow_for`
    seconds, then at full speed; stops at a close frame, a drop, or the deadline."""
    slow_until = time.monotonic() + slow_for
    expected = 0
    while time.monotonic() < deadline and expected < PINGS and not out.get("stop"):
        try:
            f = c.recv_frame(timeout=0.2)
        except (TcpClosed, ConnectionResetError):
            out["ending"] = "dropped"
            break
        except TimeoutError:
            continue
        if f.opcode == OP_CLOSE:
            out["ending"] = f"close {f.close_code}"
            break
        if f.opcode != OP_PONG:
            out["ending"] = f"unexpected frame {f.opcode:#x} {f.payload[:16]!r}"
            break
        seq = struct.unpack("!I", f.payload[:4])[0]
        if seq != expected or len(f.payload) != PAYLOAD:
            out["ending"] = f"pong {seq} ({len(f.payload)} bytes) where {expected} was due"
            break
        expected += 1
        out["pongs_so_far"] = expected
        if expected % 32 == 0 and time.monotonic() < slow_until:  # 32 pongs ~ 4 KiB
            time.sleep(pause)
    out["pongs"] = expected
    out.setdefault("ending", "all pongs" if expected == PINGS else "timeout")


def flood(c, batches, out, deadline, bystander, vitals):
    """Sends the pings in big writes; then, the reader still lagging, checks the server holds
    bounded memory."""
    started, sent = time.monotonic(), 0
    for data in batches:
        # A server that stops reading us (TCP backpressure) blocks this send: fine, the reader
        # catches up. Only the deadline ends it (a timed-out sendall may have sent part).
        c.sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            c.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            break
        sent += len(data) // len(ping(0))
        if sent % 20_000 == 0:
            bystander.assert_echoes()
    flood_s = time.monotonic() - started
    # The kernel took the flood at once (the server's receive buffer grows to MBs); give the
    # server a second to work through it, while the reader is still in its slow phase.
    time.sleep(1.0)
    bystander.assert_echoes()
    peak = vitals.peak_growth_mib()
    out["sent"] = sent
    log("pingflood-slow", pings_sent=sent, flood_s=flood_s, pongs_read_so_far=out.get("pongs_so_far"),
        peak_growth_mib=peak)
    # Checked while the reader still lags: the pongs it has not read yet must not all be
    # sitting in the server's memory.
    owed = sent - out.get("pongs_so_far", 0)
    assert peak < PEAK_GROWTH_MIB * vitals.factor, \
        f"server RSS grew {peak:.1f} MiB (bound {PEAK_GROWTH_MIB * vitals.factor:.0f}) holding pongs for " \
        f"{owed} pings ({owed * (PAYLOAD + 2) / 2**20:.1f} MiB) the client has not read yet, with " \
        f"send_buffer {SEND_BUFFER_KIB} KiB: pongs escape the send-buffer cap"


def test_ping_flood_with_slow_reader_is_bounded(start_server, bystander_for):
    server = start_server(CONFIG)
    bystander = bystander_for(server)
    vitals = Vitals(server)
    batches = [b"".join(ping(i) for i in range(k, min(k + BATCH, PINGS))) for k in range(0, PINGS, BATCH)]

    out = {}
    with RawWS.connect(server.host, server.port, rcvbuf=16384) as c:
        deadline = time.monotonic() + 20
        # A slow reader: ~4 KiB per 5 ms, under 1 MB/s, while the flood goes out at loopback
        # speed; after 2 s it reads at full speed, so a server that answers every pong (and
        # stops reading the flood meanwhile) is done in seconds too.
        reader = threading.Thread(target=read_pongs, args=(c, out, deadline, 0.005, 2.0), daemon=True)
        reader.start()
        try:
            flood(c, batches, out, deadline, bystander, vitals)
        except BaseException:
            out["stop"] = True  # the socket closes below: the reader must be off it first
            raise
        finally:
            reader.join(timeout=max(0.1, deadline - time.monotonic()) + 1)
        assert not reader.is_alive(), "reader stuck"

    ending = out["ending"]
    # Either every pong came back, in order, or the server gave up on this reader with 1008
    # (or dropped it after that close) having sent a gap-free prefix of the pongs.
    assert ending in ("all pongs", "close 1008", "dropped"), \
        f"ping flood ended with {ending!r} after {out['pongs']} of {out['sent']} pongs"
    settle = vitals.assert_connections_return(timeout=3)
    bystander.assert_echoes()
    back = vitals.assert_rss_returns(RETURN_MIB)
    assert_alive(server)
    log("pingflood-slow", pongs_read=out["pongs"], ending=ending, peak_growth_mib=vitals.peak_growth_mib(),
        rss_after_mib=back, settle_s=settle)


def test_pings_with_normal_reader_all_answered_in_order(start_server, bystander_for):
    server = start_server(CONFIG)
    bystander = bystander_for(server)
    vitals = Vitals(server)
    count = scaled(20_000, 1000)
    window = 500  # pings in flight: ~64 KB, well inside the 256 KiB send buffer
    with RawWS.connect(server.host, server.port) as c:
        started = time.monotonic()
        for k in range(0, count, window):
            c.send_raw(b"".join(ping(i) for i in range(k, min(k + window, count))))
            for i in range(k, min(k + window, count)):
                f = c.recv_frame(timeout=5)
                assert f.opcode == OP_PONG, f"frame {f.opcode:#x} where pong {i} was due"
                assert f.payload == struct.pack("!I", i) + b"p" * (PAYLOAD - 4), \
                    f"pong {struct.unpack('!I', f.payload[:4])[0]} where pong {i} was due"
            if k % 5000 == 0:
                bystander.assert_echoes()
        took = time.monotonic() - started
        c.send_close(1000)
        c.expect_close(1000)
    vitals.assert_connections_return(timeout=3)
    bystander.assert_echoes()
    peak = vitals.assert_peak_growth_below(PEAK_GROWTH_MIB)
    assert_alive(server)
    log("pingflood-reader", pings=count, seconds=took, peak_growth_mib=peak)
