#!/usr/bin/env bash
# Capstan action proxy benchmark (issue 15): notify action round trips through `kind = "http"`
# (SPEC 5a: the action POSTed, signed, to the web application, its answer the reply) against a
# backend that answers at once (bench/servers/instant_backend.cpp), beside the same action as
# `kind = "sql"` (a query on the embedded SQLite users database, run on capstan's workers) and as
# a plain relay (the floor), in the same run. For each: messages/s and p50/p99 latency at CONNS
# connections, capstan's CPU per action, the round trip of one connection alone, and what
# capstan adds on top of the backend's own time per request (round trip minus the backend's CPU
# time per request, which instant_backend and /proc report; the loopback HTTP hop is part of
# what capstan adds). Prints a markdown table.
#
#   bench/backend-proxy.sh                              defaults: 3 rounds, ~2 minutes on a quiet machine
#   DURATION=2 SOLO_DURATION=1 REPEAT=1 bench/backend-proxy.sh     a quick check
#
# Environment: DURATION (s, default 5: window of the CONNS runs), SOLO_DURATION (s, default 2:
# window of the one-connection runs), WARMUP (s, default 1), REPEAT (rounds, default 3: the
# table shows medians), CONNS (connections of the loaded runs, default 100), KINDS (default
# "relay sql http"), BUDGET (s, default 150: past it no run waits for a quiet machine or is
# measured again, so on a busy machine the script still ends within a few minutes), QUIET_PCT
# (10), QUIET_TIMEOUT (default 30 here), XCPU_NEAR_NS (250) as in run.sh (see bench/README.md).
# capstan runs pinned to CPU 0 with one loop (its two database workers too); the load generator
# and instant_backend share CPU 1 (the backend gets CPU 2 if there is one). Loopback only,
# ports 19301-19400. Every process it starts is stopped by its PID, also on Ctrl-C. The
# SQLite database, configs, logs and report.md go to build/bench/results/<date>-backend-proxy/.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
DURATION=${DURATION:-5}
SOLO_DURATION=${SOLO_DURATION:-2}
WARMUP=${WARMUP:-1}
REPEAT=${REPEAT:-3}
CONNS=${CONNS:-100}
KINDS=${KINDS:-"relay sql http"}
BUDGET=${BUDGET:-150}
QUIET_PCT=${QUIET_PCT:-10}
QUIET_TIMEOUT=${QUIET_TIMEOUT:-30}
XCPU_NEAR_NS=${XCPU_NEAR_NS:-250}
BACKEND_CPU=1
(($(nproc) > 2)) && BACKEND_CPU=2

BUILD=$ROOT/build/bench
CAPSTAN=$ROOT/build/release/capstan
LOADGEN=$BUILD/capstan_loadgen
BACKEND=$BUILD/instant_backend
OUT=$BUILD/results/$(date +%Y%m%d-%H%M%S)-backend-proxy
mkdir -p "$OUT"
STARTED=$SECONDS

log() { printf 'backend-proxy: %s\n' "$*" >&2; }
# shellcheck source=bench/lib.sh
source bench/lib.sh  # the working folder is the repository root (see the cd above)

for k in $KINDS; do
  case $k in relay | sql | http) ;; *) log "unknown kind '$k' (relay, sql, http)"; exit 2 ;; esac
done

# --- Build ----------------------------------------------------------------------------------
build_bench "the load generator and instant_backend" --target capstan_loadgen instant_backend
if [[ ! -x $CAPSTAN ]]; then
  build_capstan || exit 1
fi
# A copy, so that the whole run measures one binary even if build/release is rebuilt meanwhile.
cp "$CAPSTAN" "$OUT/capstan"
CAPSTAN=$OUT/capstan
log "capstan: $(git log -1 --format='%h %s' 2>/dev/null | cut -c1-60)$(git diff --quiet HEAD -- src include 2>/dev/null || echo ' (+ uncommitted changes)'), built $(date -r "$ROOT/build/release/capstan" '+%F %T')"

