#!/usr/bin/env bash
# Capstan handshake and action benchmark (issue 4): authenticated handshakes per second with
# HS256 and RS256 against unauthenticated ones, and notify action round trips (JSON parse,
# dispatch, serialize, reply) against plain echo in the same server process. Prints a markdown
# table with the issue's two targets and whether they are met:
#   - at least 10k RS256-authenticated handshakes per second per core;
#   - the action path at 85% or more of echo's messages per second.
#
#   bench/auth-bench.sh                         defaults: 3 rounds of 5 s windows (~6 minutes)
#   DURATION=2 WARMUP=1 REPEAT=1 bench/auth-bench.sh   a quick check
#
# Environment: DURATION (s, default 5), WARMUP (s, default 1), REPEAT (default 3: the table shows
# medians), CONNS (connections of the action and echo runs, default 100), HS_CLIENTS (concurrent
# handshaking clients, default 64), QUIET_PCT, QUIET_TIMEOUT, XCPU_NEAR_NS (as in run.sh, see
# bench/README.md).
# The server runs alone, pinned to CPU 0 with one thread; the load generator runs on CPU 1.
# Loopback only. Keys, tokens, configs, logs and report.md go to build/bench/results/<date>-auth/.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
REPEAT=${REPEAT:-3}
CONNS=${CONNS:-100}
HS_CLIENTS=${HS_CLIENTS:-64}
QUIET_PCT=${QUIET_PCT:-10}
QUIET_TIMEOUT=${QUIET_TIMEOUT:-120}
XCPU_NEAR_NS=${XCPU_NEAR_NS:-250}
ACTION_SIZE=55  # bytes of the loadgen's action message; echo is measured with the same size

BUILD=$ROOT/build/bench
CAPSTAN=$ROOT/build/release/capstan
LOADGEN=$BUILD/capstan_loadgen
OUT=$BUILD/results/$(date +%Y%m%d-%H%M%S)-auth
mkdir -p "$OUT"

log() { printf 'auth-bench: %s\n' "$*" >&2; }
# shellcheck source=bench/lib.sh
source bench/lib.sh  # the working folder is the repository root (see the cd above)

# --- Build ----------------------------------------------------------------------------------
build_bench "the load generator" --target capstan_loadgen
if [[ ! -x $CAPSTAN ]]; then
  build_capstan || exit 1
fi

# A copy, so that the whole run measures one binary even if build/release is rebuilt meanwhile.
cp "$CAPSTAN" "$OUT/capstan"
CAPSTAN=$OUT/capstan
log "capstan: $(git log -1 --format='%h %s' 2>/dev/null | cut -c1-60)$(git diff --quiet HEAD -- src include 2>/dev/null || echo ' (+ uncommitted changes)'), built $(date -r "$ROOT/build/release/capstan" '+%F %T')"

# --- Keys, tokens, configs --------------------------------------------------------------------
# RS256: a fresh 2048-bit pair from capstan itself. HS256: a random 256-bit secret.
"$CAPSTAN" keys generate --alg RS256 --dir "$OUT/keys" >"$OUT/keys.log" 2>&1 ||
  { log "capstan keys generate failed:"; cat "$OUT/keys.log" >&2; exit 1; }
HS_SECRET=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')

