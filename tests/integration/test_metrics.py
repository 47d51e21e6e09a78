"""GET /metrics against the real binary: every scrape goes through tests/metrics/run.sh, which
parses the body with npm parse-prometheus-text-format, compares it line for line with what
prom-client writes for the same families, and checks the format's rules; the values the tests
compare with the traffic they made are the ones that parser read (--json-out)."""
import asyncio
import json
import re
import socket
import subprocess
import time
from pathlib import Path

import pytest
import websockets

from helpers import connect, run
from notify_support import NotifyEnv, notify_config, url
from rawws import OP_BINARY, RawWS, encode_frame, http_exchange, open_socket, upgrade_request

CHECKER = Path(__file__).resolve().parents[2] / "tests" / "metrics" / "run.sh"
SUMMARY_RE = re.compile(r"^metrics: (\d+) passed, (\d+) failed$", re.M)

TWO_ROUTES = """
[limits]
max_message_size = "1KiB"

[[routes]]
path = "/echo"
component = "echo"

[[routes]]
path = "/other"
component = "echo"
"""


class Scrape:
    """One /metrics body as parse-prometheus-text-format read it."""

    def __init__(self, families):
        self.families = {f["name"]: f for f in families}

    def value(self, name, **labels):
        """The sample of `name` with exactly these labels (0 when the family has none such)."""
        for m in self.families[name]["metrics"]:
            if m.get("labels", {}) == labels:
                return float(m["value"])
        return 0.0

    def histogram(self, name):
        (m,) = self.families[name]["metrics"]
        return {"buckets": {le: float(n) for le, n in m["buckets"].items()}, "count": float(m["count"]),
                "sum": float(m["sum"])}


def scrape(server, tmp_path) -> Scrape:
    out = tmp_path / f"metrics-{time.monotonic_ns()}.json"
    r = subprocess.run([str(CHECKER), f"http://{server.host}:{server.port}/metrics", "--expect-capstan",
                        "--json-out", str(out)], capture_output=True, text=True, timeout=300)
    summary = SUMMARY_RE.search(r.stdout)
    assert r.returncode == 0 and summary and summary.group(2) == "0", f"checker:\n{r.stdout}\n{r.stderr}"
    return Scrape(json.loads(out.read_text()))


def wait_for(condition, what, timeout=5.0):
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        time.sleep(0.05)


def delta(after: Scrape, before: Scrape, name, **labels):
    return after.value(name, **labels) - before.value(name, **labels)


