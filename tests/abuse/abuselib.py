"""Shared helpers of the abuse suite: count scaling, the file-descriptor limit, non-blocking
connects, and the server's vitals (RSS, VmData, sockets, fds) with checks that they come back.

Over TLS (a server's TLS listener, the suites' TLS mode: tests/integration/tlsenv.py),
`connect_all` runs the clients' TLS handshakes side by side on a selector, `recv_now` reads
what has come without waiting (a readable TLS socket may hold records that are no data, a
session ticket), and WOULD_BLOCK includes the ssl module's want-read/want-write.

Counts are multiplied by $CAPSTAN_ABUSE_SCALE (default 1.0) so a slow build (ASan) can run
the same tests with fewer clients instead of skipping them.

Memory under ASan: every allocation carries redzones and every free goes to a quarantine of
up to 256 MiB before it can be reused, so RSS tracks the volume allocated so far rather than
what is live. Growth bounds are multiplied by 4 for such a build ($CAPSTAN_ABUSE_RSS_FACTOR
overrides), and the "RSS comes back" checks are measured but not asserted: there
LeakSanitizer, run when the server exits (the integration fixture fails on its report),
is the leak check.
"""
import errno
import functools
import os
import resource
import selectors
import socket
import ssl
import struct
import time

import pytest

import tlsenv

SCALE = float(os.environ.get("CAPSTAN_ABUSE_SCALE", "1.0"))
IP_BIND_ADDRESS_NO_PORT = 24  # linux/in.h; not exported by the socket module
TLS_MODE = tlsenv.TLS_MODE
WOULD_BLOCK = (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError)


def scaled(n: int, minimum: int = 1) -> int:
    return max(minimum, int(round(n * SCALE)))