# capstan_config ALG PORT: one thread; notify on "/" (authenticated with ALG) with a relay
# action "echo" to the sender; notify on "/open" without authentication; echo on "/echo".
# users.provider = "none": the token is trusted as it is, no database is involved.
capstan_config() {
  local alg=$1 port=$2
  printf '[server]\nname = "capstan-auth-bench-%s"\nlisten = "127.0.0.1:%s"\nthreads = 1\n\n' "$port" "$port"
  # The spec's default limits (100 messages/s per connection, 1000 connections per IP) would
  # throttle a load generator that sends as fast as the server answers, from one address.
  printf '[limits]\nmax_connections = 200000\nmessages_per_second = 0\nconnections_per_ip = 1000000\n\n'
  printf '[auth]\nalgorithms = ["%s"]\n' "$alg"
  case $alg in
    RS256) printf 'public_key = "keys/public.pem"\nprivate_key = "keys/private.pem"\n' ;;
    HS256) printf 'secret = "%s"\n' "$HS_SECRET" ;;
  esac
  printf '\n[users]\nprovider = "none"\n'
  local route
  for route in '/|' '/open|auth = false'; do
    printf '\n[[routes]]\npath = "%s"\ncomponent = "notify"\n%s\n' "${route%%|*}" "${route#*|}"
    printf '  [[routes.actions]]\n  name = "echo"\n  kind = "relay"\n  to = "sender"\n'
  done
  printf '\n[[routes]]\npath = "/echo"\ncomponent = "echo"\n'
}
for alg in RS256 HS256; do
  capstan_config "$alg" 19000 >"$OUT/check-$alg.toml"
  "$CAPSTAN" check -c "$OUT/check-$alg.toml" >"$OUT/check-$alg.log" 2>&1 ||
    { log "capstan check rejects the $alg benchmark config:"; cat "$OUT/check-$alg.log" >&2; exit 1; }
  # A day of validity: the run is bounded well below that.
  "$CAPSTAN" token -c "$OUT/check-$alg.toml" --claim username=bench --ttl 86400 >"$OUT/$alg.token" 2>"$OUT/token-$alg.log" ||
    { log "capstan token ($alg) failed:"; cat "$OUT/token-$alg.log" >&2; exit 1; }
done

# --- Starting and stopping the server ---------------------------------------------------------
prepare_servers 19101 19200  # run.sh uses 19001-19100

# start_capstan ALG: a fresh capstan on a port of its own, pinned to CPU 0; sets SERVER_PID, PORT.
start_capstan() {
  local alg=$1
  pick_port
  capstan_config "$alg" "$PORT" >"$OUT/capstan-$alg-$PORT.toml"
  launch_server capstan "$OUT/capstan-$alg-$PORT.log" "$CAPSTAN" start -c "$OUT/capstan-$alg-$PORT.toml"
}

# --- Measurements -----------------------------------------------------------------------------
declare -A R  # "<figure> <key>" -> the values of that RESULT field, one per repetition
FAILED=0

# loadgen FIGURE MODE LOG ARGS...: one run against the running server, bounded in time.
loadgen() {
  local figure=$1 mode=$2 log=$3 probe=()
  shift 3
  [[ $XCPU_NEAR_NS != 0 ]] && probe=(--probe-cpu 0 --near-ns "$XCPU_NEAR_NS")
  log "$figure: $mode, run $rep/$REPEAT (port $PORT, pid $SERVER_PID)"
  run_loadgen_bounded "$figure" "$log" 60 --mode "$mode" "${probe[@]}" "$@"
}

# measure FIGURE MODE ARGS...: one good run against the running server; appends its RESULT to R.
# Measured again if other processes disturbed it (twice at most) or if it could not collect
# DURATION seconds with the CPUs near (five times at most: the runs are short, and a far
# placement doubles the cost of a handshake, so a far figure is not worth keeping).
measure() {
  local figure=$1 mode=$2 log attempt tw disturbed=0 again
  shift 2
  log="$OUT/$figure-r$rep.log"
  for attempt in 1 2 3 4 5 6; do
    wait_quiet
    loadgen "$figure" "$mode" "$log" "$@" || { R["$figure failed"]=1; FAILED=1; return 1; }
    grep '^loadgen: warning' "$log" >&2 || true
    if clean_run "$log"; then break; fi
    ((OTHERS <= QUIET_PCT)) || ((disturbed += 1))
    again=$((disturbed < 3 && attempt < 6))
    retry_note "$figure" "$log" "$attempt" "$again"
    ((again)) || break
  done
  add_results "$figure" "$log"
  # Connections closed with a reset leave no TIME_WAIT: checked, since a run that did would
  # run out of ephemeral ports after ~28k handshakes and measure something else.
  tw=$(ss -Htan state time-wait "( sport = :$PORT or dport = :$PORT )" 2>/dev/null | wc -l)
  R["$figure time_wait"]+="$tw "
}

