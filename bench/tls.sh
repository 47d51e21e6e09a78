#!/usr/bin/env bash
# Capstan TLS benchmark (issue 16): wss:// against ws:// echo in the same server process, at
# 20-byte and 16 KiB messages, and full TLS handshakes per second per server core with an
# ECDSA P-256 and an RSA 2048 certificate, for Capstan and for Bun (npm `bun`: uWebSockets on
# BoringSSL) side by side. Prints a markdown table with the issue's target: wss keeps at least
# 80% of ws's throughput.
#
#   bench/tls.sh                                  defaults: 3 rounds of 3 s windows (~5 minutes quiet, ~10 busy)
#   DURATION=2 WARMUP=1 REPEAT=1 bench/tls.sh     a quick check
#   SERVERS=capstan TLS_VERSION=1.2 bench/tls.sh
#
# Environment: DURATION (s, default 3), WARMUP (s, default 1), REPEAT (default 3: the tables show
# medians), CONNS (echo connections, default 100), SIZES (echo payload bytes, default "20
# 16384"), HS_CLIENTS (concurrent handshaking clients, default 32), SERVERS (default "capstan
# bun"), TLS_VERSION (the only version the load generator offers, default 1.3), CAPSTAN (the
# binary, default build/release/capstan), RETRIES (runs measured again when disturbed or with
# the CPUs far apart, default 0), QUIET_PCT, QUIET_TIMEOUT (default 5 s here: the run stays bounded on a busy machine), XCPU_NEAR_NS (as
# in run.sh, see bench/README.md).
# Every server runs alone, pinned to CPU 0 (Capstan with threads = 1); the load generator runs
# on CPU 1. Loopback only, ports 19401-19500. Certificates are made for the run with openssl.
# Certificates, configs, logs and report.md go to build/bench/results/<date>-tls/.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
DURATION=${DURATION:-3}
WARMUP=${WARMUP:-1}
REPEAT=${REPEAT:-3}
CONNS=${CONNS:-100}
SIZES=${SIZES:-"20 16384"}
HS_CLIENTS=${HS_CLIENTS:-32}
SERVERS=${SERVERS:-"capstan bun"}
TLS_VERSION=${TLS_VERSION:-1.3}
RETRIES=${RETRIES:-0}
QUIET_PCT=${QUIET_PCT:-10}
QUIET_TIMEOUT=${QUIET_TIMEOUT:-5}
XCPU_NEAR_NS=${XCPU_NEAR_NS:-250}

BUILD=$ROOT/build/bench
CAPSTAN=${CAPSTAN:-$ROOT/build/release/capstan}
BUN=$ROOT/bench/node/node_modules/.bin/bun
# shellcheck disable=SC2034  # run_loadgen_bounded (lib.sh) uses it
LOADGEN=$BUILD/capstan_loadgen
OUT=$BUILD/results/$(date +%Y%m%d-%H%M%S)-tls
mkdir -p "$OUT"

log() { printf 'tls: %s\n' "$*" >&2; }
# shellcheck source=bench/lib.sh
source bench/lib.sh  # the working folder is the repository root (see the cd above)

for s in $SERVERS; do
  case $s in capstan | bun) ;; *) log "unknown server '$s' in SERVERS (capstan, bun)"; exit 2 ;; esac
done
[[ $TLS_VERSION == 1.2 || $TLS_VERSION == 1.3 ]] || { log "TLS_VERSION must be 1.2 or 1.3"; exit 2; }
[[ $RETRIES =~ ^[0-9]$ ]] || { log "RETRIES must be 0-9"; exit 2; }
command -v openssl >/dev/null || { log "openssl (the command) is needed to make the certificates"; exit 1; }

