"""JWT authentication against the real binary: tokens signed by Debian's python3-jwt for
every algorithm, every kind of bad token, every token source, and the keys/token commands
checked by openssl and python3-jwt in turn."""
import asyncio
import base64
import json
import subprocess
import time

import jwt
import pytest
import websockets

from conftest import capstan_bin, run_capstan
from helpers import run
from notify_support import (NotifyEnv, connect, expect_fatal, lexik_claims, make_keys, notify_config,
                            private_key, recv_reply, send_action, url)

ECHO_ACTION = '\n  [[routes.actions]]\n  name = "echo"\n  kind = "relay"\n  to = "sender"\n'


def accepted(server, token, path="/"):
    async def scenario():
        async with connect(url(server, token, path)) as ws:
            await send_action(ws, "echo", {"ok": True})
            return await recv_reply(ws)
    return run(scenario()) == ("echo", {"ok": True})


def refused(server, token, **kwargs):
    async def scenario():
        async with connect(url(server, token), **kwargs) as ws:
            return await expect_fatal(ws)
    return run(scenario())


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict, claims: dict, signature: bytes = b"") -> str:
    return ".".join([b64(json.dumps(header).encode()), b64(json.dumps(claims).encode()), b64(signature)])


# ---- every algorithm, signed by python3-jwt ----------------------------------------------------

@pytest.mark.parametrize("algorithm", ["HS256", "HS384", "HS512", "RS256", "RS384", "RS512",
                                       "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"])
def test_tokens_signed_by_pyjwt_are_accepted(start_server, tmp_path, algorithm):
    secret = "s3cr3t-" * 8
    if algorithm.startswith("HS"):
        key_config, signing_key = f'secret = "{secret}"', secret
    else:
        make_keys(tmp_path / "keys", algorithm)
        key_config, signing_key = 'public_key = "keys/public.pem"', private_key(tmp_path / "keys", None)
    config = f"""
[auth]
algorithms = ["{algorithm}"]
{key_config}

[[routes]]
path = "/"
component = "notify"
{ECHO_ACTION}"""
    server = start_server(config)
    good = jwt.encode(lexik_claims("alice@example.com"), signing_key, algorithm=algorithm)
    assert accepted(server, good)
    # the same claims re-signed under another key are refused
    other = "other-secret-" * 4 if algorithm.startswith("HS") else None
    if other is None:
        make_keys(tmp_path / "other", algorithm)
        other = private_key(tmp_path / "other", None)
    assert refused(server, jwt.encode(lexik_claims("alice@example.com"), other, algorithm=algorithm))


def test_lexik_passphrase_protected_rs256_and_the_provider_id(start_server, tmp_path):
    env = NotifyEnv(tmp_path)
    server = start_server(notify_config())
    assert accepted(server, env.token("bob@example.com"))


# ---- bad tokens --------------------------------------------------------------------------------

@pytest.fixture
def rs_server(start_server, tmp_path):
    env = NotifyEnv(tmp_path)
    server = start_server(notify_config(auth_extra='issuer = "https://shop.example"\naudience = "ws"'))
    server.env = env
    return server


def good_claims(**extra):
    return {**lexik_claims("alice@example.com", iss="https://shop.example", aud="ws"), **extra}


def sign(server, claims, **kwargs):
    return jwt.encode(claims, private_key(server.env.jwt_dir), algorithm="RS256", **kwargs)


def test_a_good_token_passes_the_bad_token_fixture(rs_server):
    assert accepted(rs_server, sign(rs_server, good_claims()))
    assert accepted(rs_server, sign(rs_server, good_claims(aud=["other", "ws"])))


def test_alg_none_is_refused(rs_server):
    for alg in ("none", "None", "NONE"):
        assert refused(rs_server, forge({"alg": alg, "typ": "JWT"}, good_claims()))


def test_algorithm_confusion_is_refused(rs_server):
    """An HS256 token whose HMAC key is the server's public key (the classic confusion)."""
    import hashlib
    import hmac
    public_pem = (rs_server.env.jwt_dir / "public.pem").read_bytes()
    header, claims = {"alg": "HS256", "typ": "JWT"}, good_claims()
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    assert refused(rs_server, f"{signing_input}.{b64(mac)}")


