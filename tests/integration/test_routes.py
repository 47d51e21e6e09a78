"""Routes: default paths from component names, the server prefix on every route, and
`capstan routes` printing the same table the server serves."""
import json

from conftest import run_capstan
from helpers import connect, echo_roundtrip, run
from rawws import open_socket, read_http_response

CONFIG = """
[server]
prefix = "/socket.io"

[[routes]]
component = "echo"

[[routes]]
path = "/"
component = "echo"
protocols = ["v1"]

[[routes]]
path = "/chat"
component = "notify"
auth = false
  [[routes.actions]]
  name = "say"
  kind = "relay"
  to = "all"
"""


def test_routes_command_applies_the_prefix(tmp_path):
    path = tmp_path / "capstan.toml"
    path.write_text(CONFIG)
    r = run_capstan("routes", "-c", path, "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == [
        {"path": "/socket.io/echo", "component": "echo", "auth": False, "protocols": [], "actions": []},
        {"path": "/socket.io", "component": "echo", "auth": False, "protocols": ["v1"], "actions": []},
        {"path": "/socket.io/chat", "component": "notify", "auth": False, "protocols": [],
         "actions": [{"name": "say", "kind": "relay", "to": "all"}]},
    ]
    text = run_capstan("routes", "-c", path).stdout.splitlines()
    assert text[0].split() == ["ROUTE", "COMPONENT", "AUTH", "ACTIONS"]
    assert text[3].split() == ["/socket.io/chat", "notify", "no", "say", "(relay", "->", "all)"]
    default = run_capstan("routes", "--json")
    assert json.loads(default.stdout)[0]["path"] == "/echo"  # no file: the echo route


def test_the_server_serves_exactly_those_paths(start_server):
    server = start_server(CONFIG)

    async def scenario():
        for path in ("/socket.io/echo", "/socket.io"):
            async with connect(f"{server.url('')}{path}") as ws:
                assert await echo_roundtrip(ws, path) == path
        async with connect(f"{server.url('')}/socket.io/chat") as ws:
            await ws.send('{"action":"say","data":"hi"}')
            assert json.loads(await ws.recv()) == {"action": "say", "data": '"hi"'}
    run(scenario())
    with open_socket(server.host, server.port) as s:
        s.sendall(b"GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        assert read_http_response(s)[0].status == 404  # without the prefix: no route
