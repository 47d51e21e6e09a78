#!/usr/bin/env bash
# Installs what is missing, builds, and runs the demo notification server in the foreground:
# the Ratchet tutorial's server, done by Capstan (examples/notify). On first run it makes the
# key pair (RS256, passphrase-protected, as Lexik does) and the SQLite database, then prints
# the page's address with a ready token for each of the two demo users. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release

demo=examples/notify
capstan=build/release/capstan
[[ -f $demo/config/jwt/private.pem ]] ||
  "$capstan" keys generate --dir "$demo/config/jwt" --passphrase capstan-demo
/usr/bin/python3 "$demo/setup.py" "$demo/var/demo.sqlite"

host=127.0.0.1 port=8080
token() { "$capstan" token -c "$demo/capstan.toml" --ttl 86400 --claim "username=$1" --claim 'roles=["ROLE_USER"]'; }
alice=$(token alice@example.com)
bob=$(token bob@example.com)
cat <<MSG

Capstan demo: the Ratchet tutorial's notification server. Open each address in its own tab:
  Alice: http://$host:$port/?token=$alice
  Bob:   http://$host:$port/?token=$bob
WebSocket: ws://$host:$port?token=TOKEN   (health: http://$host:$port/healthz)

MSG
exec "$capstan" start -c "$demo/capstan.toml" "$@"