@pytest.mark.parametrize("mutate", ["payload", "signature_length", "signature_padding", "base64_chars",
                                    "header_not_json", "two_segments", "empty"])
def test_malformed_or_tampered_tokens_are_refused(rs_server, mutate):
    token = sign(rs_server, good_claims())
    head, payload, signature = token.split(".")
    bad = {
        "payload": f"{head}.{b64(json.dumps(good_claims(username='bob@example.com')).encode())}.{signature}",
        "signature_length": f"{head}.{payload}.{signature[:-4]}",
        "signature_padding": f"{head}.{payload}.{signature}==",
        "base64_chars": f"{head}.{payload[:-2]}*+.{signature}",
        "header_not_json": f"{b64(b'not json')}.{payload}.{signature}",
        "two_segments": f"{head}.{payload}",
        "empty": "",
    }[mutate]
    assert refused(rs_server, bad)


@pytest.mark.parametrize("claims", [
    dict(exp=int(time.time()) - 3600),                       # expired
    dict(nbf=int(time.time()) + 3600),                       # not yet valid
    dict(iat=int(time.time()) + 3600),                       # issued in the future
    dict(iss="https://evil.example"),                        # wrong issuer
    dict(aud="other"),                                       # wrong audience
    dict(exp="tomorrow"),                                    # exp not a number
])
def test_claims_are_checked(rs_server, claims):
    assert refused(rs_server, sign(rs_server, {**good_claims(), **claims}))


def test_no_leeway_by_default_as_lexik(rs_server):
    assert refused(rs_server, sign(rs_server, {**good_claims(), "exp": int(time.time()) - 2}))


def test_leeway_allows_small_clock_skew(start_server, tmp_path):
    env = NotifyEnv(tmp_path)
    server = start_server(notify_config(auth_extra='leeway = "30s"'))
    assert accepted(server, env.token(exp=int(time.time()) - 10))


def test_missing_identity_claim_is_refused(rs_server):
    claims = good_claims()
    del claims["username"]
    assert refused(rs_server, sign(rs_server, claims))


def test_no_token_is_refused_unless_anonymous_is_allowed(start_server, tmp_path):
    env = NotifyEnv(tmp_path)
    server = start_server(notify_config())
    assert refused(server, None)
    anonymous = start_server(notify_config(auth_extra="required = false"))
    assert accepted(anonymous, None)
    assert refused(anonymous, "garbage")  # a bad token is refused: its holder should learn why
    assert accepted(anonymous, env.token())


def test_anonymous_route_without_any_key_starts(start_server, tmp_path):
    """[auth] required = false and no key at all (no config/jwt, no secret): the server starts
    and says so; anonymous clients are served, a client that sends a token is refused with the
    reason in the close frame (its holder meant to be someone)."""
    server = start_server(f"""
[auth]
required = false

[[routes]]
path = "/"
component = "notify"
{ECHO_ACTION}""")
    assert "tokens cannot be verified" in server.stderr
    assert accepted(server, None)

    async def with_token():
        async with connect(url(server, "eyJhbGciOiJSUzI1NiJ9.e30.c2ln")) as ws:
            return await expect_fatal(ws)
    assert run(with_token()) == "tokens cannot be verified: no key configured"
    # Without required = false the same file is refused, naming what is missing.
    strict = run_capstan("start", "-c", write_config(tmp_path, "[[routes]]\npath = \"/\"\ncomponent = \"notify\"\n"))
    assert strict.returncode != 0 and "public key" in strict.stderr


def write_config(directory, text):
    path = directory / "strict.toml"
    path.write_text('[server]\nlisten = "127.0.0.1:0"\n' + text)
    return str(path)


# ---- token sources -----------------------------------------------------------------------------

def test_authorization_header_and_cookie(start_server, tmp_path):
    env = NotifyEnv(tmp_path)
    server = start_server(notify_config())
    token = env.token()

    async def with_headers(headers):
        async with connect(url(server), extra_headers=headers) as ws:
            await send_action(ws, "echo", 1)
            return await recv_reply(ws)
    assert run(with_headers({"Authorization": f"Bearer {token}"})) == ("echo", 1)
    assert run(with_headers({"Cookie": f"PHPSESSID=abc; BEARER={token}"})) == ("echo", 1)


