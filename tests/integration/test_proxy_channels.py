"""The channel target of SPEC 5a's answers: a `proxy` route's `send` command to
{"channel": ...} and an http action answered with "to": {"channel": ...} reach the subscribers
of that channel on the server's pubsub route, as the publish API would deliver them. The
backend is a small HTTP server in this process (the standard library's), answering each kind
of request with a fixed JSON body; python3-websockets clients."""
import asyncio
import http.server
import json
import threading

from helpers import connect, run
from backend_app import free_port

SECRET = "channel-test-secret"


class Backend(http.server.ThreadingHTTPServer):
    """Answers every POST to /events or /action with a command or reply naming channel `news`."""

    def __init__(self, port):
        super().__init__(("127.0.0.1", port), Handler)
        self.signatures = []


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.signatures.append(self.headers.get("X-Capstan-Signature", ""))
        if self.path == "/events":
            commands = []
            if body["event"] == "message":
                commands = [{"send": "said: " + body["message"], "to": {"channel": "news"}}]
            answer = {"commands": commands}
        else:
            answer = {"data": {"echo": body["data"]}, "to": {"channel": "news"}}
        out = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


def config(port):
    return f"""
[server]
threads = 2
[backend]
secret = "{SECRET}"
[[routes]]
path = "/live"
component = "pubsub"
auth = false
[[routes]]
path = "/p"
component = "proxy"
auth = false
url = "http://127.0.0.1:{port}/events"
[[routes]]
path = "/n"
component = "notify"
auth = false
  [[routes.actions]]
  name = "tell"
  kind = "http"
  url = "http://127.0.0.1:{port}/action"
"""


async def next_message(ws, timeout=5.0):
    """The next pubsub `message` event's data (a JSON object, decoded if sent as a string)."""
    while True:
        event = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if event.get("action") == "message":
            data = event["data"]
            return json.loads(data) if isinstance(data, str) else data


def test_proxy_commands_and_http_actions_reach_a_channel(start_server):
    port = free_port()
    backend = Backend(port)
    thread = threading.Thread(target=backend.serve_forever, daemon=True)
    thread.start()
    try:
        server = start_server(config(port))
        base = f"{server.url('')}"

        async def scenario():
            async with connect(base + "/live") as reader, connect(base + "/p") as speaker, connect(base + "/n") as teller:
                await reader.send(json.dumps({"action": "subscribe", "data": {"channel": "news"}}))
                subscribed = json.loads(await asyncio.wait_for(reader.recv(), 5))
                assert subscribed["action"] == "subscribed", subscribed
                await speaker.send("extra")
                got = await next_message(reader)
                assert (got["channel"], got["message"]) == ("news", "said: extra"), got
                await teller.send(json.dumps({"action": "tell", "data": {"n": 1}}))
                got = await next_message(reader)
                assert (got["channel"], got["message"]) == ("news", {"echo": {"n": 1}}), got

        run(scenario())
        assert backend.signatures and all(s.startswith("t=") and ",v1=" in s for s in backend.signatures)
    finally:
        backend.shutdown()
        backend.server_close()