# --- Dependencies and build ------------------------------------------------------------------
declare -A NOTE  # server -> why it was not measured
if [[ " $SERVERS " == *" bun "* && ! -x $BUN ]]; then
  if ! command -v npm >/dev/null; then
    scripts/install-deps.sh --bench || log "warning: scripts/install-deps.sh --bench failed"
  fi
  log "bench/node/node_modules lacks Bun: npm ci"
  (cd bench/node && npm ci --silent --no-audit --no-fund) || log "warning: npm ci failed"
fi
if [[ " $SERVERS " == *" bun "* ]] && ! "$BUN" --version >/dev/null 2>&1; then
  NOTE[bun]="not installed (bench/node: npm ci)"
fi

build_bench "the load generator" --target capstan_loadgen
if [[ " $SERVERS " == *" capstan "* ]]; then
  if [[ ! -x $CAPSTAN && $CAPSTAN == "$ROOT/build/release/capstan" ]]; then build_capstan || true; fi
  if [[ -x $CAPSTAN ]]; then
    # A copy, so that the whole run measures one binary even if build/release is rebuilt meanwhile.
    log "capstan: $CAPSTAN, built $(date -r "$CAPSTAN" '+%F %T'); HEAD $(git log -1 --format='%h %s' 2>/dev/null | cut -c1-60)$(git diff --quiet HEAD -- src include 2>/dev/null || echo ' (+ uncommitted changes)')"
    cp "$CAPSTAN" "$OUT/capstan"
    CAPSTAN=$OUT/capstan
  else
    NOTE[capstan]="not built"
  fi
fi

# --- Certificates -----------------------------------------------------------------------------
# Self-signed, for localhost and 127.0.0.1, one per key type; the echo runs verify the server's
# certificate with it (--tls-ca), the handshake runs do not (it would be the client's cost only).
mkdir -p "$OUT/certs"
make_cert() {
  local name=$1
  shift
  openssl req -x509 "$@" -nodes -keyout "$OUT/certs/$name.key" -out "$OUT/certs/$name.crt" -days 2 \
    -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" >>"$OUT/certs/openssl.log" 2>&1 ||
    { log "openssl could not make the $name certificate:"; tail -5 "$OUT/certs/openssl.log" >&2; exit 1; }
}
make_cert ecdsa -newkey ec -pkeyopt ec_paramgen_curve:prime256v1
make_cert rsa -newkey rsa:2048

# capstan_config PLAIN_PORT TLS_PORT KEY: one thread; a plain and a TLS listener; the echo
# component on /echo; no compression (the load generator offers none anyway); no message rate
# limit and connections_per_ip high enough for a load generator on one address.
capstan_config() {
  printf '[server]\nname = "capstan-tls-bench-%s"\nlisten = "127.0.0.1:%s"\nthreads = 1\n\n' "$1" "$1"
  printf '[server.tls]\nlisten = "127.0.0.1:%s"\ncert = "%s"\nkey = "%s"\n\n' "$2" "$OUT/certs/$3.crt" "$OUT/certs/$3.key"
  printf '[limits]\nmax_connections = 200000\nconnections_per_ip = 1000000\nmessages_per_second = 0\n\n'
  printf '[compression]\nenabled = false\n\n'
  printf '[[routes]]\npath = "/echo"\ncomponent = "echo"\n'
}
if [[ -z ${NOTE[capstan]:-} && " $SERVERS " == *" capstan "* ]]; then
  capstan_config 19400 19399 ecdsa >"$OUT/capstan-check.toml"
  "$CAPSTAN" check -c "$OUT/capstan-check.toml" >"$OUT/capstan-check.log" 2>&1 ||
    { log "capstan check rejects the benchmark config:"; cat "$OUT/capstan-check.log" >&2; NOTE[capstan]="config rejected"; }
fi

# --- Starting and stopping servers -----------------------------------------------------------
prepare_servers 19401 19500  # run.sh 19001-19100, auth/fanout 19101-19200, pubsub-memory 19201-19300, backend-proxy 19301-19400

