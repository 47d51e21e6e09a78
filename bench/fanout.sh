#!/usr/bin/env bash
# Capstan fan-out benchmark: one connection publishes bursts of messages that the server
# delivers to every connection (capstan_loadgen --mode fanout). Measures capstan (notify relay,
# to = "all"), pubsub (capstan's pubsub component: every connection subscribed to the channel
# "bench", each message a publish to it), pubsub-history (the same with history_size = 100 on
# the channel: numbered publications), topics (bench/servers/topics_fanout.cpp: every
# connection subscribed to one topic of capstan/topics.hpp, each message published to it), Bun
# (uWebSockets: server.publish to a topic; bun-pubsub: the same speaking pubsub's JSON
# protocol) and npm ws (a loop over wss.clients) side by side in one run, and prints a markdown
# table.
#
#   bench/fanout.sh                           defaults: 1000 connections, bursts of 1, 10, 100
#   DURATION=2 WARMUP=1 bench/fanout.sh       a quick check
#   CONNS="100 1000" BURSTS="10" SERVERS="capstan bun" bench/fanout.sh
#
# Environment: DURATION (s, default 5), WARMUP (s, default 1), REPEAT (default 1; with more the
# table shows medians and the details the range), CONNS (default 1000; a list is fine), BURSTS
# (default "1 10 100"), SIZE (payload bytes, default 20), SERVERS (default "capstan pubsub
# topics bun ws"; also pubsub-history and bun-pubsub), CAPSTAN (the binary, default
# build/release/capstan), TOPICS (default build/release/capstan_topics_fanout), THREADS
# (capstan's, pubsub's and topics' loops, default 1; every server is pinned to CPU 0, so more
# threads measure the cross-loop path, not scaling), PUBSUB_DATA_AS_STRING (the pubsub route's
# data_as_string, default true), BUSY_POLL (1: the load generator never sleeps in epoll_wait,
# so the server's sends need not wake it; default 0), QUIET_PCT, QUIET_TIMEOUT, XCPU_NEAR_NS (as
# in run.sh, see bench/README.md).
# Every server runs alone, pinned to CPU 0 with one thread where it has the choice; the load
# generator runs on CPU 1. Loopback only, ports 19101-19200. Each measurement gets a freshly
# started server. Logs, configs and report.md go to build/bench/results/fanout-<date>/.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
REPEAT=${REPEAT:-1}
CONNS=${CONNS:-1000}
BURSTS=${BURSTS:-"1 10 100"}
SIZE=${SIZE:-20}
SERVERS=${SERVERS:-"capstan pubsub topics bun ws"}
THREADS=${THREADS:-1}
PUBSUB_DATA_AS_STRING=${PUBSUB_DATA_AS_STRING:-true}
BUSY_POLL=${BUSY_POLL:-0}
QUIET_PCT=${QUIET_PCT:-10}
QUIET_TIMEOUT=${QUIET_TIMEOUT:-120}
XCPU_NEAR_NS=${XCPU_NEAR_NS:-250}

BUILD=$ROOT/build/bench
CAPSTAN=${CAPSTAN:-$ROOT/build/release/capstan}
TOPICS=${TOPICS:-$ROOT/build/release/capstan_topics_fanout}
BUN=$ROOT/bench/node/node_modules/.bin/bun
LOADGEN=$BUILD/capstan_loadgen
OUT=$BUILD/results/fanout-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"

log() { printf 'fanout: %s\n' "$*" >&2; }
# shellcheck source=bench/lib.sh
source bench/lib.sh  # the working folder is the repository root (see the cd above)

for s in $SERVERS; do
  case $s in capstan | pubsub | pubsub-history | topics | bun | bun-pubsub | ws) ;;
    *) log "unknown server '$s' in SERVERS"; exit 2 ;; esac
done
[[ $PUBSUB_DATA_AS_STRING == true || $PUBSUB_DATA_AS_STRING == false ]] ||
  { log "PUBSUB_DATA_AS_STRING must be true or false"; exit 2; }
[[ $THREADS =~ ^[1-9][0-9]*$ ]] || { log "THREADS must be a positive integer"; exit 2; }
[[ $BUSY_POLL == 0 || $BUSY_POLL == 1 ]] || { log "BUSY_POLL must be 0 or 1"; exit 2; }
for c in $CONNS; do
  ((c <= 5000)) || log "warning: $c connections; the descriptor limit is $(ulimit -Hn) per process"
done

# --- Dependencies and build ------------------------------------------------------------------
if ! scripts/install-deps.sh --bench; then
  log "warning: scripts/install-deps.sh --bench failed; continuing with what is installed"
