"""shout-server, as built against an installed Capstan (run.sh builds it four ways and runs
this file against each binary, named by SHOUT_BIN): the program's own component type serves
its routes with the keys capstan.toml gives them, beside a built-in type, over ws://; the
loader reports the type's key faults with key path and line; SIGTERM stops it. Every route
test runs over ws:// and over wss:// (native TLS, a certificate made by `openssl` at test time)."""
import asyncio
import os
import pathlib
import select
import signal
import ssl
import subprocess
import tempfile
import time

import pytest
import websockets

HERE = pathlib.Path(__file__).resolve().parent
CONFIG = HERE.parent / "capstan.toml"
BIN = os.environ.get("SHOUT_BIN", "")
TIMEOUT = 10  # seconds any one step may take

pytestmark = pytest.mark.skipif(not BIN, reason="SHOUT_BIN names the shout-server to test (see run.sh)")


def run(coro, timeout=TIMEOUT):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def make_certificate(folder):
    """A throwaway self-signed certificate for 127.0.0.1, and an SSL context trusting it."""
    cert, key = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key, ssl.create_default_context(cafile=cert)


class ShoutServer:
    """One shout-server process on free loopback ports (one plain, one TLS when a certificate
    is given); stopped by its own PID."""

    def __init__(self, config=CONFIG, certificate=None):
        args = [BIN, "-c", str(config), "--listen", "127.0.0.1:0"]
        self.tls_context = None
        if certificate:
            cert, key, self.tls_context = certificate
            # The example's file with a [server.tls] table added: its own keys stay as they are.
            self.tls_config = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
            self.tls_config.write(pathlib.Path(config).read_text() +
                                  f'\n[server.tls]\nlisten = "127.0.0.1:0"\ncert = "{cert}"\nkey = "{key}"\n')
            self.tls_config.close()
            args[2] = self.tls_config.name
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.address, self.tls_address = self._wait_listening(want_tls=certificate is not None)

    def _wait_listening(self, want_tls):
        deadline = time.monotonic() + TIMEOUT
        plain = tls = None
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if ready:
                line = self.proc.stdout.readline()
                if line.startswith("listening "):  # "listening PLAIN [tls TLS]"
                    words = line.split()
                    plain = words[1]
                    tls = words[3] if len(words) > 3 and words[2] == "tls" else None
                if plain and (tls or not want_tls):
                    return plain, tls
                if not line and self.proc.poll() is not None:
                    break
        self.stop()
        raise AssertionError("shout-server did not start: " + self.proc.stderr.read())

    def url(self, path, scheme="ws"):
        return f"{scheme}://{self.tls_address if scheme == 'wss' else self.address}{path}"

    def connect(self, path, scheme="ws"):
        """websockets.connect for the scheme: wss:// trusts the test certificate."""
        if scheme == "wss":
            return websockets.connect(self.url(path, scheme), ssl=self.tls_context)
        return websockets.connect(self.url(path, scheme))

    def stop(self):
        if self.tls_context:
            pathlib.Path(self.tls_config.name).unlink(missing_ok=True)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = ShoutServer(certificate=make_certificate(str(tmp_path_factory.mktemp("tls"))))
    yield s
    assert s.stop() == 0, "shout-server did not stop cleanly on SIGTERM"


SCHEMES = ["ws", "wss"]  # every route test runs over plain TCP and over native TLS


@pytest.mark.parametrize("scheme", SCHEMES)
def test_shout_route_greets_then_shouts_with_its_volume(server, scheme):
    async def main():
        async with server.connect("/shout", scheme) as ws:
            assert await ws.recv() == "SAY SOMETHING"  # greeting = ...
            await ws.send("hello")
            assert await ws.recv() == "HELLO!!!"  # volume = 3, case upper by default
            await ws.send("grüße")
            assert await ws.recv() == "GRüßE!!!", "bytes over 127 are left as they are"
    run(main())


@pytest.mark.parametrize("scheme", SCHEMES)
def test_whisper_route_has_keys_of_its_own(server, scheme):
    async def main():
        async with server.connect("/whisper", scheme) as ws:
            await ws.send("HeLLo There")
            assert await ws.recv() == "hello there"  # case = "lower", volume = 0, no greeting
            await ws.send("x" * 16)
            assert await ws.recv() == "x" * 16
            await ws.send("x" * 17)  # max_length = "16B"
            with pytest.raises(websockets.ConnectionClosed):
                await ws.recv()
            assert ws.close_code == 1009
            assert ws.close_reason == "too long to shout"
    run(main())


@pytest.mark.parametrize("scheme", SCHEMES)
def test_broadcast_route_reaches_every_client(server, scheme):
    async def main():
        clients = [await server.connect("/square", scheme) for _ in range(4)]
        try:
            # Subscribed in on_open, before the handshake's answer: each is in once connected.
            await clients[0].send("anyone?")
            for ws in clients:
                assert await ws.recv() == "ANYONE?!"
            await clients[3].send("yes")
            for ws in clients:
                assert await ws.recv() == "YES!"
        finally:
            for ws in clients:
                await ws.close()
    run(main())


def test_builtin_types_are_still_there(server):
    async def main():
        async with websockets.connect(server.url("/echo")) as ws:
            await ws.send("as it is")
            assert await ws.recv() == "as it is"
    run(main())


def test_the_shipped_configuration_checks():
    out = subprocess.run([BIN, "-c", str(CONFIG), "--check"], capture_output=True, text=True, timeout=TIMEOUT)
    assert out.returncode == 0, out.stderr
    assert "ok" in out.stdout


@pytest.mark.parametrize("route, where, says", [
    ('volume = 12', "7: routes[0].volume", ""),                   # over the declared max
    ('case = "LOUD"', "7: routes[0].case", "upper"),              # not a declared choice
    ('loudness = 3', "7: routes[0].loudness", ""),                # not declared at all
    ('broadcast = "yes"', "7: routes[0].broadcast", ""),          # wrong type
    ('max_length = "4B"\ngreeting = "hello"', "8: routes[0].greeting", "longer than max_length"),  # check_keys
])
def test_faults_in_the_types_keys_name_key_and_line(tmp_path, route, where, says):
    config = tmp_path / "bad.toml"
    config.write_text(f'[server]\nlisten = "127.0.0.1:0"\n\n[[routes]]\npath = "/x"\ncomponent = "shout"\n{route}\n')
    out = subprocess.run([BIN, "-c", str(config), "--check"], capture_output=True, text=True, timeout=TIMEOUT)
    assert out.returncode == 1, out
    assert f"bad.toml:{where}:" in out.stderr, out.stderr
    assert says in out.stderr