# start SERVER KEY: a fresh server with a plain listener on PLAIN_PORT and a TLS one (KEY's
# certificate) on TLS_PORT, pinned to CPU 0; sets SERVER_PID. Ready when it listens on both.
start() {
  local server=$1 key=$2 cmd
  pick_port; TLS_PORT=$PORT
  pick_port; PLAIN_PORT=$PORT
  case $server in
    capstan)
      capstan_config "$PLAIN_PORT" "$TLS_PORT" "$key" >"$OUT/capstan-$key-$PLAIN_PORT.toml"
      cmd=("$CAPSTAN" start -c "$OUT/capstan-$key-$PLAIN_PORT.toml") ;;
    bun) cmd=("$BUN" bench/node/bun_echo.js "$PLAIN_PORT" "$TLS_PORT" "$OUT/certs/$key.crt" "$OUT/certs/$key.key") ;;
  esac
  launch_server "$server" "$OUT/$server-$key-$PLAIN_PORT.log" "${cmd[@]}" || return 1
  for _ in $(seq 100); do
    [[ $(listening_pid "$TLS_PORT") == "$SERVER_PID" ]] && return 0
    sleep 0.05
  done
  log "$server did not listen on its TLS port $TLS_PORT"; stop_server; return 1
}

# --- Measurements -----------------------------------------------------------------------------
declare -A R  # "<server> <figure> <key>" -> the values of that RESULT field, one per repetition
FAILED=0

# run_loadgen WHO FIGURE LOG: the loadgen run of FIGURE against the running server; FIGURE is
# ws-SIZE, wss-SIZE, hs-KEY (TLS only) or up-KEY (TLS + upgrade).
run_loadgen() {
  local who=$1 figure=$2 log=$3 args=() probe=()
  [[ $XCPU_NEAR_NS != 0 ]] && probe=(--probe-cpu 0 --near-ns "$XCPU_NEAR_NS")
  case $figure in
    ws-*) PORT=$PLAIN_PORT; args=(--mode echo --connections "$CONNS" --size "${figure#ws-}") ;;
    wss-*) PORT=$TLS_PORT; args=(--mode echo --connections "$CONNS" --size "${figure#wss-}" --tls 1
                                 --tls-ca "$OUT/certs/$KEY.crt" --tls-version "$TLS_VERSION") ;;
    hs-*) PORT=$TLS_PORT; args=(--mode handshake --connections "$HS_CLIENTS" --tls 1 --upgrade 0 --tls-version "$TLS_VERSION") ;;
    up-*) PORT=$TLS_PORT; args=(--mode handshake --connections "$HS_CLIENTS" --tls 1 --upgrade 1 --tls-version "$TLS_VERSION") ;;
  esac
  log "$who $figure, run $rep/$REPEAT (port $PORT, pid $SERVER_PID)"
  run_loadgen_bounded "$who $figure" "$log" 30 --path /echo "${args[@]}" "${probe[@]}"
}

# measure SERVER FIGURE: one good run (measured again up to RETRIES times if other processes
# disturbed it or the CPUs were far apart); its RESULT fields are appended to R["SERVER FIGURE key"].
measure() {
  local server=$1 figure=$2 log="$OUT/$1-$2-r$rep.log" attempt tw
  for ((attempt = 1; attempt <= RETRIES + 1; attempt++)); do
    wait_quiet
    run_loadgen "$server" "$figure" "$log" || { R["$server $figure failed"]=1; FAILED=1; return 1; }
    grep '^loadgen: warning' "$log" >&2 || true
    if clean_run "$log"; then break; fi
    retry_note "$server $figure" "$log" "$attempt" $((attempt <= RETRIES))
  done
  add_results "$server $figure" "$log"
  if [[ $figure == hs-* || $figure == up-* ]]; then
    # Resets leave no TIME_WAIT: a run that did would run out of ephemeral ports.
    tw=$(ss -Htan state time-wait "( sport = :$TLS_PORT or dport = :$TLS_PORT )" 2>/dev/null | wc -l)
    R["$server $figure time_wait"]+="$tw "
  fi
}