def test_checker_accepts_prom_client_output_and_refuses_broken_bodies():
    r = subprocess.run([str(CHECKER), "--self-test"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"{r.stdout}\n{r.stderr}"
    assert re.search(r"^metrics: \d+ passed, 0 failed$", r.stdout, re.M), r.stdout


def test_counts_follow_connections_messages_and_closes(start_server, tmp_path):
    server = start_server("[server]\nthreads = 2\n" + TWO_ROUTES)
    before = scrape(server, tmp_path)
    assert before.value("capstan_connections", route="/echo") == 0
    hist_before = before.histogram("capstan_handshake_duration_seconds")

    sizes = {0: [5], 1: [10, 20], 2: [1, 2, 3]}  # per /echo client: its messages' sizes
    state = {}

    async def open_and_talk():
        echo = [await connect(server.url("/echo")) for _ in sizes]
        other = await connect(server.url("/other"))
        for i, ws in enumerate(echo):
            for n in sizes[i]:
                await ws.send("x" * n)
                assert await ws.recv() == "x" * n
        await other.send(b"\x01" * 100)
        assert await other.recv() == b"\x01" * 100
        state["echo"], state["other"] = echo, other

    async def close_all():
        echo, other = state["echo"], state["other"]
        await echo[0].close()
        await echo[1].close()
        await echo[2].close(code=4001, reason="app says bye")
        await other.send(b"\x02" * 2000)  # above max_message_size: the server closes with 1009
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(other.recv(), 5)
        assert other.close_code == 1009

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(asyncio.wait_for(open_and_talk(), 30))
        during = scrape(server, tmp_path)
        assert during.value("capstan_connections", route="/echo") == 3
        assert during.value("capstan_connections", route="/other") == 1
        assert delta(during, before, "capstan_connections_total", route="/echo") == 3
        assert delta(during, before, "capstan_connections_total", route="/other") == 1
        all_sizes = [n for s in sizes.values() for n in s]
        for direction in ("received", "sent"):  # echo: out what came in
            assert delta(during, before, f"capstan_messages_{direction}_total", route="/echo") == len(all_sizes)
            assert delta(during, before, f"capstan_bytes_{direction}_total", route="/echo") == sum(all_sizes)
            assert delta(during, before, f"capstan_messages_{direction}_total", route="/other") == 1
            assert delta(during, before, f"capstan_bytes_{direction}_total", route="/other") == 100
        loop.run_until_complete(asyncio.wait_for(close_all(), 30))
    finally:
        loop.close()

    # A connection that drops without a close frame is 1006.
    with RawWS.connect(server.host, server.port, "/echo"):
        pass
    after = wait_for(lambda: (s := scrape(server, tmp_path)).value("capstan_connections", route="/echo") == 0
                     and s.value("capstan_connections", route="/other") == 0 and s, "every connection reaped")
    assert delta(after, before, "capstan_connections_total", route="/echo") == 4
    assert delta(after, before, "capstan_closes_total", code="1000") == 2
    assert delta(after, before, "capstan_closes_total", code="4001") == 1
    assert delta(after, before, "capstan_closes_total", code="1009") == 1
    assert delta(after, before, "capstan_closes_total", code="1006") == 1
    # The too-big message was never delivered, so it is not counted.
    assert delta(after, before, "capstan_messages_received_total", route="/other") == 1

    hist = after.histogram("capstan_handshake_duration_seconds")
    assert hist["count"] - hist_before["count"] == 5  # one per 101
    assert hist["buckets"]["+Inf"] == hist["count"]
    assert 0 < hist["sum"] - hist_before["sum"] < 5 * 5.0
    assert after.value("capstan_uptime_seconds") >= 0
    assert abs(after.value("capstan_start_time_seconds") - time.time()) < 600


def test_refused_handshakes_are_counted_by_reason(start_server, tmp_path):
    server = start_server('[server]\nallowed_origins = ["https://good.example"]\n'
                          '[limits]\nhandshake_timeout = "400ms"\nmax_header_size = "2KiB"\n')
    before = scrape(server, tmp_path)
    host, port = server.host, server.port
    expected = {
        400: http_exchange(host, port, b"NOT HTTP AT ALL\r\n\r\n"),
        404: http_exchange(host, port, upgrade_request("/nope", extra_headers=["Origin: https://good.example"])),
        426: http_exchange(host, port, upgrade_request("/echo", version="8")),
        403: http_exchange(host, port, upgrade_request("/echo", extra_headers=["Origin: https://evil.example"])),
        431: http_exchange(host, port, upgrade_request("/echo", extra_headers=["X-Big: " + "a" * 4096])),
    }
    for status, response in expected.items():
        assert response.status == status, (status, response)
    # Plain requests are no handshakes: neither a 404 nor a 426 to a plain GET counts.
    assert http_exchange(host, port, b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n").status == 404
    assert http_exchange(host, port, b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n").status == 426
    # A client that never finishes its request.
    with open_socket(host, port) as idle:
        idle.sendall(b"GET /echo HTTP/1.1\r\n")
        time.sleep(1.0)
    # And one that succeeds, for the histogram.
    with RawWS.connect(host, port, "/echo", extra_headers=["Origin: https://good.example"]) as c:
        assert c.echo(OP_BINARY, b"ok") == (OP_BINARY, b"ok")

    after = scrape(server, tmp_path)
    reasons = {"bad_request": 1, "not_found": 1, "version": 1, "origin": 1, "too_large": 1, "timeout": 1,
               "too_many": 0}
    for reason, n in reasons.items():
        assert delta(after, before, "capstan_handshake_failures_total", reason=reason) == n, reason
    hist_after, hist_before = (s.histogram("capstan_handshake_duration_seconds") for s in (after, before))
    assert hist_after["count"] - hist_before["count"] == 1


def test_authentication_failures_are_counted_by_reason(start_server, tmp_path):
    env = NotifyEnv(tmp_path)
    # A close code of its own, apart from the clients' own 1000s.
    server = start_server(notify_config(route_extra="fatal_close_code = 4001"))

    async def refused(token):
        async with connect(url(server, token)) as ws:
            await asyncio.wait_for(ws.wait_closed(), 5)
            return ws.close_code

    async def accepted(token):
        async with connect(url(server, token)) as ws:
            await asyncio.sleep(0.1)
            return ws.close_code is None

    before = scrape(server, tmp_path)
    assert run(refused(None)) == 4001
    assert run(refused("not-a-jwt")) == 4001
    assert run(refused(env.token("nobody@example.com"))) == 4001
    assert run(accepted(env.token()))
    # A database that cannot answer the user lookup.
    env.sql("DROP TABLE user")
    assert run(refused(env.token())) == 1011

    after = scrape(server, tmp_path)
    for reason in ("no_token", "invalid_token", "unknown_user", "database"):
        assert delta(after, before, "capstan_auth_failures_total", reason=reason) == 1, reason
    # Refused after their 101: each is a handshake, and each ended with the server's close code.
    hist_after, hist_before = (s.histogram("capstan_handshake_duration_seconds") for s in (after, before))
    assert hist_after["count"] - hist_before["count"] == 5
    assert delta(after, before, "capstan_closes_total", code="4001") == 3
    assert delta(after, before, "capstan_closes_total", code="1011") == 1
    assert delta(after, before, "capstan_connections_total", route="/") == 1  # only alice got in


def test_slow_reader_overflow_is_counted(start_server, tmp_path):
    server = start_server('[limits]\nsend_buffer = "256KiB"\nclose_timeout = "1s"\n')
    before = scrape(server, tmp_path)
    frame = encode_frame(OP_BINARY, b"\x5a" * (128 * 1024))
    with RawWS.connect(server.host, server.port, rcvbuf=4096) as c:
        c.sock.settimeout(1.0)
        deadline = time.monotonic() + 15
        for _ in range(150):  # far more than the kernels' buffers and the send buffer hold
            if time.monotonic() > deadline:
                break
            try:
                c.sock.sendall(frame)
            except socket.timeout:
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
        after = wait_for(lambda: (s := scrape(server, tmp_path)).value("capstan_send_buffer_overflows_total")
                         > before.value("capstan_send_buffer_overflows_total") and s, "the overflow counted")
    assert delta(after, before, "capstan_send_buffer_overflows_total") == 1
    assert delta(after, before, "capstan_closes_total", code="1008") == 1


def test_max_connections_refusal_is_a_limit_hit(start_server, tmp_path):
    server = start_server("[limits]\nmax_connections = 2\n")
    before = scrape(server, tmp_path)
    with RawWS.connect(server.host, server.port, "/echo"), RawWS.connect(server.host, server.port, "/echo"):
        refused = http_exchange(server.host, server.port, upgrade_request("/echo"))
        assert refused.status == 503
    assert server.wait_tcp_connections(0)
    after = scrape(server, tmp_path)
    assert delta(after, before, "capstan_limit_hits_total", kind="max_connections") == 1
    assert delta(after, before, "capstan_handshake_failures_total", reason="too_many") == 1
    assert delta(after, before, "capstan_limit_hits_total", kind="messages") == 0
