"""deploy/nginx/ tested with a real nginx: TLS ends at nginx, `wss://` reaches the demo's notify
server through it (the demo's own config, keys and database, under the `/socket.io` prefix),
and the client's address reaches Capstan's per-address limits and logs, through
X-Forwarded-For (http proxy) and through the PROXY protocol (stream proxy, `proxy_protocol on`).
Clients connect from distinct loopback addresses (127.0.0.2, .3, ...), which nginx sees as
distinct clients; nginx itself reaches Capstan from 127.0.0.1."""
import asyncio
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import websockets

from conftest import run_capstan
from helpers import connect, run
from nginx_support import Nginx, client_tls, free_port, http_site, make_certificate, stream_site

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO = REPO_ROOT / "examples" / "notify"

pytestmark = pytest.mark.skipif(shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists(),
                                reason="nginx is not installed (scripts/install-deps.sh installs it)")


def demo_config(server_lines: str, limits: str = "") -> str:
    """examples/notify/capstan.toml, its listen left to the test, `server_lines` added to [server]."""
    text = (DEMO / "capstan.toml").read_text()
    text = re.sub(r'^listen = .*\n', "", text, count=1, flags=re.M)
    text = text.replace("[server]\n", "[server]\n" + server_lines + "\n", 1)
    return text + ("\n[limits]\n" + limits + "\n" if limits else "")


@pytest.fixture
def demo(tmp_path):
    """The demo's files as scripts/run.sh makes them: a key pair, the database, the page."""
    shutil.copytree(DEMO / "public", tmp_path / "public")
    keys = run_capstan("keys", "generate", "--dir", tmp_path / "config" / "jwt", "--passphrase", "capstan-demo")
    assert keys.returncode == 0, keys.stderr
    (tmp_path / "var").mkdir()
    subprocess.run(["/usr/bin/python3", str(DEMO / "setup.py"), str(tmp_path / "var" / "demo.sqlite")],
                   check=True, capture_output=True, timeout=30)
    return tmp_path


def token(server, user: str) -> str:
    out = run_capstan("token", "-c", server.config_path, "--ttl", "600", "--claim", f"username={user}",
                      "--claim", 'roles=["ROLE_USER"]')
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.fixture
def nginx_for(tmp_path):
    """nginx_for(capstan, kind="http"|"stream") -> (nginx, wss base URL, certificate)."""
    started = []

    def start(server, kind="http"):
        directory = tmp_path / f"nginx-{len(started)}"
        directory.mkdir()
        cert, key = make_certificate(directory)
        port = free_port()
        if kind == "http":
            nginx = Nginx(directory, http_site_text=http_site(server.port, port, cert, key))
        else:
            nginx = Nginx(directory, stream_site_text=stream_site(server.port, port, cert, key))
        started.append(nginx)
        nginx.wait_listening(port)
        return nginx, f"wss://127.0.0.1:{port}", cert

    yield start
    for nginx in started:
        nginx.stop()


def wss(base, cert, path, token_value, source="127.0.0.2", **kwargs):
    """A wss:// client through nginx, from the loopback address `source`."""
    return connect(f"{base}{path}?token={token_value}", ssl=client_tls(cert), local_addr=(source, 0), **kwargs)


async def next_action(ws, timeout=5.0):
    message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    return message["action"], json.loads(message["data"])


def test_wss_through_nginx_reaches_the_demo_notify_server(start_server, demo, nginx_for):
    server = start_server(demo_config('prefix = "/socket.io"\ntrusted_proxies = ["127.0.0.1"]'))
    nginx, base, cert = nginx_for(server)
    alice, bob = token(server, "alice@example.com"), token(server, "bob@example.com")

    async def scenario():
        async with wss(base, cert, "/socket.io", alice) as a, wss(base, cert, "/socket.io", bob, "127.0.0.3") as b:
            await a.send(json.dumps({"action": "message", "data": {"text": "hello through nginx"}}))
            for ws in (a, b):  # the demo's "message" goes to everyone, the sender's user added
                action, data = await next_action(ws)
                assert action == "message" and data["text"] == "hello through nginx"
                assert data["from"]["identity"] == "alice@example.com"
            await b.send(json.dumps({"action": "show", "data": {"id": 1}}))
            action, data = await next_action(b)
            assert (action, data["name"], data["created_at"]) == ("show", "Capstan mug", "5 minutes ago")

    run(scenario())
    # The TLS was nginx's; Capstan saw plain HTTP from 127.0.0.1 with the client named.
    assert "101" in (nginx.dir / "access.log").read_text()