# last SERVER FIGURE KEY: the value of this round, empty if the figure has none for it.
last() {
  local v=${R["$1 $2 $3"]:-}
  [[ -z ${R["$1 $2 failed"]:-} ]] || return 0
  (($(wc -w <<<"$v") == rep)) || return 0
  awk '{ print $NF }' <<<"$v"
}

# echo_round SERVER: ws and wss at every size, in alternating order from one round to the next,
# in one server process; the ratios of the round are kept (the tables give their medians).
echo_round() {
  local server=$1 size first second w s cw cs
  KEY=ecdsa
  start "$server" ecdsa || { for size in $SIZES; do R["$server ws-$size failed"]=1; R["$server wss-$size failed"]=1; done; FAILED=1; return; }
  for size in $SIZES; do
    first=ws second=wss; ((rep % 2)) || { first=wss; second=ws; }
    measure "$server" "$first-$size" || true
    measure "$server" "$second-$size" || true
    w=$(last "$server" "ws-$size" msgs_per_s); s=$(last "$server" "wss-$size" msgs_per_s)
    cw=$(last "$server" "ws-$size" cpu_us_per_msg); cs=$(last "$server" "wss-$size" cpu_us_per_msg)
    if [[ -n $w && -n $s && -n $cw && -n $cs ]]; then
      R["$server ratio-$size msgs"]+="$(awk -v a="$s" -v b="$w" 'BEGIN { printf "%.3f", a / b }') "
      R["$server ratio-$size cpu"]+="$(awk -v a="$cw" -v b="$cs" 'BEGIN { printf "%.3f", a / b }') "
    fi
  done
  # The ECDSA handshakes in the same process (its listener is there already).
  measure "$server" hs-ecdsa || true
  measure "$server" up-ecdsa || true
  stop_server
}

# rsa_round SERVER: a fresh server with the RSA certificate, handshakes only.
rsa_round() {
  local server=$1
  KEY=rsa
  start "$server" rsa || { R["$server hs-rsa failed"]=1; R["$server up-rsa failed"]=1; FAILED=1; return; }
  measure "$server" hs-rsa || true
  measure "$server" up-rsa || true
  stop_server
}

log_load
measured_servers
# The servers take turns for each group of figures, so the ones compared are measured close in
# time: the host's speed drifts by 10-20% over minutes.
for ((rep = 1; rep <= REPEAT; rep++)); do
  for server in $MEASURED; do echo_round "$server"; done
  for server in $MEASURED; do rsa_round "$server"; done
done

# --- Report -----------------------------------------------------------------------------------
# Handshakes per second per core: 1e6 / (server CPU µs per handshake), what one core fully busy
# with handshakes would do; the load generator (whose own TLS work per handshake costs more than
# the server's) is usually the limit of the measured rate.
for server in $MEASURED; do
  for f in hs-ecdsa up-ecdsa hs-rsa up-rsa; do
    for v in ${R["$server $f cpu_us_per_msg"]:-}; do
      R["$server $f per_core"]+="$(awk -v u="$v" 'BEGIN { printf "%.0f", (u > 0 ? 1e6 / u : 0) }') "
    done
  done
done