# handshake FIGURE ALG PATH [TOKEN_ALG]: a fresh server, then HS_CLIENTS clients handshaking in a loop.
handshake() {
  local figure=$1 alg=$2 path=$3 token=${4:-} args=()
  [[ -n $token ]] && args=(--token-file "$OUT/$token.token")
  # A 101 on a notify route does not mean the token was accepted: the loadgen first checks one
  # action round trip on that path, and fails on anything sent right behind a 101.
  [[ $path != /echo ]] && args+=(--check-action 1)
  start_capstan "$alg" || { R["$figure failed"]=1; FAILED=1; return; }
  measure "$figure" handshake --path "$path" --connections "$HS_CLIENTS" "${args[@]}" || true
  stop_server
}

log_load
for ((rep = 1; rep <= REPEAT; rep++)); do
  handshake hs-none RS256 /echo
  handshake hs-open RS256 /open
  handshake hs-hs256 HS256 / HS256
  handshake hs-rs256 RS256 / RS256
  # Action and echo in the same server process, in alternating order from one round to the next.
  if start_capstan RS256; then
    order=(echo action); ((rep % 2)) || order=(action echo)
    for m in "${order[@]}"; do
      case $m in
        echo) measure msg-echo echo --path /echo --size "$ACTION_SIZE" --connections "$CONNS" || true ;;
        action) measure msg-action action --path / --token-file "$OUT/RS256.token" --connections "$CONNS" || true ;;
      esac
    done
    # The ratio of this pair, from the same server: the table gives the median of the pairs.
    a=${R["msg-action msgs_per_s"]:-}; e=${R["msg-echo msgs_per_s"]:-}
    ca=${R["msg-action cpu_us_per_msg"]:-}; ce=${R["msg-echo cpu_us_per_msg"]:-}
    if [[ -z ${R["msg-action failed"]:-} && -z ${R["msg-echo failed"]:-} ]] &&
       (($(wc -w <<<"$a") == rep && $(wc -w <<<"$e") == rep)); then
      R["ratio msgs"]+="$(awk -v a="${a% }" -v e="${e% }" 'BEGIN { n = split(a, x, " "); split(e, y, " "); printf "%.3f", x[n] / y[n] }') "
      R["ratio cpu"]+="$(awk -v a="${ca% }" -v e="${ce% }" 'BEGIN { n = split(a, x, " "); split(e, y, " "); printf "%.3f", y[n] / x[n] }') "
    fi
    stop_server
  else
    R["msg-echo failed"]=1; R["msg-action failed"]=1; FAILED=1
  fi
done

# --- Report -----------------------------------------------------------------------------------
# median FIGURE KEY: the median of a figure over the repetitions, empty if there is none.
median() {
  local v=${R["$1 $2"]:-} nums
  [[ -n $v && -z ${R["$1 failed"]:-} ]] || return 0
  read -ra nums <<<"$v"
  summary median "${nums[@]}"
}
# cell FIGURE KEY FORMAT [range]: the median, marked † (disturbed) / ‡ (CPUs not near); with
# "range" and REPEAT > 1 also the spread.
cell() {
  local marks=""
  [[ $2 == msgs_per_s || $2 == cpu_us_per_msg || $2 == per_core ]] && marks=marks
  figure "$1" "$2" "$3" "${4:-}" "$marks"
}
# Handshakes per second per core: what one fully busy core would do at the measured CPU cost,
# 1e6 / (server CPU µs per handshake); the load generator may be the limit of the measured rate.
for f in hs-none hs-open hs-hs256 hs-rs256; do
  for v in ${R["$f cpu_us_per_msg"]:-}; do
    R["$f per_core"]+="$(awk -v u="$v" 'BEGIN { printf "%.0f", (u > 0 ? 1e6 / u : 0) }') "
  done
done
verdict() { if [[ -z $1 ]]; then echo "n/a"; elif awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; then echo "**pass**"; else echo "**FAIL**"; fi; }

