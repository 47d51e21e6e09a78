# Shell helpers shared by bench/run.sh, bench/fanout.sh and bench/auth-bench.sh: building,
# starting and stopping the server under test, waiting for a quiet machine, running the load
# generator, and collecting and summarising its figures. Sourced, not run, from the repository
# root. Expects a `log` function and QUIET_PCT, QUIET_TIMEOUT; the other helpers also use the
# script's BUILD, OUT, LOADGEN, DURATION, WARMUP, REPEAT, SERVERS, FAILED, the associative
# arrays R (figures) and NOTE (why a server was not measured), and set PORT and SERVER_PID (the
# server started last, or empty). start_server and measure_runs call the script's
# server_command and run_loadgen.

# --- Building ---------------------------------------------------------------------------------

# build_bench WHAT CMAKE_BUILD_ARGS...: configures build/bench and builds it; exits on failure.
# Every script uses this configuration, so they share build/bench without reconfiguring.
build_bench() {
  local what=$1
  shift
  log "building $what in build/bench (Release, -O2)"
  if ! { cmake -S bench -B "$BUILD" -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG" &&
         cmake --build "$BUILD" "$@"; } >"$OUT/build.log" 2>&1; then
    log "build failed, see $OUT/build.log"; tail -20 "$OUT/build.log" >&2; exit 1
  fi
}

# build_capstan: builds the missing build/release/capstan; false if that fails.
build_capstan() {
  log "build/release/capstan does not exist: cmake --preset release && cmake --build --preset release"
  { cmake --preset release && cmake --build --preset release; } >"$OUT/capstan-build.log" 2>&1 ||
    { log "capstan build failed, see $OUT/capstan-build.log"; return 1; }
}

# --- Starting and stopping servers ------------------------------------------------------------

# prepare_servers LOW HIGH: before the first server. Servers get ports LOW..HIGH (pick_port) and
# inherit the highest descriptor limit (10k connections need 10k descriptors); whatever ends the
# script stops the server it started.
prepare_servers() {
  PORT_LOW=$1 PORT_HIGH=$2 NEXT_PORT=$1
  ulimit -n "$(ulimit -Hn)"
  SERVER_PID=""
  trap stop_server EXIT
  trap 'exit 130' INT TERM
}

stop_server() {
  [[ -n $SERVER_PID ]] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

listening_pid() { ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2; }

# pick_port: sets PORT to the next port of PORT_LOW..PORT_HIGH, in turn, that nothing listens on.
# A fresh port per start: no wait for the previous socket, no mixing with a stray listener.
pick_port() {
  for _ in $(seq 100); do
    PORT=$NEXT_PORT
    NEXT_PORT=$((NEXT_PORT >= PORT_HIGH ? PORT_LOW : NEXT_PORT + 1))
    [[ -z $(listening_pid "$PORT") ]] && break
  done
}

# launch_server NAME LOG COMMAND...: starts COMMAND pinned to CPU 0, its output to LOG, and sets
# SERVER_PID. Ready = this very PID listens on PORT; bounded: 15 s (node and capstan start in
# <1 s). If the server exits or does not listen by then, says so with the end of LOG and
# returns 1.
launch_server() {
  local name=$1 out=$2
  shift 2
  taskset -c 0 "$@" >"$out" 2>&1 &
  SERVER_PID=$!  # taskset execs the server, so this is the server's own PID
  for _ in $(seq 300); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      log "$name exited during startup:"; tail -5 "$out" >&2
      wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""; return 1
    fi
    [[ $(listening_pid "$PORT") == "$SERVER_PID" ]] && return 0
    sleep 0.05
  done
  log "$name did not listen on 127.0.0.1:$PORT within 15 s (pid $SERVER_PID)"
  tail -5 "$out" >&2
  stop_server; return 1
}

# start_server NAME: starts server NAME on a port of its own, pinned to CPU 0, its output to
# OUT/NAME-PORT.log; sets SERVER_PID and PORT. The script's server_command NAME gives its
# command line for PORT, in the array CMD.
start_server() {
  pick_port
  server_command "$1"
  launch_server "$1" "$OUT/$1-$PORT.log" "${CMD[@]}"
}

# --- Quiet machine ----------------------------------------------------------------------------

# log_load: the CPUs and the load average, before the measurements.
log_load() {
  log "$(nproc) CPUs; load average $(cut -d' ' -f1-3 /proc/loadavg) (anything else running skews the figures)"
}

# CPU used by other processes, in % of one CPU, over one second (nothing of ours runs then).
machine_busy_pct() {
  local a b
  a=$(head -1 /proc/stat); sleep 1; b=$(head -1 /proc/stat)
  awk -v a="$a" -v b="$b" -v hz="$(getconf CLK_TCK)" 'BEGIN { split(a, x); split(b, y)
    busy = (y[2] + y[3] + y[4] + y[7] + y[8]) - (x[2] + x[3] + x[4] + x[7] + x[8])
    printf "%.0f", 100 * busy / hz }'
}

