"""The PostgreSQL user provider and sql actions against a real PostgreSQL server, the one
scripts/test.sh starts (scripts/postgres.sh) and names in $CAPSTAN_TEST_POSTGRES."""
import os
import subprocess

import pytest

from helpers import run
from notify_support import NotifyEnv, connect, expect_fatal, notify_config, recv_reply, send_action, url


@pytest.fixture
def pg():
    dsn = os.environ.get("CAPSTAN_TEST_POSTGRES")
    if not dsn:
        pytest.fail("CAPSTAN_TEST_POSTGRES is not set: start a server with "
                    "`export CAPSTAN_TEST_POSTGRES=$(scripts/postgres.sh start /tmp/capstan-pg)` "
                    "(scripts/test.sh does this)")

    def psql(sql):
        subprocess.run(["psql", dsn, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql], check=True,
                       capture_output=True, timeout=30)
    psql("""
        DROP TABLE IF EXISTS it_user, it_product;
        CREATE TABLE it_user (id BIGSERIAL PRIMARY KEY, email TEXT NOT NULL UNIQUE);
        CREATE TABLE it_product (id INT PRIMARY KEY, name TEXT, price NUMERIC(8,2),
                                 created_at TIMESTAMP WITHOUT TIME ZONE);
        INSERT INTO it_user (id, email) VALUES (7, 'alice@example.com'), (8, 'bob@example.com');
        INSERT INTO it_product VALUES
            (1, 'Capstan mug', 12.50, (now() AT TIME ZONE 'UTC') - interval '5 minutes'),
            (2, 'Launch', 0, (now() AT TIME ZONE 'UTC') + interval '2 hours 30 seconds');
    """)
    psql.dsn = dsn
    return psql


ACTIONS = """
  [[routes.actions]]
  name = "notify"
  kind = "relay"
  to = "users"

  [[routes.actions]]
  name = "show"
  kind = "sql"
  query = "SELECT id, name, price, created_at FROM it_product WHERE id = :id::int"
  not_found = "Product not found"
  relative_dates = ["created_at"]
  to = "sender"
"""


def config(dsn):
    users = f'provider = "postgres"\ndatabase = "{dsn}"\nquery = "SELECT id FROM it_user WHERE email = $1"\nrecheck = "message"'
    return notify_config(users=users, actions=ACTIONS, server_extra="threads = 2")


def test_postgres_provider_ids_relay_and_sql(start_server, tmp_path, pg):
    env = NotifyEnv(tmp_path)
    server = start_server(config(pg.dsn))

    async def scenario():
        async with connect(url(server, env.token("alice@example.com"))) as alice, \
                connect(url(server, env.token("bob@example.com"))) as bob:
            await send_action(alice, "notify", {"to": [8], "text": "hi"})  # ids from PostgreSQL
            assert await recv_reply(bob) == ("notify", {"to": [8], "text": "hi"})
            await send_action(bob, "show", {"id": 1})
            action, product = await recv_reply(bob)
            assert action == "show" and product["name"] == "Capstan mug" and product["price"] == 12.5
            assert product["created_at"] in ("5 minutes ago", "6 minutes ago")
            await send_action(bob, "show", {"id": 2})
            assert (await recv_reply(bob))[1]["created_at"] == "in 2 hours"
            await send_action(bob, "show", {"id": 3})
            assert await recv_reply(bob) == ("error", {"message": "Product not found"})
    run(scenario())


def test_postgres_unknown_and_deleted_users_are_fatal(start_server, tmp_path, pg):
    env = NotifyEnv(tmp_path)
    server = start_server(config(pg.dsn))

    async def scenario():
        async with connect(url(server, env.token("nobody@example.com"))) as ws:
            assert await expect_fatal(ws) == "unknown user"
        async with connect(url(server, env.token("bob@example.com"))) as ws:
            await send_action(ws, "show", {"id": 1})
            assert (await recv_reply(ws))[0] == "show"
            pg("DELETE FROM it_user WHERE email = 'bob@example.com'")
            await send_action(ws, "show", {"id": 1})
            assert await expect_fatal(ws) == "user no longer exists"
    run(scenario())


def test_postgres_unreachable_stops_the_start(start_server, tmp_path):
    from conftest import run_capstan
    NotifyEnv(tmp_path)
    path = tmp_path / "bad.toml"
    path.write_text('[server]\nlisten = "127.0.0.1:0"\n' +
                    config("host=127.0.0.1 port=1 dbname=x user=x connect_timeout=2").replace("[server]\n", "", 1))
    r = run_capstan("start", "-c", path, timeout=20)
    assert r.returncode != 0
    assert "cannot start" in r.stderr, r.stderr
