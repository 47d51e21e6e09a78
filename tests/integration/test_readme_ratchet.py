"""The README's "Replacing a Ratchet notification server" config, taken from README.md as it is
written there, runs the tutorial's Notification component: `show` goes to every client with
`createdAt` as KnpTimeBundle renders it, and the tutorial's own WebSocketTest scenarios get
fatalError and a normal close."""
import asyncio
import re

import websockets

from conftest import REPO_ROOT
from helpers import run
from notify_support import NotifyEnv, connect, expect_fatal, expect_silence, make_database, recv_reply, send_action, url


def readme_ratchet_config() -> str:
    text = (REPO_ROOT / "README.md").read_text()
    match = re.search(r"<!-- ratchet-config -->\s*```toml\n(.*?)```", text, re.S)
    assert match, "README.md lost its ratchet-config block"
    return match.group(1)


def test_the_readme_config_is_the_tutorials_server(start_server, tmp_path):
    env = NotifyEnv(tmp_path)  # config/jwt/public.pem as Lexik makes it
    (tmp_path / "var").mkdir()
    make_database(tmp_path / "var" / "data.db")
    env.db_path = tmp_path / "var" / "data.db"
    server = start_server(readme_ratchet_config())

    async def scenario():
        async with connect(url(server, env.token("alice@example.com"))) as alice, \
                connect(url(server, env.token("bob@example.com"))) as bob:
            await send_action(alice, "show", {"id": 1})
            for ws in (alice, bob):  # the tutorial's loop: every client gets every reply
                action, product = await recv_reply(ws)
                assert action == "show"
                assert set(product) == {"id", "name", "createdAt"}
                assert product["name"] == "Capstan mug"
                assert product["createdAt"] in ("5 minutes ago", "6 minutes ago")
            await send_action(alice, "show", {"id": 999})
            assert await recv_reply(alice) == ("error", {
                "message": "Vous ne pouvez pas afficher la discussion d'un utilisateur bloqué."})
            await send_action(alice, "test", "test")  # the switch's default
            assert await recv_reply(alice) == ("error", {"message": "Invalid request"})
            await expect_silence(bob)

        # WebSocketTest::testInvalidConnexion, scenario by scenario
        async with connect(url(server, "invalid_jwt_token")) as ws:
            try:
                await ws.send("test")
            except websockets.ConnectionClosed:
                pass
            await expect_fatal(ws, code=1000)
        async with connect(url(server, env.token())) as ws:
            await ws.send('{"data": "test"}')
            assert await expect_fatal(ws, code=1000) == "missing action"
        async with connect(url(server, env.token())) as ws:
            await ws.send('{"action": "test"}')
            assert await expect_fatal(ws, code=1000) == "missing data"
        env.sql("DELETE FROM user WHERE email = ?", "carol@example.com")
        async with connect(url(server, env.token("carol@example.com"))) as ws:
            assert await expect_fatal(ws, code=1000) == "unknown user"
    run(scenario())