def test_token_as_subprotocol_is_negotiated_back(start_server, tmp_path):
    env = NotifyEnv(tmp_path)
    server = start_server(notify_config(route_extra='protocols = ["jwt"]'))
    token = env.token()

    async def offer(protocols):
        async with connect(url(server), subprotocols=protocols) as ws:
            await send_action(ws, "echo", 1)
            assert await recv_reply(ws) == ("echo", 1)
            return ws.subprotocol
    assert run(offer(["jwt", token])) == "jwt"     # the route's protocol, never the token
    assert run(offer([token])) == token            # nothing else offered: the browser needs one back


def test_sources_are_configurable(start_server, tmp_path):
    env = NotifyEnv(tmp_path)
    server = start_server(notify_config(auth_extra='sources = ["header:X-Token"]'))
    assert refused(server, env.token())  # ?token= is not a source any more

    async def scenario():
        async with connect(url(server), extra_headers={"X-Token": env.token()}) as ws:
            await send_action(ws, "echo", 2)
            return await recv_reply(ws)
    assert run(scenario()) == ("echo", 2)


# ---- capstan keys generate / capstan token -----------------------------------------------------

@pytest.mark.parametrize("algorithm", ["RS256", "ES256", "EdDSA"])
def test_keys_generate_and_token_round_trip(start_server, tmp_path, algorithm):
    passphrase = "pass-phrase" if algorithm == "RS256" else ""
    args = ["keys", "generate", "--alg", algorithm, "--dir", str(tmp_path / "config/jwt")]
    if passphrase:
        args += ["--passphrase", passphrase]
    r = run_capstan(*args)
    assert r.returncode == 0, r.stderr
    # openssl reads the pair (with the passphrase when there is one)
    check = ["openssl", "pkey", "-in", str(tmp_path / "config/jwt/private.pem"), "-noout"]
    if passphrase:
        check += ["-passin", f"pass:{passphrase}"]
        assert subprocess.run(check[:-2] + ["-passin", "pass:wrong"], capture_output=True).returncode != 0
    assert subprocess.run(check, capture_output=True).returncode == 0
    # a second generate refuses to overwrite
    assert run_capstan(*args).returncode != 0

    config = f"""
[auth]
algorithms = ["{algorithm}"]
passphrase = "{passphrase}"

[[routes]]
path = "/"
component = "notify"
{ECHO_ACTION}"""
    config_path = tmp_path / "capstan-token.toml"
    config_path.write_text(config)
    r = run_capstan("token", "-c", config_path, "--claim", "username=alice@example.com",
                    "--claim", 'roles=["ROLE_ADMIN"]', "--ttl", "600")
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip()
    # python3-jwt verifies what capstan signed
    public = (tmp_path / "config/jwt/public.pem").read_bytes()
    claims = jwt.decode(token, public, algorithms=[algorithm])
    assert claims["username"] == "alice@example.com" and claims["roles"] == ["ROLE_ADMIN"]
    assert 590 <= claims["exp"] - claims["iat"] <= 600
    server = start_server(config)
    assert accepted(server, token)


def test_jwks_file_selects_the_key_by_kid(start_server, tmp_path):
    from jwt.algorithms import ECAlgorithm, RSAAlgorithm
    make_keys(tmp_path / "rsa", "RS256")
    make_keys(tmp_path / "ec", "ES256")
    rsa, ec = private_key(tmp_path / "rsa", None), private_key(tmp_path / "ec", None)
    keys = [dict(json.loads(RSAAlgorithm.to_jwk(rsa.public_key())), kid="rsa-2026", use="sig"),
            dict(json.loads(ECAlgorithm.to_jwk(ec.public_key())), kid="ec-2026")]
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": keys}))
    server = start_server(f"""
[auth]
algorithms = ["RS256", "ES256"]
jwks = "jwks.json"

[[routes]]
path = "/"
component = "notify"
{ECHO_ACTION}""")
    claims = lexik_claims("alice@example.com")
    assert accepted(server, jwt.encode(claims, rsa, algorithm="RS256", headers={"kid": "rsa-2026"}))
    assert accepted(server, jwt.encode(claims, ec, algorithm="ES256", headers={"kid": "ec-2026"}))
    assert refused(server, jwt.encode(claims, rsa, algorithm="RS256", headers={"kid": "ec-2026"}))
    assert refused(server, jwt.encode(claims, rsa, algorithm="RS256", headers={"kid": "unknown"}))