# Waits (bounded by QUIET_TIMEOUT) until other processes leave the CPUs alone: on a shared
# machine a compile job next door moves every figure by tens of percent.
wait_quiet() {
  local busy waited=0
  while busy=$(machine_busy_pct); ((busy > QUIET_PCT)); do
    ((waited == 0)) && log "other processes use ${busy}% of a CPU; waiting up to ${QUIET_TIMEOUT}s for quiet"
    ((waited += 1, waited < QUIET_TIMEOUT)) || { log "warning: still ${busy}% busy, measuring anyway"; return; }
  done
}

# --- Measurements -----------------------------------------------------------------------------

# measured_servers: sets MEASURED to the servers of SERVERS that have no NOTE; logs the others
# as skipped.
measured_servers() {
  local name
  MEASURED=""
  for name in $SERVERS; do
    if [[ -n ${NOTE[$name]:-} ]]; then log "$name: ${NOTE[$name]}, skipped"; else MEASURED+=" $name"; fi
  done
}

# run_loadgen_bounded WHO LOG SLACK ARGS...: one load generator run on CPU 1 against the server
# started last (PORT, SERVER_PID), over DURATION seconds after WARMUP, with ARGS; its output to
# LOG. Bounded by 3 x DURATION + WARMUP + SLACK seconds (with the CPU probe, the window may take
# 3 x DURATION). On failure says so with the end of LOG and returns 1.
run_loadgen_bounded() {
  local who=$1 log=$2 limit
  limit=$(awk -v d="$DURATION" -v w="$WARMUP" -v s="$3" 'BEGIN { print 3 * d + w + s }')
  shift 3
  timeout --kill-after=5 "$limit" taskset -c 1 "$LOADGEN" --port "$PORT" --server-pid "$SERVER_PID" \
    --duration "$DURATION" --warmup "$WARMUP" "$@" >"$log" 2>&1 ||
    { log "$who: loadgen failed:"; grep -v '^RESULT' "$log" | tail -3 >&2; return 1; }
}

# measure_runs RETRY LOG NAME A B: one good run of the script's `run_loadgen NAME A B LOG`; its
# RESULT fields are appended to R["NAME A B key"] (if it fails: R["NAME A B failed"], FAILED=1).
# With RETRY 1 a run is measured again (twice at most) if other processes disturbed it
# (others_cpu_pct > QUIET_PCT) or if it could not collect DURATION seconds with the two CPUs
# near (placement != near, see loadgen/xcpu_probe.hpp); if it stays so, it is kept and marked
# in the table.
measure_runs() {
  local retry=$1 log=$2 attempt
  shift 2
  for attempt in 1 2 3; do
    wait_quiet
    # shellcheck disable=SC2034  # FAILED is the script's exit status
    run_loadgen "$@" "$log" || { R["$1 $2 $3 failed"]=1; FAILED=1; return; }
    grep '^loadgen: warning' "$log" >&2 || true
    ((retry)) || break
    if clean_run "$log"; then break; fi
    retry_note "$1" "$log" "$attempt" $((attempt < 3))
  done
  add_results "$1 $2 $3" "$log"
}

# clean_run LOG: sets OTHERS and PLACEMENT from the run's RESULT; true if other processes used
# at most QUIET_PCT of a CPU and the CPUs were near for the whole window (or not probed).
clean_run() {
  OTHERS=$(grep -o 'others_cpu_pct=[0-9]*' "$1" | cut -d= -f2 || true)
  PLACEMENT=$(grep -o 'placement=[a-z]*' "$1" | cut -d= -f2 || true)
  ((OTHERS <= QUIET_PCT)) && [[ $PLACEMENT == near || $PLACEMENT == unprobed ]]
}

