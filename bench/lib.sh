# Shell helpers shared by bench/run.sh and bench/auth-bench.sh: stopping the server under test,
# waiting for a quiet machine, and summarising repeated figures. Sourced, not run. Expects
# SERVER_PID (the server started last, or empty), QUIET_PCT, QUIET_TIMEOUT and a `log` function.

stop_server() {
  [[ -n $SERVER_PID ]] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

listening_pid() { ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2; }

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
