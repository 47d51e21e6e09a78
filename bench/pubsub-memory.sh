#!/usr/bin/env bash
# Memory of Capstan's pubsub channels: what a subscription costs the server.
#
#   bench/pubsub-memory.sh                     5000 connections, one thread
#   CONNS=10000 THREADS=2 bench/pubsub-memory.sh
#
# Starts capstan (pinned to CPU 0) with one pubsub route on /live without authentication, then
# bench/node/pubsub_memory_client.js (npm ws, pinned to CPU 1) opens CONNS connections and
# subscribes them in stages, reading the server's VmRSS (and RssAnon) from /proc/PID/status
# before the first connection and after each stage, once every ack has arrived plus SETTLE_MS:
#   connect   CONNS connections, none subscribed         -> bytes per connection
#   shared1   + each subscribes to "bench" (1 channel)   -> bytes per subscription, one big channel
#   own10     + each to 10 channels of its own, c.<i>.<k> -> bytes per subscription that is also a
#             new channel (10 x CONNS channels of one subscriber)
#   shared10  + each to s.0 .. s.9 (10 channels)          -> bytes per subscription, big channels
# Each figure is the growth of that stage divided by its connections or subscriptions.
#
# Environment: CONNS (default 5000; at most ~9,900: 20,000 descriptors per process), THREADS
# (capstan's loops, default 1), SETTLE_MS (default 1000), CAPSTAN (default
# build/release/capstan), TIMEOUT (seconds the client may take, default 180), QUIET_PCT,
# QUIET_TIMEOUT (as in run.sh). Loopback only, a port in 19201-19300; every process it starts
# is stopped by PID, also on Ctrl-C. Logs, the config and report.md go to
# build/bench/results/pubsub-memory-<date>/.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
CONNS=${CONNS:-5000}
THREADS=${THREADS:-1}
SETTLE_MS=${SETTLE_MS:-1000}
TIMEOUT=${TIMEOUT:-180}
QUIET_PCT=${QUIET_PCT:-10}
QUIET_TIMEOUT=${QUIET_TIMEOUT:-120}
CAPSTAN=${CAPSTAN:-$ROOT/build/release/capstan}
OUT=$ROOT/build/bench/results/pubsub-memory-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"

log() { printf 'pubsub-memory: %s\n' "$*" >&2; }
# shellcheck source=bench/lib.sh
source bench/lib.sh  # the working folder is the repository root (see the cd above)

[[ $CONNS =~ ^[1-9][0-9]*$ && $THREADS =~ ^[1-9][0-9]*$ ]] ||
  { log "CONNS and THREADS must be positive integers"; exit 2; }
((CONNS <= 9900)) || { log "CONNS=$CONNS: the descriptor limit is $(ulimit -Hn) per process"; exit 2; }
command -v node >/dev/null || { log "node is not installed (scripts/install-deps.sh --bench)"; exit 1; }
[[ -d bench/node/node_modules/ws ]] ||
  (cd bench/node && npm ci --silent --no-audit --no-fund) || { log "npm ci in bench/node failed"; exit 1; }
if [[ ! -x $CAPSTAN && $CAPSTAN == "$ROOT/build/release/capstan" ]]; then build_capstan || exit 1; fi
[[ -x $CAPSTAN ]] || { log "$CAPSTAN does not exist"; exit 1; }
log "capstan: $CAPSTAN, built $(date -r "$CAPSTAN" '+%F %T'); HEAD $(git log -1 --format='%h %s' 2>/dev/null | cut -c1-60)"
cp "$CAPSTAN" "$OUT/capstan"  # one run, one binary, even if build/release is rebuilt meanwhile
CAPSTAN=$OUT/capstan

# The server: lib.sh's start/stop (stop_server on EXIT, INT and TERM exit through it). The
# client's PID is stopped too.
CLIENT_PID=""
stop_all() {
  if [[ -n $CLIENT_PID ]]; then kill -TERM "$CLIENT_PID" 2>/dev/null || true; wait "$CLIENT_PID" 2>/dev/null || true; CLIENT_PID=""; fi
  stop_server
}
prepare_servers 19201 19300
trap stop_all EXIT