label() {
  case $1 in
    capstan) echo "Capstan" ;;
    bun) echo "Bun $("$BUN" --version 2>/dev/null)" ;;
  esac
}
# cell SERVER FIGURE KEY FORMAT [range]: the median (marked † disturbed, ‡ CPUs not near), or
# why the server was not measured; with "range" and REPEAT > 1 also the spread.
cell() {
  local marks=""
  [[ $3 == msgs_per_s || $3 == cpu_us_per_msg || $3 == per_core ]] && marks=marks
  if [[ -n ${NOTE[$1]:-} ]]; then echo "${NOTE[$1]}"; return; fi
  figure "$1 $2" "$3" "$4" "${5:-}" "$marks"
}
pct() { awk -v r="$1" 'BEGIN { if (r == "" || r == "-") print "-"; else printf "%.0f%%", 100 * r }'; }
median_of() {
  local v=${R["$1 $2 $3"]:-} nums
  [[ -n $v ]] || return 0
  read -ra nums <<<"$v"
  summary median "${nums[@]}"
}
verdict() { if [[ -z $1 ]]; then echo "n/a"; elif awk -v a="$1" 'BEGIN { exit !(a >= 0.8) }'; then echo "**pass**"; else echo "**FAIL**"; fi; }
size_label() { (($1 % 1024 == 0)) && echo "$(($1 / 1024)) KiB" || echo "$1 B"; }