fi
# install-deps.sh runs npm ci only when ws is missing; a checkout from before Bun was added
# has ws but not Bun.
if [[ ! -x $BUN || ! -d bench/node/node_modules/ws ]] && command -v npm >/dev/null; then
  log "bench/node/node_modules incomplete: npm ci"
  (cd bench/node && npm ci --silent --no-audit --no-fund) || log "warning: npm ci failed"
fi

build_bench "the load generator" --target capstan_loadgen

declare -A NOTE  # server -> why it was not measured
CAPSTAN_SERVERS="capstan pubsub pubsub-history"  # the servers that are the capstan binary
uses_capstan() { local s; for s in $CAPSTAN_SERVERS; do [[ " $SERVERS " == *" $s "* ]] && return 0; done; return 1; }
if uses_capstan && [[ ! -x $CAPSTAN && $CAPSTAN == "$ROOT/build/release/capstan" ]]; then
  build_capstan || true
fi
if [[ -x $CAPSTAN ]]; then
  # A copy, so that the whole run measures one binary even if build/release is rebuilt meanwhile.
  log "capstan: $CAPSTAN, built $(date -r "$CAPSTAN" '+%F %T'); HEAD $(git log -1 --format='%h %s' 2>/dev/null | cut -c1-60)"
  cp "$CAPSTAN" "$OUT/capstan"
  CAPSTAN=$OUT/capstan
else
  for s in $CAPSTAN_SERVERS; do NOTE[$s]="not built"; done
fi
if [[ -x $TOPICS ]]; then
  cp "$TOPICS" "$OUT/capstan_topics_fanout"
  TOPICS=$OUT/capstan_topics_fanout
else
  NOTE[topics]="not built (cmake --build --preset release)"
fi
"$BUN" --version >/dev/null 2>&1 || { NOTE[bun]="not installed (bench/node: npm ci)"; NOTE[bun-pubsub]=${NOTE[bun]}; }
[[ -d bench/node/node_modules/ws ]] || NOTE[ws]="not installed (bench/node: npm ci)"

# capstan_config PORT [KIND]: THREADS loops; no compression (the load generator offers none
# anyway); no message limit (the spec's 100/s per connection would throttle the publisher);
# connections_per_ip high enough for every connection coming from 127.0.0.1. KIND capstan (the
# default): the notify component on "/" without authentication and one relay action "m" to
# every connection. pubsub: the pubsub component on "/live" without authentication (any
# channel, clients may publish). pubsub-history: the same with history_size = 100 on the
# channel "bench" (messages numbered with offset and epoch, kept for recovery).
capstan_config() {
  printf '[server]\nname = "capstan-fanout-%s"\nlisten = "127.0.0.1:%s"\nthreads = %s\n\n' "$1" "$1" "$THREADS"
  printf '[limits]\nmax_connections = 200000\nconnections_per_ip = 1000000\nmessages_per_second = 0\n\n'
  printf '[compression]\nenabled = false\n\n'
  case ${2:-capstan} in
    capstan)
      printf '[[routes]]\npath = "/"\ncomponent = "notify"\nauth = false\n\n'
      printf '  [[routes.actions]]\n  name = "m"\n  kind = "relay"\n  to = "all"\n' ;;
    pubsub | pubsub-history)
      printf '[[routes]]\npath = "/live"\ncomponent = "pubsub"\nauth = false\ndata_as_string = %s\n' "$PUBSUB_DATA_AS_STRING"
      [[ $2 == pubsub ]] || printf '\n  [[routes.channels]]\n  pattern = "bench"\n  history_size = 100\n' ;;
  esac
}
for s in $CAPSTAN_SERVERS; do
  [[ -z ${NOTE[$s]:-} && " $SERVERS " == *" $s "* ]] || continue
  capstan_config 19100 "$s" >"$OUT/$s-check.toml"
  "$CAPSTAN" check -c "$OUT/$s-check.toml" >"$OUT/$s-check.log" 2>&1 ||
    { log "capstan check rejects the $s config:"; cat "$OUT/$s-check.log" >&2; NOTE[$s]="config rejected"; }
done