@functools.lru_cache(maxsize=None)
def is_sanitized(path: str) -> bool:
    """True for a binary built with AddressSanitizer (it carries the runtime's symbols)."""
    try:
        with open(path, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


def rss_factor(bin_path: str) -> float:
    env = os.environ.get("CAPSTAN_ABUSE_RSS_FACTOR")
    if env:
        return float(env)
    return 4.0 if is_sanitized(bin_path) else 1.0


MiB = 1024  # in KiB, the unit of /proc/PID/status


def log(test: str, **values):
    """One line per test with what it measured (shown with `pytest -s` or `-rA`)."""
    fields = " ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items())
    print(f"\nABUSE {test}: {fields}")


def raise_nofile(needed: int):
    """Raises this process's RLIMIT_NOFILE soft limit (a server started afterwards inherits
    it); skips when the hard limit is too low. Returns the previous (soft, hard)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if needed > hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (needed, needed))
            return soft, hard
        except (ValueError, OSError):
            pytest.skip(f"RLIMIT_NOFILE hard limit {hard} < {needed}")
    if needed > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    return soft, hard


def wait_until(predicate, timeout, interval=0.02):
    """Polls `predicate` until it returns a truthy value or `timeout` passes; returns the last
    value (falsy on timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def reset_close(sock):
    """SO_LINGER 0 then close: the server sees a TCP reset, not an orderly FIN."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


def nonblocking_connect(host, port, source_ip=None, rcvbuf=None):
    """Starts a connect on a non-blocking socket; returns the socket (connect in progress).
    `source_ip` spreads clients over 127.0.0.x so ephemeral ports do not run short."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if rcvbuf is not None:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if source_ip is not None:
            s.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
            s.bind((source_ip, 0))
        s.setblocking(False)
        rc = s.connect_ex((host, port))
        if rc not in (0, errno.EINPROGRESS):
            raise OSError(rc, os.strerror(rc))
    except BaseException:
        s.close()
        raise
    return s


def connect_all(host, port, count, sources=(None,), rcvbuf=None, timeout=30.0):
    """`count` non-blocking client sockets, the i-th from sources[i % len(sources)]. To a plain
    listener their connects may still be in progress (as nonblocking_connect); to a TLS
    listener each is connected and through its TLS handshake, all driven at once.
    Returns [(socket, time.monotonic() when its connect began)]."""
    started = []
    try:
        for i in range(count):
            started.append((nonblocking_connect(host, port, sources[i % len(sources)], rcvbuf), time.monotonic()))
        if not tlsenv.is_tls_port(port):
            return started
        return _tls_handshakes(host, started, time.monotonic() + timeout)
    except BaseException:
        for s, _ in started:
            reset_close(s)
        raise


def _tls_handshakes(host, started, deadline):
    context = tlsenv.client_context()
    sel = selectors.DefaultSelector()
    out = [None] * len(started)
    pending = {}  # fd -> (index, socket: plain while connecting, then SSLSocket)
    try:
        for i, (s, _) in enumerate(started):
            pending[s.fileno()] = (i, s)
            sel.register(s.fileno(), selectors.EVENT_WRITE)
        while pending:
            assert time.monotonic() < deadline, f"{len(pending)} TLS handshakes still unfinished"
            for key, _ in sel.select(timeout=1.0):
                i, s = pending[key.fd]
                if not isinstance(s, ssl.SSLSocket):
                    err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err:
                        raise OSError(err, f"connect: {os.strerror(err)}")
                    s = context.wrap_socket(s, server_hostname=host, do_handshake_on_connect=False)
                    started[i] = (s, started[i][1])  # the plain object is detached now
                    pending[key.fd] = (i, s)
                try:
                    s.do_handshake()
                except ssl.SSLWantReadError:
                    sel.modify(key.fd, selectors.EVENT_READ)
                    continue
                except ssl.SSLWantWriteError:
                    sel.modify(key.fd, selectors.EVENT_WRITE)
                    continue
                sel.unregister(key.fd)
                del pending[key.fd]
                out[i] = (s, started[i][1])
    finally:
        sel.close()
    return out


def recv_now(sock, size=65536):
    """What has arrived, without waiting: bytes, b"" at the end of the stream, None when
    nothing (over TLS a readable socket may hold records that carry no data)."""
    timeout = sock.gettimeout()
    sock.setblocking(False)
    try:
        return sock.recv(size)
    except WOULD_BLOCK:
        return None
    finally:
        sock.settimeout(timeout)


class Vitals:
    """The server's RSS, TCP connections and open fds before the abuse, and checks that they
    come back afterwards."""

    def __init__(self, server):
        self.server = server
        self.factor = rss_factor(server.proc.args[0])
        self.sanitized = is_sanitized(server.proc.args[0])
        self.rss = server.rss_kib("VmRSS")
        self.vmdata = server.rss_kib("VmData")
        self.connections = server.tcp_connections()
        self.fds = self.fd_count()
        self.socket_fds = self.socket_fd_count()

    def _fd_links(self):
        for fd in os.listdir(f"/proc/{self.server.pid}/fd"):
            try:
                yield os.readlink(f"/proc/{self.server.pid}/fd/{fd}")
            except FileNotFoundError:
                continue

    def fd_count(self) -> int:
        return len(os.listdir(f"/proc/{self.server.pid}/fd"))

    def socket_fd_count(self) -> int:
        """Sockets the server holds open. Unlike Server.tcp_connections (which reads
        /proc/net/tcp), this also counts a socket reset by the peer that the server has not
        closed yet: such a socket leaves the kernel's tables but keeps its fd."""
        return sum(1 for link in self._fd_links() if link.startswith("socket:["))

    def peak_growth_mib(self) -> float:
        """Growth of the peak RSS (VmHWM) over the baseline; VmHWM catches peaks between samples."""
        peak = max(self.server.rss_kib("VmHWM"), self.server.rss_kib("VmRSS"))
        return (peak - self.rss) / MiB

    def assert_peak_growth_below(self, bound_mib):
        grown = self.peak_growth_mib()
        assert grown < bound_mib * self.factor, \
            f"peak RSS grew {grown:.1f} MiB over the baseline {self.rss / MiB:.1f} MiB " \
            f"(bound {bound_mib * self.factor:.0f} MiB)"
        return grown

    def assert_vmdata_growth_below(self, bound_mib):
        """Address space reserved for data (heap + anonymous mappings), touched or not: what
        catches a large allocation that RSS would not show until it is written."""
        grown = (self.server.rss_kib("VmData") - self.vmdata) / MiB
        assert grown < bound_mib * self.factor, \
            f"VmData grew {grown:.1f} MiB (bound {bound_mib * self.factor:.0f} MiB)"
        return grown

    def assert_rss_returns(self, bound_mib, timeout=3.0):
        """RSS must come back within `bound_mib` of the baseline (polled: frees are not all
        immediate). Returns the final growth in MiB. Not asserted under ASan (see above)."""
        if self.sanitized:
            time.sleep(0.2)
            return (self.server.rss_kib("VmRSS") - self.rss) / MiB
        limit = self.rss + bound_mib * self.factor * MiB
        rss = wait_until(lambda: (r := self.server.rss_kib("VmRSS")) <= limit and r, timeout, 0.1)
        rss = rss or self.server.rss_kib("VmRSS")
        growth = (rss - self.rss) / MiB
        assert rss <= limit, f"RSS stayed {growth:.1f} MiB above the baseline {self.rss / MiB:.1f} MiB " \
                             f"after the abuse (bound {bound_mib * self.factor:.0f} MiB)"
        return growth

    def assert_connections_return(self, timeout=5.0):
        """The server holds exactly the baseline TCP connections and socket fds again.
        Returns the seconds it took."""
        started = time.monotonic()
        ok = wait_until(lambda: self.socket_fd_count() == self.socket_fds, timeout)
        assert ok, f"server holds {self.socket_fd_count()} sockets {timeout}s after the abuse, " \
                   f"baseline {self.socket_fds}"
        ok = self.server.wait_tcp_connections(self.connections, max(0.5, started + timeout - time.monotonic()))
        assert ok, f"server holds {self.server.tcp_connections()} TCP connections {timeout}s after " \
                   f"the abuse, baseline {self.connections}"
        return time.monotonic() - started

    def assert_fds_return(self, timeout=5.0):
        fds = wait_until(lambda: self.fd_count() == self.fds, timeout) or None
        assert fds, f"server has {self.fd_count()} open fds, baseline {self.fds}: fd leak"


def assert_alive(server):
    assert server.proc.poll() is None, f"server exited with {server.proc.returncode}:\n{server.stderr}"