capstan_config() {
  printf '[server]\nname = "capstan-pubsub-memory"\nlisten = "127.0.0.1:%s"\nthreads = %s\n\n' "$1" "$THREADS"
  printf '[limits]\nmax_connections = 200000\nconnections_per_ip = 1000000\nmessages_per_second = 0\n\n'
  printf '[compression]\nenabled = false\n\n'
  printf '[[routes]]\npath = "/live"\ncomponent = "pubsub"\nauth = false\n'
}
server_command() {
  capstan_config "$PORT" >"$OUT/capstan-$PORT.toml"
  CMD=("$CAPSTAN" start -c "$OUT/capstan-$PORT.toml")
}
capstan_config 19300 >"$OUT/check.toml"
"$CAPSTAN" check -c "$OUT/check.toml" >"$OUT/check.log" 2>&1 ||
  { log "capstan check rejects the config:"; cat "$OUT/check.log" >&2; exit 1; }

log_load
wait_quiet
start_server capstan || exit 1
log "capstan pid $SERVER_PID on port $PORT, threads $THREADS; $CONNS connections"
timeout --kill-after=5 "$TIMEOUT" taskset -c 1 node bench/node/pubsub_memory_client.js \
  "$PORT" "$SERVER_PID" "$CONNS" /live "$SETTLE_MS" >"$OUT/client.log" 2>&1 &
CLIENT_PID=$!
status=0
wait "$CLIENT_PID" || status=$?
CLIENT_PID=""
cat "$OUT/client.log" >&2
kill -0 "$SERVER_PID" 2>/dev/null || { log "capstan died during the run"; status=1; }
stop_server
((status == 0)) || { log "the client failed (status $status), see $OUT/client.log"; exit 1; }

# --- Report ----------------------------------------------------------------------------------
result=$(grep '^RESULT ' "$OUT/client.log" | tail -1 | cut -d' ' -f2-)
declare -A V
for kv in $result; do V[${kv%%=*}]=${kv#*=}; done
per() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { printf "%.0f", (b - a) / n }'; }
kib() { awk -v b="$1" 'BEGIN { printf "%.0f", b / 1024 }'; }
row() {  # row STAGE PREVIOUS DIVISOR WHAT
  echo "| $4 | $(kib "${V[$1_rss]}") | $(kib "$((V[$1_rss] - V[$2_rss]))") | $3 | **$(per "${V[$2_rss]}" "${V[$1_rss]}" "$3")** | $(per "${V[$2_anon]}" "${V[$1_anon]}" "$3") | ${V[$1_s]} |"
}
{
  echo
  echo "Pubsub memory, $(date '+%F %H:%M'), capstan $(git log -1 --format=%h 2>/dev/null)$(git diff --quiet HEAD -- src include 2>/dev/null || echo ' (src/include modified)'), threads = $THREADS, $CONNS connections"
  echo "(npm ws client), one pubsub route without authentication; $(uname -r). Server VmRSS after each stage, every"
  echo "ack received and ${SETTLE_MS} ms of settling; growth = that stage's. RssAnon is the heap part of VmRSS."
  echo
  echo "| stage | VmRSS KiB | growth KiB | divided by | bytes each (VmRSS) | bytes each (RssAnon) | stage s |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  echo "| before any connection | $(kib "${V[before_rss]}") | | | | | |"
  row connect before "$CONNS" "$CONNS connections, no subscription (per connection)"
  row shared1 connect "$CONNS" "+ 1 shared channel \"bench\" (per subscription)"
  row own10 shared1 "$((10 * CONNS))" "+ 10 own channels each, c.<i>.<k> (per subscription = per channel)"
  row shared10 own10 "$((10 * CONNS))" "+ 10 shared channels s.0–s.9 (per subscription)"
  echo
  echo "Logs and config: ${OUT#"$ROOT"/}"
} | tee "$OUT/report.md"