# The pubsub protocol (SPEC section 2) as the load generator speaks it: every connection
# subscribes to "bench" and waits for "subscribed" before the first burst; the publisher wraps
# each payload in a publish; every subscriber, the publisher included, must receive exactly the
# message frame ({seq}: the offset, 1 for the run's first publication on the fresh channel;
# {*}: the epoch). data_as_string = false sends data as an object instead of a string.
PUBSUB_SUBSCRIBE='{"action":"subscribe","data":{"channel":"bench"}}'
PUBSUB_PUBLISH='{"action":"publish","data":{"channel":"bench","message":"{payload}"}}'
pubsub_delivery() {  # pubsub_delivery STRING(true|false) HISTORY(0|1)
  local inner='{"channel":"bench","message":"{payload}"' tail='}'
  (($2)) && inner+=',"offset":{seq},"epoch":"{*}"'
  inner+=$tail
  if [[ $1 == true ]]; then
    inner=${inner//\"/\\\"}
    printf '{"action":"message","data":"%s"}' "$inner"
  else
    printf '{"action":"message","data":%s}' "$inner"
  fi
}

# --- Starting and stopping servers -----------------------------------------------------------
prepare_servers 19101 19200

# server_command NAME: the command line of server NAME on PORT, in CMD (for start_server). The
# servers are started through taskset, which execs them: .bin/bun links to the binary itself,
# so SERVER_PID is Bun's own.
server_command() {
  case $1 in
    capstan)
      capstan_config "$PORT" >"$OUT/capstan-$PORT.toml"
      CMD=("$CAPSTAN" start -c "$OUT/capstan-$PORT.toml") ;;
    pubsub | pubsub-history)
      capstan_config "$PORT" "$1" >"$OUT/$1-$PORT.toml"
      CMD=("$CAPSTAN" start -c "$OUT/$1-$PORT.toml") ;;
    topics) CMD=("$TOPICS" "$PORT" "$THREADS") ;;
    bun) CMD=("$BUN" bench/node/bun_fanout.js "$PORT") ;;
    bun-pubsub) CMD=("$BUN" bench/node/bun_fanout.js "$PORT" pubsub) ;;
    ws) CMD=(node bench/node/ws_fanout.js "$PORT") ;;
  esac
}

# --- Measurements ----------------------------------------------------------------------------
declare -A R  # "<server> <conns> <burst> <key>" -> the values of that RESULT field, one per run
FAILED=0

# run_loadgen NAME CONNS BURST LOG: one fresh server, one loadgen run, bounded in time.
run_loadgen() {
  local name=$1 conns=$2 burst=$3 log=$4 probe=() how=()
  start_server "$name" || return 1
  case $name in
    capstan) how=(--path / --reply notify) ;;  # its relay reply holds data as a JSON string
    pubsub | pubsub-history | bun-pubsub)
      local string=$PUBSUB_DATA_AS_STRING history=0
      [[ $name == bun-pubsub ]] && string=true  # bun_fanout.js sends data as a string only
      [[ $name == pubsub-history ]] && history=1
      how=(--path /live --subscribe "$PUBSUB_SUBSCRIBE" --publish-template "$PUBSUB_PUBLISH"
           --delivery-template "$(pubsub_delivery "$string" "$history")") ;;
    *) how=(--path / --reply same) ;;
  esac
  [[ $XCPU_NEAR_NS != 0 ]] && probe=(--probe-cpu 0 --near-ns "$XCPU_NEAR_NS")
  ((BUSY_POLL)) && how+=(--busy-poll 1)
  log "$name: $conns connections, bursts of $burst, run $rep/$REPEAT (port $PORT, pid $SERVER_PID)"
  run_loadgen_bounded "$name" "$log" 90 --mode fanout --connections "$conns" \
    --burst "$burst" --size "$SIZE" "${how[@]}" "${probe[@]}" || { stop_server; return 1; }
  stop_server
}

# measure NAME CONNS BURST: appends the RESULT fields of one good run to R, measured again
# (twice at most) if other processes disturbed it or the CPUs were not near for the whole
# window (measure_runs in lib.sh).
measure() { measure_runs 1 "$OUT/$1-$2-b$3-r$rep.log" "$@"; }

log_load
measured_servers
# The servers take turns for each figure, so the ones compared are measured close in time.
for ((rep = 1; rep <= REPEAT; rep++)); do
  for c in $CONNS; do
    for b in $BURSTS; do
      for name in $MEASURED; do measure "$name" "$c" "$b"; done
    done
  done
done

