"""Client helpers for the action protocol's replies and the publish API, shared by the pubsub,
cluster and publish suites: replies decoded (`data` a string holding JSON, or JSON), and a
POST /publish with its answer."""
import asyncio
import json
import urllib.error
import urllib.request


def decode(raw):
    """A reply: action and data, with `data` a string holding JSON (data_as_string) decoded."""
    m = json.loads(raw)
    data = m["data"]
    return m["action"], json.loads(data) if isinstance(data, str) else data


async def recv(ws, timeout=5):
    return decode(await asyncio.wait_for(ws.recv(), timeout))


def publish_api(server, body, key="pk"):
    """POST /publish; (status, JSON answer), refusals included."""
    req = urllib.request.Request(f"{server.http_url('')}/publish", data=json.dumps(body).encode(),
                                 headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())