def test_forwarded_for_from_nginx_is_the_client_for_limits_and_logs(start_server, demo, nginx_for):
    server = start_server(demo_config('prefix = "/socket.io"\ntrusted_proxies = ["127.0.0.1"]',
                                      limits="connections_per_ip = 1\nmessages_per_second = 0"))
    nginx, base, cert = nginx_for(server)
    alice = token(server, "alice@example.com")

    async def scenario():
        async with wss(base, cert, "/socket.io", alice, "127.0.0.2"):
            # The same client again: over its own limit, though nginx's address is the same for all.
            with pytest.raises(websockets.exceptions.InvalidStatusCode) as refused:
                async with wss(base, cert, "/socket.io", alice, "127.0.0.2"):
                    pass
            assert refused.value.status_code == 429
            # Another client behind the same nginx is its own address.
            async with wss(base, cert, "/socket.io", alice, "127.0.0.3") as other:
                await other.send(json.dumps({"action": "show", "data": {"id": 1}}))
                assert (await next_action(other))[0] == "show"
            # A client naming someone else in X-Forwarded-For is still itself (nginx appends
            # the peer it saw; Capstan reads from the right).
            async with wss(base, cert, "/socket.io", "not-a-token", "127.0.0.4",
                           extra_headers={"X-Forwarded-For": "198.51.100.1"}) as liar:
                await asyncio.wait_for(liar.wait_closed(), 5)

    run(scenario())
    assert server.wait_log("too many connections from this address"), server.stderr
    refusal = next(line for line in server.stderr.splitlines() if "too many connections from this address" in line)
    assert "remote=127.0.0.2:0" in refusal, refusal
    assert server.wait_log("remote=127.0.0.4:0"), server.stderr  # the refused token's log line
    assert "198.51.100.1" not in server.stderr


def test_without_trusted_proxies_everyone_behind_nginx_is_one_address(start_server, demo, nginx_for):
    # The counter-test: the same setup without trusted_proxies counts nginx, not the clients.
    server = start_server(demo_config('prefix = "/socket.io"', limits="connections_per_ip = 1"))
    nginx, base, cert = nginx_for(server)
    alice = token(server, "alice@example.com")

    async def scenario():
        async with wss(base, cert, "/socket.io", alice, "127.0.0.2"):
            with pytest.raises(websockets.exceptions.InvalidStatusCode) as refused:
                async with wss(base, cert, "/socket.io", alice, "127.0.0.3"):
                    pass
            assert refused.value.status_code == 429

    run(scenario())


def test_proxy_protocol_from_nginx_stream_is_the_client(start_server, demo, nginx_for):
    server = start_server(demo_config('trusted_proxies = ["127.0.0.1"]\nproxy_protocol = true',
                                      limits="connections_per_ip = 1\nmessages_per_second = 0"))
    nginx, base, cert = nginx_for(server, kind="stream")
    alice, bob = token(server, "alice@example.com"), token(server, "bob@example.com")

    async def scenario():
        async with wss(base, cert, "/", alice, "127.0.0.2") as a, wss(base, cert, "/", bob, "127.0.0.3") as b:
            await a.send(json.dumps({"action": "message", "data": {"text": "via PROXY"}}))
            for ws in (a, b):
                assert (await next_action(ws))[1]["text"] == "via PROXY"
            # nginx's stream proxy cannot answer HTTP: the 429 comes from Capstan itself.
            with pytest.raises(websockets.exceptions.InvalidStatusCode) as refused:
                async with wss(base, cert, "/", alice, "127.0.0.2"):
                    pass
            assert refused.value.status_code == 429
        async with wss(base, cert, "/", "not-a-token", "127.0.0.5") as liar:
            await asyncio.wait_for(liar.wait_closed(), 5)

    run(scenario())
    # The PROXY header carries the client's port too.
    assert server.wait_log("remote=127.0.0.5:"), server.stderr
    assert re.search(r"remote=127\.0\.0\.5:[1-9]\d*", server.stderr)