# --- The database and the config ------------------------------------------------------------
# The users database the sql action queries: the users table [users] needs, and one row the
# action reads. The query echoes the message's id (a stale reply cannot pass) next to a column
# of that row, so all three kinds answer the same reply and the load generator checks each the
# same way: {"action":KIND,"data":"{\"id\":N,\"text\":\"hello\"}"}.
DB_SQL="CREATE TABLE user (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE);
CREATE TABLE greeting (id INTEGER PRIMARY KEY, text TEXT NOT NULL);
INSERT INTO user (id, email) VALUES (1, 'bench@example.com');
INSERT INTO greeting (id, text) VALUES (1, 'hello');"
if command -v sqlite3 >/dev/null; then
  sqlite3 "$OUT/bench.sqlite" "$DB_SQL"
else
  python3 -c 'import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); db.executescript(sys.argv[2]); db.commit()' \
    "$OUT/bench.sqlite" "$DB_SQL"
fi

# capstan_config PORT BACKEND_PORT: one loop; the notify route "/" without authentication and
# three actions answering to the sender: relay, sql (the users database) and http (instant_backend).
capstan_config() {
  printf '[server]\nname = "capstan-backend-proxy-%s"\nlisten = "127.0.0.1:%s"\nthreads = 1\n\n' "$1" "$1"
  # The spec's default limits would throttle a load generator that sends as fast as the server
  # answers, from one address.
  printf '[limits]\nmax_connections = 200000\nmessages_per_second = 0\nconnections_per_ip = 1000000\n\n'
  printf '[users]\nprovider = "sqlite"\ndatabase = "%s"\n\n' "$OUT/bench.sqlite"
  printf '[backend]\nsecret = "bench"\nmax_in_flight = 1000\n\n'
  printf '[[routes]]\npath = "/"\ncomponent = "notify"\nauth = false\n\n'
  printf '  [[routes.actions]]\n  name = "relay"\n  kind = "relay"\n  to = "sender"\n\n'
  printf '  [[routes.actions]]\n  name = "sql"\n  kind = "sql"\n'
  printf '  query = "SELECT :id AS id, text FROM greeting WHERE id = 1"\n  one = true\n  to = "sender"\n\n'
  printf '  [[routes.actions]]\n  name = "http"\n  kind = "http"\n  url = "http://127.0.0.1:%s/action"\n  to = "sender"\n' "$2"
}
capstan_config 19300 19300 >"$OUT/check.toml"
"$CAPSTAN" check -c "$OUT/check.toml" >"$OUT/check.log" 2>&1 ||
  { log "capstan check rejects the benchmark config (a capstan without http actions?):"; cat "$OUT/check.log" >&2; exit 1; }

# --- Starting and stopping capstan and the backend ------------------------------------------
prepare_servers 19301 19400  # run.sh 19001-19100, auth-bench and fanout 19101-19200, pubsub-memory 19201-19300
BACKEND_PID=""
stop_backend() {
  [[ -n $BACKEND_PID ]] || return 0
  kill -TERM "$BACKEND_PID" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$BACKEND_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$BACKEND_PID" 2>/dev/null || true
  wait "$BACKEND_PID" 2>/dev/null || true
  BACKEND_PID=""
}
trap 'stop_server; stop_backend' EXIT

# start_backend: a fresh instant_backend on a port of its own, pinned to BACKEND_CPU; sets
# BACKEND_PID and BACKEND_PORT. Bounded: 5 s.
start_backend() {
  pick_port
  BACKEND_PORT=$PORT
  taskset -c "$BACKEND_CPU" "$BACKEND" "$BACKEND_PORT" >"$OUT/backend-$BACKEND_PORT.log" 2>&1 &
  BACKEND_PID=$!
  for _ in $(seq 100); do
    if ! kill -0 "$BACKEND_PID" 2>/dev/null; then
      log "instant_backend exited during startup:"; tail -5 "$OUT/backend-$BACKEND_PORT.log" >&2
      wait "$BACKEND_PID" 2>/dev/null || true; BACKEND_PID=""; return 1
    fi
    [[ $(listening_pid "$BACKEND_PORT") == "$BACKEND_PID" ]] && return 0
    sleep 0.05
  done
  log "instant_backend did not listen on 127.0.0.1:$BACKEND_PORT within 5 s"; stop_backend; return 1
}