# --- Report ----------------------------------------------------------------------------------
label() {
  case $1 in
    capstan) echo "capstan notify relay" ;;
    pubsub) echo "capstan pubsub" ;;
    pubsub-history) echo "capstan pubsub, history 100" ;;
    topics) echo "capstan topics" ;;
    bun) echo "Bun $("$BUN" --version 2>/dev/null) (uWebSockets)" ;;
    bun-pubsub) echo "Bun $("$BUN" --version 2>/dev/null) pubsub protocol" ;;
    ws) ws_label ;;
  esac
}
# cell SERVER CONNS BURST KEY FORMAT [range]: the median of a figure, or why there is none;
# with "range" and REPEAT > 1 also the spread.
cell() { server_figure "$@"; }
# main_cell SERVER CONNS BURST: "deliveries/s (server CPU µs each)" with the marks of run.sh.
main_cell() {
  local out
  out=$(cell "$1" "$2" "$3" deliveries_per_s %.0f)
  [[ -n ${R["$1 $2 $3 deliveries_per_s"]:-} ]] || { echo "$out"; return; }
  out+=" ($(cell "$1" "$2" "$3" server_cpu_us_per_delivery %.3f) µs)"
  disturbed "${R["$1 $2 $3 others_cpu_pct"]:-}" && out+=" †"
  far "${R["$1 $2 $3 placement"]:-}" && out+=" ‡"
  echo "$out"
}

{
  echo
  echo "Fan-out of ${DURATION}s after ${WARMUP}s warm-up: connection 0 writes a burst of B messages"
  echo "({\"action\":\"m\",\"data\":\"<$SIZE bytes>\"}) at once, the server sends each to every connection (the"
  echo "publisher too), the next burst leaves when all have arrived. Deliveries/s = messages received by all"
  echo "connections / s; in brackets the server's CPU time per delivery (the figure to compare)."
  if [[ " $SERVERS " == *" pubsub"* || " $SERVERS " == *" bun-pubsub "* ]]; then
    echo "pubsub servers: every connection first subscribes to the channel \"bench\" (the acks are not counted);"
    echo "a message is $PUBSUB_PUBLISH and each delivery"
    echo "$(pubsub_delivery "$PUBSUB_DATA_AS_STRING" 0) (with history: offset and epoch as well)."
  fi
  echo "Capstan's loops (capstan, pubsub, topics): THREADS=$THREADS, all pinned to CPU 0."
  ((BUSY_POLL)) && echo "BUSY_POLL=1: the load generator polls without sleeping (its CPU figure is then its whole CPU)."
  ((REPEAT == 1)) || echo "Each figure the median of $REPEAT runs (the details give the range)."
  echo "Server on CPU 0, load generator on CPU 1; $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')."
  echo
  header="| conns | burst |"; rule="|---:|---:|"
  for name in $SERVERS; do header+=" $(label "$name") deliveries/s (CPU µs each) |"; rule+="---:|"; done
  echo "$header"; echo "$rule"
  for c in $CONNS; do
    for b in $BURSTS; do
      row="| $c | $b |"
      for name in $SERVERS; do row+=" $(main_cell "$name" "$c" "$b") |"; done
      echo "$row"
    done
  done
  footnotes two
  echo
  echo "Details: loadgen CPU close to the server's means both CPUs were saturated and deliveries/s"
  echo "understates the server; burst p50 = time from the publisher's write to the burst's last delivery;"
  echo "window s = seconds the figures cover (CPUs near) / seconds elapsed; others' CPU in % of one CPU."
  echo
  echo "| server | conns | burst | deliveries/s | server CPU µs/delivery | loadgen CPU µs/delivery | burst p50 ms | delivery bytes | window s | CPU0↔1 ns | others' CPU % |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for name in $MEASURED; do
    for c in $CONNS; do
      for b in $BURSTS; do
        burst_ms=$(cell "$name" "$c" "$b" burst_p50_us %s)
        [[ $burst_ms =~ ^[0-9.]+$ ]] && burst_ms=$(awk -v u="$burst_ms" 'BEGIN { printf "%.2f", u / 1000 }')
        echo "| $(label "$name") | $c | $b | $(cell "$name" "$c" "$b" deliveries_per_s %.0f range) | $(cell "$name" "$c" "$b" server_cpu_us_per_delivery %.3f range) | $(cell "$name" "$c" "$b" loadgen_cpu_us_per_delivery %.3f) | $burst_ms | $(cell "$name" "$c" "$b" delivery_bytes %s) | $(cell "$name" "$c" "$b" window_s %.1f)/$(cell "$name" "$c" "$b" elapsed_s %.1f) | $(cell "$name" "$c" "$b" xcpu_ns %.0f) | $(cell "$name" "$c" "$b" others_cpu_pct %.1f) |"
      done
    done
  done
  echo
  echo "Logs and configs: ${OUT#"$ROOT"/}"
} | tee "$OUT/report.md"

exit "$FAILED"