{
  echo
  echo "Handshakes and action round trips, ${DURATION}s windows after ${WARMUP}s warm-up;"
  ((REPEAT == 1)) || echo "each figure the median of $REPEAT runs (the range in brackets);"
  echo "capstan on CPU 0 (one thread), load generator on CPU 1; $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')."
  echo
  echo "Handshakes: $HS_CLIENTS clients, each in a loop: connect, upgrade request (token in ?token=), 101, reset."
  echo
  echo "| route | handshakes/s | server CPU µs/handshake | handshakes/s per core | loadgen CPU µs/handshake | p50 µs | request bytes |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  while IFS='|' read -r f label; do
    echo "| $label | $(cell "$f" msgs_per_s %.0f range) | $(cell "$f" cpu_us_per_msg %.2f range) | $(cell "$f" per_core %.0f) | $(cell "$f" loadgen_cpu_us_per_msg %.2f) | $(cell "$f" p50_us %.0f) | $(cell "$f" size %.0f) |"
  done <<'EOF'
hs-none|echo `/echo`, no auth
hs-open|notify `/open`, no auth
hs-hs256|notify `/`, HS256
hs-rs256|notify `/`, RS256
EOF
  echo
  echo "Action round trips against echo, same server process, $CONNS connections, one message in flight each:"
  echo "action = {\"action\":\"echo\",\"data\":{\"id\":N,\"text\":\"hello\"}} ($ACTION_SIZE B) relayed to the sender;"
  echo "echo = $ACTION_SIZE-byte text messages on \`/echo\`."
  echo
  echo "| path | msgs/s | server CPU µs/msg | loadgen CPU µs/msg | p50 µs | p99 µs |"
  echo "|---|---:|---:|---:|---:|---:|"
  echo "| echo \`/echo\` | $(cell msg-echo msgs_per_s %.0f range) | $(cell msg-echo cpu_us_per_msg %.2f range) | $(cell msg-echo loadgen_cpu_us_per_msg %.2f) | $(cell msg-echo p50_us %.1f) | $(cell msg-echo p99_us %.1f) |"
  echo "| action \`/\` (RS256 token) | $(cell msg-action msgs_per_s %.0f range) | $(cell msg-action cpu_us_per_msg %.2f range) | $(cell msg-action loadgen_cpu_us_per_msg %.2f) | $(cell msg-action p50_us %.1f) | $(cell msg-action p99_us %.1f) |"
  echo
  ratio=$(median ratio msgs); cpu_ratio=$(median ratio cpu)
  echo "action / echo: msgs/s $(cell ratio msgs %.3f range); per core (echo CPU µs ÷ action CPU µs) $(cell ratio cpu %.3f range)."
  echo
  rs=$(median hs-rs256 per_core)
  echo "| target | measured | verdict |"
  echo "|---|---:|---|"
  echo "| ≥ 10,000 RS256 handshakes/s per core | $(cell hs-rs256 per_core %.0f) per core ($(cell hs-rs256 msgs_per_s %.0f) measured) | $(verdict "$rs" 10000) |"
  echo "| action ≥ 85% of echo msgs/s | $(awk -v r="$ratio" 'BEGIN { if (r == "") print "-"; else printf "%.1f%%", 100 * r }') (per core: $(awk -v r="$cpu_ratio" 'BEGIN { if (r == "") print "-"; else printf "%.1f%%", 100 * r }')) | $(verdict "$ratio" 0.85) |"
  footnotes five
  echo
  echo "Details: window s = seconds the figures cover (CPUs near) / seconds elapsed; others' CPU in % of one CPU;"
  echo "TIME_WAIT = sockets in TIME_WAIT on the server's port after the run (resets leave none)."
  echo
  echo "| figure | window s | CPU0↔1 ns | others' CPU % | TIME_WAIT |"
  echo "|---|---:|---:|---:|---:|"
  for f in hs-none hs-open hs-hs256 hs-rs256 msg-echo msg-action; do
    echo "| $f | $(cell "$f" window_s %.1f)/$(cell "$f" elapsed_s %.1f) | $(cell "$f" xcpu_ns %.0f) | $(cell "$f" others_cpu_pct %.1f) | $(cell "$f" time_wait %.0f) |"
  done
  echo
  echo "Logs, keys, tokens and configs: ${OUT#"$ROOT"/}"
} | tee "$OUT/report.md"

exit "$FAILED"