# backend_stats: "requests handler_ns connections unsigned bad cpu_ns" of the running backend:
# its counters from GET /stats, its CPU time from /proc/PID/schedstat (the scheduler's run time
# of its one thread in ns, user and system: exact, where /proc/PID/stat counts 10 ms ticks).
backend_stats() {
  local s cpu_ns
  s=$(curl -sf --max-time 5 "http://127.0.0.1:$BACKEND_PORT/stats") || { echo ""; return; }
  read -r cpu_ns _ <"/proc/$BACKEND_PID/schedstat" || { echo ""; return; }
  awk -v t="$cpu_ns" '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    print v["requests"], v["handler_ns"], v["connections"], v["unsigned"], v["bad"], t }' <<<"$s"
}

# start_capstan: a fresh capstan on a port of its own, pinned to CPU 0, calling the running
# backend; sets SERVER_PID, PORT.
start_capstan() {
  pick_port
  capstan_config "$PORT" "$BACKEND_PORT" >"$OUT/capstan-$PORT.toml"
  launch_server capstan "$OUT/capstan-$PORT.log" "$CAPSTAN" start -c "$OUT/capstan-$PORT.toml"
}

# --- Measurements -----------------------------------------------------------------------------
declare -A R  # "<figure> <key>" -> the values of that field, one per round
FAILED=0
over_budget() { ((SECONDS - STARTED > BUDGET)); }

# measure FIGURE KIND CONNECTIONS SECONDS: one good run of the load generator against the
# running capstan, action KIND on CONNECTIONS connections, a window of SECONDS; appends its RESULT and the backend's figures
# over it to R. Measured again (twice at most, and not past BUDGET) if other processes disturbed
# it or the CPUs were not near for DURATION seconds. instant_backend's CPU is not "other
# processes'": the loadgen counts it there, so it is taken out (its share over the whole run).
measure() {
  local figure=$1 kind=$2 conns=$3 log="$OUT/$1-r$rep.log" attempt probe=() b0 b1 t0 t1 be
  local DURATION=$4  # run_loadgen_bounded's window
  [[ $XCPU_NEAR_NS != 0 ]] && probe=(--probe-cpu 0 --near-ns "$XCPU_NEAR_NS")
  for attempt in 1 2 3; do
    over_budget || wait_quiet
    log "$figure: run $rep/$REPEAT (port $PORT, pid $SERVER_PID; backend pid $BACKEND_PID)"
    b0=$(backend_stats); t0=$(date +%s.%N)
    run_loadgen_bounded "$figure" "$log" 60 --mode action --path / --action "$kind" \
      --connections "$conns" "${probe[@]}" || { R["$figure failed"]=1; FAILED=1; return 1; }
    t1=$(date +%s.%N); b1=$(backend_stats)
    grep '^loadgen: warning' "$log" >&2 || true
    # requests/s, handler µs/request, CPU µs/request, connections accepted (less the second
    # /stats request's own), unsigned, malformed requests, CPU % of one CPU; over the whole
    # loadgen run (warm-up included).
    be=$(awk -v a="$b0" -v b="$b1" -v t0="$t0" -v t1="$t1" 'BEGIN {
      split(a, x, " "); split(b, y, " "); n = y[1] - x[1]; s = t1 - t0
      if (a == "" || b == "") { print "- - - - - - 0"; exit }
      printf "%.0f %s %s %d %d %d %.1f\n", n / s, (n ? sprintf("%.3f", (y[2] - x[2]) / n / 1000) : "-"),
        (n ? sprintf("%.2f", (y[6] - x[6]) / 1000 / n) : "-"), y[3] - x[3] - 1, y[4] - x[4], y[5] - x[5],
        100 * (y[6] - x[6]) / 1e9 / s }')
    read -r BE_RATE BE_HANDLER BE_CPU BE_CONNS BE_UNSIGNED BE_BAD BE_PCT <<<"$be"
    ADJ_OTHERS=$(grep -o 'others_cpu_pct=[0-9.]*' "$log" | cut -d= -f2 |
      awk -v b="$BE_PCT" '{ v = $1 - b; printf "%.1f", v < 0 ? 0 : v }')
    PLACEMENT=$(grep -o 'placement=[a-z]*' "$log" | cut -d= -f2 || true)
    if awk -v o="$ADJ_OTHERS" -v q="$QUIET_PCT" 'BEGIN { exit !(o <= q) }' &&
       [[ $PLACEMENT == near || $PLACEMENT == unprobed ]]; then break; fi
    local again=0
    if ((attempt < 3)) && ! over_budget; then again=1; fi
    log "$figure: other processes took ${ADJ_OTHERS}% of a CPU (backend's taken out), CPU placement $PLACEMENT$( ((again)) && echo ", measuring again")"
    cp "$log" "${log%.log}-retry$attempt.log"
    ((again)) || break
  done
  local kv
  for kv in $(grep '^RESULT ' "$log" | tail -1 | cut -d' ' -f2-); do
    [[ ${kv%%=*} == others_cpu_pct ]] && { R["$figure others_raw"]+="${kv#*=} "; kv=others_cpu_pct=$ADJ_OTHERS; }
    R["$figure ${kv%%=*}"]+="${kv#*=} "
  done
  R["$figure be_rate"]+="$BE_RATE "; R["$figure be_handler_us"]+="$BE_HANDLER "
  R["$figure be_cpu_us"]+="$BE_CPU "; R["$figure be_conns"]+="$BE_CONNS "
  R["$figure be_unsigned"]+="$BE_UNSIGNED "; R["$figure be_bad"]+="$BE_BAD "
  # What capstan adds: the round trip minus the backend's own CPU time per request (http); the
  # whole round trip for relay and sql, which have no backend (sql's query runs in capstan).
  local p50
  p50=$(grep -o ' p50_us=[0-9.]*' "$log" | tail -1 | cut -d= -f2)
  R["$figure added_us"]+="$(awk -v p="$p50" -v b="$BE_CPU" -v k="$kind" 'BEGIN {
    printf "%.1f", (k == "http" && b != "-") ? p - b : p }') "
}

