#!/usr/bin/env bash
# Counts a fan-out server's user-space instructions per delivery under callgrind: repeatable on
# a noisy machine, so it is the figure to compare before and after a change to the broadcast
# path. Two runs of different length under the same load; the figure is their difference in
# instructions over their difference in deliveries, so start-up and the handshakes cancel out.
# (The kernel's share, most of a delivery's cost on loopback, is not counted here.)
#
# Usage: bench/callgrind-fanout.sh [KIND] [BIN] [CONNECTIONS] [BURST]
#   KIND notify (default): BIN is the capstan binary (default build/release/capstan), its notify
#        relay with to = "all" (as bench/fanout.sh's "capstan");
#   KIND topics: BIN is capstan_topics_fanout (default build/release/capstan_topics_fanout),
#        every connection subscribed to one topic (as bench/fanout.sh's "topics");
#   KIND pubsub: BIN is the capstan binary, its pubsub component, every connection subscribed
#        to the channel "bench", each message a publish to it (as bench/fanout.sh's "pubsub");
#   KIND users: BIN is the capstan binary, its notify relay with to = "self", every connection
#        authenticated as the same user: per-user delivery (the route's users family) to them all.
# Environment: SHORT and LONG (seconds of load, default 2 and 6), SIZE (payload bytes, 20),
# ANNOTATE (a file for callgrind_annotate's report of the long run).
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-notify}
case $kind in
  notify) bin=${2:-build/release/capstan} reply=notify ;;
  topics) bin=${2:-build/release/capstan_topics_fanout} reply=same ;;
  pubsub) bin=${2:-build/release/capstan} reply=same ;;
  users) bin=${2:-build/release/capstan} reply=notify ;;
  *) echo "usage: $0 [notify|topics|pubsub|users] [BIN] [CONNECTIONS] [BURST]" >&2; exit 2 ;;
esac
conns=${3:-1000}
burst=${4:-10}
short=${SHORT:-2}
long=${LONG:-6}
size=${SIZE:-20}
loadgen=build/bench/capstan_loadgen
[[ -x $loadgen ]] || { cmake -S bench -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null; cmake --build build/bench --target capstan_loadgen >/dev/null; }
ulimit -n "$(ulimit -Hn)"

work=$(mktemp -d)
pid=
trap '[[ -n $pid ]] && kill -TERM "$pid" 2>/dev/null; rm -rf "$work"' EXIT
port=19520
printf '[server]\nlisten = "127.0.0.1:%s"\nthreads = 1\n[limits]\nmessages_per_second = 0\nconnections_per_ip = 100000\n' "$port" >"$work/capstan.toml"
printf '[compression]\nenabled = false\n' >>"$work/capstan.toml"
extra=()
if [[ $kind == pubsub ]]; then
  printf '[[routes]]\npath = "/"\ncomponent = "pubsub"\nauth = false\n' >>"$work/capstan.toml"
  extra=(--subscribe '{"action":"subscribe","data":{"channel":"bench"}}'
         --publish-template '{"action":"publish","data":{"channel":"bench","message":"{payload}"}}'
         --delivery-template '{"action":"message","data":"{\"channel\":\"bench\",\"message\":\"{payload}\"}"}')
elif [[ $kind == users ]]; then
  printf '[auth]\nalgorithms = ["HS256"]\nsecret = "%s"\n[users]\nprovider = "none"\n' \
    "$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" >>"$work/capstan.toml"
  printf '[[routes]]\npath = "/"\ncomponent = "notify"\n' >>"$work/capstan.toml"
  printf '  [[routes.actions]]\n  name = "m"\n  kind = "relay"\n  to = "self"\n' >>"$work/capstan.toml"
  extra=(--path "/?token=$("$bin" token -c "$work/capstan.toml" --claim username=bench@example.com)")
else
  printf '[[routes]]\npath = "/"\ncomponent = "notify"\nauth = false\n' >>"$work/capstan.toml"
  printf '  [[routes.actions]]\n  name = "m"\n  kind = "relay"\n  to = "all"\n' >>"$work/capstan.toml"
fi

# measure SECONDS: prints "instructions deliveries" of one run under callgrind.
measure() {
  local cmd
  if [[ $kind == topics ]]; then cmd=("$bin" "$port" 1); else cmd=("$bin" start -c "$work/capstan.toml"); fi
  valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" "${cmd[@]}" >"$work/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 200); do (echo >/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
  local result
  result=$(timeout 300 "$loadgen" --mode fanout --port "$port" --server-pid "$pid" --connections "$conns" \
    --burst "$burst" --size "$size" --reply "$reply" "${extra[@]}" --duration "$1" --warmup 0 --connect-timeout 120 | grep '^RESULT')
  kill -TERM "$pid"; wait "$pid" || true
  pid=
  local deliveries total
  deliveries=$(sed -E 's/.* deliveries=([0-9]+).*/\1/' <<<"$result")
  total=$(callgrind_annotate "$work/cg.out" | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
  echo "$total $deliveries"
}
read -r i1 d1 < <(measure "$short")
read -r i2 d2 < <(measure "$long")
[[ -n "${ANNOTATE:-}" ]] && callgrind_annotate "$work/cg.out" >"$ANNOTATE"  # the long run's profile
echo "kind=$kind conns=$conns burst=$burst deliveries=$d1,$d2 instructions=$i1,$i2" \
  "instructions_per_delivery=$(awk -v a="$i1" -v b="$i2" -v x="$d1" -v y="$d2" 'BEGIN { printf "%.1f", (b - a) / (y - x) }')"