# retry_note WHO LOG ATTEMPT AGAIN: after clean_run said no, says why (and, if AGAIN is 1, that
# the run is measured again) and keeps LOG as LOG-retryATTEMPT.log.
retry_note() {
  log "$1: other processes took ${OTHERS}% of a CPU, CPU placement $PLACEMENT$( (($4)) && echo ", measuring again")"
  cp "$2" "${2%.log}-retry$3.log"
}

# add_results PREFIX LOG: appends every field of LOG's last RESULT line to R["PREFIX key"].
add_results() {
  local kv
  for kv in $(grep '^RESULT ' "$2" | tail -1 | cut -d' ' -f2-); do
    R["$1 ${kv%%=*}"]+="${kv#*=} "
  done
}

# --- Report -----------------------------------------------------------------------------------

# summary median|range VALUES...: the median, or "low–high", of numbers.
summary() {
  local how=$1; shift
  printf '%s\n' "$@" | sort -g | awk -v how="$how" '{ v[NR] = $1 }
    END { if (how == "range") printf "%s–%s", v[1], v[NR];
          else print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

# far "VALUES": true if any run could not be measured with the CPUs near for DURATION.
far() { [[ " $1 " == *" mixed "* || " $1 " == *" far "* ]]; }
# disturbed "VALUES": true if other processes used more than QUIET_PCT in any run.
disturbed() { awk -v q="$QUIET_PCT" '{ for (i = 1; i <= NF; i++) if ($i > q) f = 1 } END { exit !f }' <<<"$1"; }

# figure PREFIX KEY FORMAT [range] [marks]: the median of R["PREFIX KEY"] in FORMAT, "failed"
# if that measurement failed, "-" if there is none. With "marks", † if other processes disturbed
# a run of it and ‡ if the CPUs were not near; with "range" and REPEAT > 1 also the spread, e.g.
# "4.31 (3.74–4.65)".
figure() {
  local v=${R["$1 $2"]:-} out nums
  if [[ -n ${R["$1 failed"]:-} ]]; then echo "failed"; return; fi
  if [[ -z $v ]]; then echo "-"; return; fi
  read -ra nums <<<"$v"
  # shellcheck disable=SC2059  # the format is the caller's
  out=$(printf "$3" "$(summary median "${nums[@]}")")
  if [[ ${5:-} == marks ]]; then
    disturbed "${R["$1 others_cpu_pct"]:-}" && out+=" †"
    far "${R["$1 placement"]:-}" && out+=" ‡"
  fi
  [[ ${4:-} == range && $REPEAT -gt 1 ]] && out+=" ($(summary range "${nums[@]}"))"
  echo "$out"
}

# server_figure SERVER A B KEY FORMAT [range] [marks]: figure of the measurement "SERVER A B",
# or why SERVER was not measured (its NOTE).
server_figure() {
  if [[ -n ${NOTE[$1]:-} ]]; then echo "${NOTE[$1]}"; return; fi
  figure "$1 $2 $3" "$4" "$5" "${6:-}" "${7:-}"
}

# footnotes RETRIES: the notes for the marks † and ‡ that figures in R carry, if any; RETRIES
# is how often a run with the CPUs far was measured again ("two", "five").
footnotes() {
  local key notes=""
  for key in "${!R[@]}"; do
    [[ $key == *" others_cpu_pct" ]] && disturbed "${R[$key]}" &&
      notes+="† other processes used more than ${QUIET_PCT}% of a CPU during that measurement, even after two retries."$'\n'
    [[ $key == *" placement" ]] && far "${R[$key]}" &&
      notes+="‡ measured partly or wholly with CPU 0 and 1 far apart (see README), even after $1 retries."$'\n'
  done
  [[ -z $notes ]] || { echo; sort -u <<<"${notes%$'\n'}"; }
}

# ws_label: the npm ws peer with its version and Node's.
ws_label() {
  echo "ws $(node -p 'require("./bench/node/node_modules/ws/package.json").version' 2>/dev/null) (Node $(node --version 2>/dev/null))"
}
