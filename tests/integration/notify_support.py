"""What the notify and auth tests share: Lexik-style keys made by the `openssl` command,
tokens from Debian's python3-jwt (a signer nobody here wrote), a demo SQLite database, the
config that ties them together, and a small client for the {action, data} protocol."""
import asyncio
import json
import sqlite3
import subprocess
import time
from pathlib import Path

import jwt

from helpers import connect

PASSPHRASE = "lexik-passphrase"


def openssl(*args, cwd=None):
    subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=cwd, timeout=60)


def make_rsa_keys(directory: Path, passphrase=PASSPHRASE) -> Path:
    """config/jwt/private.pem + public.pem exactly as lexik:jwt:generate-keypair makes them:
    RSA 2048, the private key encrypted (AES-256) with a passphrase."""
    jwt_dir = directory / "config" / "jwt"
    jwt_dir.mkdir(parents=True, exist_ok=True)
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-aes256",
            "-pass", f"pass:{passphrase}", "-out", str(jwt_dir / "private.pem"))
    openssl("pkey", "-in", str(jwt_dir / "private.pem"), "-passin", f"pass:{passphrase}", "-pubout",
            "-out", str(jwt_dir / "public.pem"))
    return jwt_dir


def make_keys(directory: Path, algorithm: str) -> Path:
    """An unencrypted key pair for `algorithm` (RS*/PS*: RSA 2048, ES256: P-256, ES384:
    P-384, EdDSA: Ed25519), made by openssl."""
    directory.mkdir(parents=True, exist_ok=True)
    if algorithm[:2] in ("RS", "PS"):
        gen = ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]
    elif algorithm == "ES256":
        gen = ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]
    elif algorithm == "ES384":
        gen = ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"]
    else:
        gen = ["genpkey", "-algorithm", "ED25519"]
    openssl(*gen, "-out", str(directory / "private.pem"))
    openssl("pkey", "-in", str(directory / "private.pem"), "-pubout", "-out", str(directory / "public.pem"))
    return directory


def private_key(jwt_dir: Path, passphrase=PASSPHRASE):
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    data = (jwt_dir / "private.pem").read_bytes()
    return load_pem_private_key(data, password=passphrase.encode() if passphrase else None)


def lexik_claims(username, ttl=3600, **extra):
    now = int(time.time())
    claims = {"iat": now, "exp": now + ttl, "roles": ["ROLE_USER"], "username": username}
    claims.update(extra)
    return {k: v for k, v in claims.items() if v is not None}  # None: the claim is left out


def rs256_token(jwt_dir: Path, username, **claims):
    return jwt.encode(lexik_claims(username, **claims), private_key(jwt_dir), algorithm="RS256")


def make_database(path: Path):
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE user (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE);
        CREATE TABLE product (id INTEGER PRIMARY KEY, name TEXT, price REAL, created_at TEXT);
        INSERT INTO user (id, email) VALUES (1, 'alice@example.com'), (2, 'bob@example.com'),
                                            (3, 'carol@example.com');
        INSERT INTO product (id, name, price, created_at) VALUES
            (1, 'Capstan mug', 12.5, datetime('now', '-5 minutes')),
            (2, 'Launch party', 0, datetime('now', '+2 hours', '+30 seconds')),
            (3, 'Old anchor', 99.9, datetime('now', '-1 day', '-3 hours'));
    """)
    db.commit()
    db.close()


ACTIONS = """
  [[routes.actions]]
  name = "notify"
  kind = "relay"
  to = "users"
  from_field = "from"

  [[routes.actions]]
  name = "message"
  kind = "relay"
  to = "all"

  [[routes.actions]]
  name = "mine"
  kind = "relay"
  to = "self"

  [[routes.actions]]
  name = "echo"
  kind = "relay"
  to = "sender"

  [[routes.actions]]
  name = "silent"
  kind = "relay"
  to = "none"

  [[routes.actions]]
  name = "show"
  kind = "sql"
  query = "SELECT id, name, price, created_at FROM product WHERE id = :id"
  not_found = "Product not found"
  relative_dates = ["created_at"]
  to = "sender"

  [[routes.actions]]
  name = "products"
  kind = "sql"
  query = "SELECT id, name FROM product WHERE price >= :min ORDER BY id"
  one = false
  to = "sender"
"""


def notify_config(*, users='provider = "sqlite"\ndatabase = "demo.sqlite"\nrecheck = "message"',
                  auth_extra="", route_extra="", server_extra="", actions=ACTIONS):
    return f"""
[server]
{server_extra}

[auth]
algorithms = ["RS256"]
passphrase = "{PASSPHRASE}"
{auth_extra}

[users]
{users}

[[routes]]
path = "/"
component = "notify"
{route_extra}
{actions}
"""


class NotifyEnv:
    """Keys, database and tokens in a test's tmp_path (where start_server writes its config,
    so the config's relative paths land here)."""

    def __init__(self, tmp_path: Path):
        self.dir = tmp_path
        self.jwt_dir = make_rsa_keys(tmp_path)
        self.db_path = tmp_path / "demo.sqlite"
        make_database(self.db_path)

    def token(self, username="alice@example.com", **claims):
        return rs256_token(self.jwt_dir, username, **claims)

    def sql(self, statement, *args):
        db = sqlite3.connect(self.db_path)
        db.execute(statement, args)
        db.commit()
        db.close()


def url(server, token=None, path="/"):
    base = f"{server.url('')}{path}"
    return base if token is None else f"{base}?token={token}"


async def send_action(ws, action, data):
    await ws.send(json.dumps({"action": action, "data": data}))


async def recv_reply(ws, timeout=5.0):
    """The next reply as (action, data) with data decoded from its JSON string."""
    raw = await asyncio.wait_for(ws.recv(), timeout)
    message = json.loads(raw)
    assert set(message) == {"action", "data"}, raw
    assert isinstance(message["data"], str), f"data must be a string holding JSON: {raw}"
    return message["action"], json.loads(message["data"])


async def expect_fatal(ws, message="Invalid request", code=1000):
    """fatalError with `message`, then the server's close: 1000 by default, as Ratchet's
    $conn->close() (the route's fatal_close_code)."""
    action, data = await recv_reply(ws)
    assert (action, data) == ("fatalError", {"message": message})
    await asyncio.wait_for(ws.wait_closed(), 5)
    assert ws.close_code == code, ws.close_code
    return ws.close_reason


async def expect_silence(ws, seconds=0.3):
    try:
        raw = await asyncio.wait_for(ws.recv(), seconds)
    except asyncio.TimeoutError:
        return
    raise AssertionError(f"unexpected message: {raw}")


__all__ = ["NotifyEnv", "notify_config", "url", "send_action", "recv_reply", "expect_fatal", "expect_silence",
           "connect", "make_keys", "private_key", "lexik_claims", "PASSPHRASE", "ACTIONS"]