{
  echo
  echo "TLS benchmark: echo over ws:// and wss:// (TLS $TLS_VERSION offered only) in the same server process, $CONNS connections,"
  echo "one message in flight each; full TLS handshakes ($HS_CLIENTS clients, no session resumption). ${DURATION}s windows after"
  echo "${WARMUP}s warm-up$( ((REPEAT == 1)) || echo ", each figure the median of $REPEAT rounds (the range in brackets)")."
  echo "Server on CPU 0 (Capstan: threads = 1; Bun: all its threads), load generator on CPU 1; $(uname -r),"
  echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) CPUs."
  echo
  header="| figure |"; rule="|---|"
  for server in $SERVERS; do header+=" $(label "$server") |"; rule+="---:|"; done
  echo "$header"; echo "$rule"
  for size in $SIZES; do
    sl=$(size_label "$size")
    row() { local r="| $1 |" server; for server in $SERVERS; do r+=" $($2 "$server") |"; done; echo "$r"; }
    f_ws() { cell "$1" "ws-$size" msgs_per_s %.0f; }
    f_wss() { cell "$1" "wss-$size" msgs_per_s %.0f; }
    f_ratio() { [[ -n ${NOTE[$1]:-} ]] && { echo "-"; return; }; pct "$(median_of "$1" "ratio-$size" msgs)"; }
    f_cpu() { [[ -n ${NOTE[$1]:-} ]] && { echo "-"; return; }; echo "$(cell "$1" "ws-$size" cpu_us_per_msg %.2f) / $(cell "$1" "wss-$size" cpu_us_per_msg %.2f)"; }
    f_core() { [[ -n ${NOTE[$1]:-} ]] && { echo "-"; return; }; pct "$(median_of "$1" "ratio-$size" cpu)"; }
    row "msgs/s ws, $sl" f_ws
    row "msgs/s wss, $sl" f_wss
    row "wss/ws msgs/s, $sl" f_ratio
    row "server CPU µs/msg ws / wss, $sl" f_cpu
    row "wss/ws per core (ws CPU ÷ wss CPU), $sl" f_core
  done
  for key in ecdsa rsa; do
    kl=$([[ $key == ecdsa ]] && echo "ECDSA P-256" || echo "RSA 2048")
    f_hs() { [[ -n ${NOTE[$1]:-} ]] && { echo "-"; return; }; echo "$(cell "$1" "hs-$key" per_core %.0f) / $(cell "$1" "up-$key" per_core %.0f)"; }
    row "handshakes/s per core, $kl: TLS only / TLS + upgrade" f_hs
  done
  echo
  echo "| target: wss keeps ≥ 80% of ws | measured (msgs/s; per core) | verdict (msgs/s; per core) |"
  echo "|---|---:|---|"
  for server in $SERVERS; do
    [[ -z ${NOTE[$server]:-} ]] || continue
    for size in $SIZES; do
      m=$(median_of "$server" "ratio-$size" msgs); c=$(median_of "$server" "ratio-$size" cpu)
      echo "| $(label "$server"), $(size_label "$size") | $(pct "$m"); $(pct "$c") | $(verdict "$m"); $(verdict "$c") |"
    done
  done
  # The marks' notes (lib.sh's footnotes speaks of run.sh's retries).
  notes=""
  for k in "${!R[@]}"; do
    [[ $k == *" others_cpu_pct" ]] && disturbed "${R[$k]}" &&
      notes+="† other processes used more than ${QUIET_PCT}% of a CPU during a run of that figure (measured again up to RETRIES=$RETRIES times)."$'\n'
    [[ $k == *" placement" ]] && far "${R[$k]}" &&
      notes+="‡ measured partly or wholly with CPU 0 and 1 far apart (see README; measured again up to RETRIES=$RETRIES times)."$'\n'
  done
  [[ -z $notes ]] || { echo; sort -u <<<"${notes%$'\n'}"; }
  echo
  echo "Echo details (medians; the range in brackets): server and loadgen CPU per message; window s = seconds the figures"
  echo "cover (CPUs near) / seconds elapsed; others' CPU in % of one CPU."
  echo
  echo "| server | figure | msgs/s | server CPU µs/msg | loadgen CPU µs/msg | p50 µs | window s | CPU0↔1 ns | others' CPU % |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
  for server in $MEASURED; do
    for size in $SIZES; do
      for f in "ws-$size" "wss-$size"; do
        echo "| $(label "$server") | $f | $(cell "$server" "$f" msgs_per_s %.0f range) | $(cell "$server" "$f" cpu_us_per_msg %.2f range) | $(cell "$server" "$f" loadgen_cpu_us_per_msg %.2f) | $(cell "$server" "$f" p50_us %.0f) | $(cell "$server" "$f" window_s %.1f)/$(cell "$server" "$f" elapsed_s %.1f) | $(cell "$server" "$f" xcpu_ns %.0f) | $(cell "$server" "$f" others_cpu_pct %.1f) |"
      done
    done
    for size in $SIZES; do
      echo "| $(label "$server") | wss/ws $(size_label "$size") | msgs/s $(cell "$server" "ratio-$size" msgs %.3f range) | per core $(cell "$server" "ratio-$size" cpu %.3f range) | | | | | |"
    done
  done
  echo
  echo "Handshake details: hs = TLS only (connect, TLS handshake, close_notify, the server's close, reset);"
  echo "up = TLS + upgrade (connect, TLS handshake, WebSocket upgrade, 101, reset). TIME_WAIT on the server's port after the run."
  echo
  echo "| server | figure | handshakes/s measured | server CPU µs each | per core | loadgen CPU µs each | negotiated | window s | others' CPU % | TIME_WAIT |"
  echo "|---|---|---:|---:|---:|---:|---|---:|---:|---:|"
  for server in $MEASURED; do
    for f in hs-ecdsa up-ecdsa hs-rsa up-rsa; do
      neg="$(awk '{ print $1 }' <<<"${R["$server $f tls_version"]:-?}") $(awk '{ print $1 }' <<<"${R["$server $f tls_cipher"]:-?}") $(awk '{ print $1 }' <<<"${R["$server $f tls_key"]:-?}")"
      echo "| $(label "$server") | $f | $(cell "$server" "$f" msgs_per_s %.0f range) | $(cell "$server" "$f" cpu_us_per_msg %.1f range) | $(cell "$server" "$f" per_core %.0f) | $(cell "$server" "$f" loadgen_cpu_us_per_msg %.1f) | $neg | $(cell "$server" "$f" window_s %.1f)/$(cell "$server" "$f" elapsed_s %.1f) | $(cell "$server" "$f" others_cpu_pct %.1f) | $(cell "$server" "$f" time_wait %.0f) |"
    done
  done
  echo
  echo "Logs, certificates and configs: ${OUT#"$ROOT"/}"
} | tee "$OUT/report.md"

exit "$FAILED"
