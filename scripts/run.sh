#!/usr/bin/env bash
# Installs what is missing, builds, and runs the demo notification server in the foreground:
# the Ratchet tutorial's server, done by Capstan (examples/notify). On first run it makes the
# key pair (RS256, passphrase-protected, as Lexik does) and the SQLite database, then prints
# the page's address with a ready token for each of the two demo users. Ctrl-C stops it.
#
# A newcomer's first command, so it installs and builds only what the demo needs: the build
# packages (scripts/install-deps.sh --demo, no test tools) and the `capstan` program alone, in
# build/demo with the tests off. Where scripts/test.sh already configured build/release, the
# program is built there instead (up to date after the tests, nothing else rebuilt).
#
#   scripts/run.sh                       serves on 127.0.0.1:8080
#   PORT=9000 scripts/run.sh             another port (HOST=... another address)
#   scripts/run.sh --name demo2 ...      further arguments go to `capstan start`
set -euo pipefail
cd "$(dirname "$0")/.."
host=${HOST:-127.0.0.1}
port=${PORT:-8080}

scripts/install-deps.sh --demo
if [[ -f build/release/CMakeCache.txt ]]; then
  build=build/release
  cmake --build "$build" --target capstan_cli
else
  build=build/demo
  cmake --preset demo >/dev/null
  cmake --build --preset demo  # the preset's one target: capstan_cli, the program
fi

demo=examples/notify
capstan=$build/capstan
[[ -f $demo/config/jwt/private.pem ]] ||
  "$capstan" keys generate --dir "$demo/config/jwt" --passphrase capstan-demo
/usr/bin/python3 "$demo/setup.py" "$demo/var/demo.sqlite"

token() { "$capstan" token -c "$demo/capstan.toml" --ttl 86400 --claim "username=$1" --claim 'roles=["ROLE_USER"]'; }
alice=$(token alice@example.com)
bob=$(token bob@example.com)
where=$host:$port
[[ $host == *:* ]] && where="[$host]:$port"  # an IPv6 address
cat <<MSG

Capstan demo: the Ratchet tutorial's notification server. Open each address in its own tab:
  Alice: http://$where/?token=$alice
  Bob:   http://$where/?token=$bob
WebSocket: ws://$where?token=TOKEN   (health: http://$where/healthz)

MSG
exec "$capstan" start -c "$demo/capstan.toml" --listen "$where" "$@"