log_load
log "capstan on CPU 0, loadgen on CPU 1, instant_backend on CPU $BACKEND_CPU; budget ${BUDGET}s"
read -ra kinds <<<"$KINDS"
for ((rep = 1; rep <= REPEAT; rep++)); do
  if ! start_backend || ! start_capstan; then
    for k in "${kinds[@]}"; do R["$k-$CONNS failed"]=1; R["$k-1 failed"]=1; done
    FAILED=1; stop_server; stop_backend; continue
  fi
  # The kinds take turns in an order that rotates from one round to the next.
  for ((i = 0; i < ${#kinds[@]}; i++)); do
    k=${kinds[$(((i + rep - 1) % ${#kinds[@]}))]}
    measure "$k-$CONNS" "$k" "$CONNS" "$DURATION" || true
    measure "$k-1" "$k" 1 "$SOLO_DURATION" || true
  done
  stop_server
  stop_backend
done
log "done in $((SECONDS - STARTED)) s"

# --- Report -----------------------------------------------------------------------------------
cell() {
  local marks=""
  [[ $2 == msgs_per_s || $2 == cpu_us_per_msg ]] && marks=marks
  figure "$1" "$2" "$3" "${4:-}" "$marks"
}
{
  echo
  echo "Action round trips on a notify route (auth = false), ${DURATION}s windows ($CONNS connections) and ${SOLO_DURATION}s (1 connection) after ${WARMUP}s warm-up;"
  ((REPEAT == 1)) || echo "each figure the median of $REPEAT rounds (the range in brackets);"
  echo "capstan on CPU 0 (one loop, its 2 database workers on CPU 0 too), load generator on CPU 1, instant_backend on CPU $BACKEND_CPU;"
  echo "$(nproc) CPUs, $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')."
  echo "Message {\"action\":KIND,\"data\":{\"id\":N,\"text\":\"hello\"}}, reply {\"action\":KIND,\"data\":\"{\\\"id\\\":N,\\\"text\\\":\\\"hello\\\"}\"}, checked whole."
  echo "relay: kind = \"relay\" to the sender; sql: kind = \"sql\", SELECT :id AS id, text FROM greeting WHERE id = 1 (SQLite);"
  echo "http: kind = \"http\", a signed POST to instant_backend, which copies data into {\"data\":...}."
  echo
  echo "| kind | msgs/s ($CONNS conns) | p50 µs | p99 µs | capstan CPU µs/msg | capstan's added time µs ($CONNS conns) | 1 conn: msgs/s | 1 conn: p50 µs | 1 conn: p99 µs | capstan's added time µs (1 conn) |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for k in "${kinds[@]}"; do
    echo "| $k | $(cell "$k-$CONNS" msgs_per_s %.0f range) | $(cell "$k-$CONNS" p50_us %.0f) | $(cell "$k-$CONNS" p99_us %.0f) | $(cell "$k-$CONNS" cpu_us_per_msg %.2f range) | $(cell "$k-$CONNS" added_us %.0f) | $(cell "$k-1" msgs_per_s %.0f) | $(cell "$k-1" p50_us %.1f) | $(cell "$k-1" p99_us %.1f) | $(cell "$k-1" added_us %.1f range) |"
  done
  footnotes two
  echo
  echo "capstan's added time: the round trip's p50 minus instant_backend's CPU time per request (http; the loopback"
  echo "HTTP hop's system calls on capstan's side and the wake-ups are in it), the whole p50 for relay and sql (no backend;"
  echo "the query runs on capstan's worker). At $CONNS connections the p50 is mostly waiting in line (≈ $CONNS / msgs/s)."
  if [[ " ${kinds[*]} " == *" http "* ]]; then
    echo
    echo "instant_backend over the http runs (whole loadgen run, warm-up included): requests/s; handler µs/request ="
    echo "parsing + answer, no system call; CPU µs/request = all its CPU time (/proc/PID/schedstat, system calls included) / requests;"
    echo "connections = TCP connections capstan opened to it during the run; unsigned = POSTs without X-Capstan-Signature."
    echo
    echo "| run | requests/s | handler µs/request | backend CPU µs/request | backend CPU % | connections | unsigned | malformed |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
    for f in "http-$CONNS" http-1; do
      echo "| $f | $(cell "$f" be_rate %.0f) | $(cell "$f" be_handler_us %.3f) | $(cell "$f" be_cpu_us %.2f range) | $(awk -v r="$(cell "$f" be_rate %.0f)" -v c="$(cell "$f" be_cpu_us %.2f)" 'BEGIN { if (r + 0 > 0 && c + 0 > 0) printf "%.0f", r * c / 1e4; else print "-" }') | $(cell "$f" be_conns %.0f) | $(cell "$f" be_unsigned %.0f) | $(cell "$f" be_bad %.0f) |"
    done
  fi
  echo
  echo "Details: window s = seconds the figures cover (CPUs near) / seconds elapsed; others' CPU in % of one CPU"
  echo "(instant_backend's share taken out; raw = as the load generator counted it); loadgen CPU µs/msg on CPU 1."
  echo
  echo "| figure | window s | CPU0↔1 ns | others' CPU % | raw | loadgen CPU µs/msg | p99 µs (range) |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  for k in "${kinds[@]}"; do
    for f in "$k-$CONNS" "$k-1"; do
      echo "| $f | $(cell "$f" window_s %.1f)/$(cell "$f" elapsed_s %.1f) | $(cell "$f" xcpu_ns %.0f) | $(cell "$f" others_cpu_pct %.1f) | $(cell "$f" others_raw %.1f) | $(cell "$f" loadgen_cpu_us_per_msg %.2f) | $(cell "$f" p99_us %.0f range) |"
    done
  done
  echo
  echo "Logs, database and configs: ${OUT#"$ROOT"/}"
} | tee "$OUT/report.md"

exit "$FAILED"
