#!/usr/bin/env bash
# Counts capstan's user-space instructions per echoed message under callgrind: repeatable on
# a noisy machine, so it is the figure to compare before and after a hot-path change.
# (The kernel's share, most of an echo's cost on loopback, is not counted here.)
# Usage: bench/callgrind-echo.sh [CAPSTAN_BIN] [CONNECTIONS] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/release/capstan}
conns=${2:-100}
seconds=${3:-5}
loadgen=build/bench/capstan_loadgen
[[ -x $loadgen ]] || { cmake -S bench -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null; cmake --build build/bench --target capstan_loadgen >/dev/null; }

work=$(mktemp -d)
trap 'kill -TERM "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
# No message limit: the default 100 messages/s per connection would throttle the load.
printf '[server]\nlisten = "127.0.0.1:19510"\nthreads = 1\n[limits]\nmessages_per_second = 0\n' > "$work/capstan.toml"
valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" "$bin" start -c "$work/capstan.toml" 2>"$work/server.log" &
pid=$!
for _ in $(seq 100); do grep -q listening "$work/server.log" && break; sleep 0.1; done
result=$($loadgen --port 19510 --server-pid "$pid" --connections "$conns" --duration "$seconds" --warmup 0 | grep '^RESULT')
kill -TERM "$pid"; wait "$pid" || true
msgs=$(sed -E 's/.* msgs=([0-9]+).*/\1/' <<<"$result")
total=$(callgrind_annotate "$work/cg.out" | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
echo "echoes=$msgs instructions=$total instructions_per_echo=$((total / msgs))"
[[ -n "${ANNOTATE:-}" ]] && cp "$work/cg.out" "$ANNOTATE"   # keep the profile for callgrind_annotate
callgrind_annotate "$work/cg.out" | sed -n '/file:function/,$p' | sed -n 2,16p
