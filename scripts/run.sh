#!/usr/bin/env bash
# Installs what is missing, builds, and runs the server in the foreground with the
# example configuration. Ctrl-C stops it cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release
echo "capstan: echo on ws://127.0.0.1:8080/echo  (health: http://127.0.0.1:8080/healthz)"
exec build/release/capstan start -c examples/capstan.toml "$@"
