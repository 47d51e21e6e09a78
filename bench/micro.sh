#!/usr/bin/env bash
# Micro-benchmarks (bench/micro, Google Benchmark) in one command: installs libbenchmark-dev
# if missing, builds build/micro (Release: -O3 -DNDEBUG, as the `release` preset), runs every
# benchmark 5 times and prints median and spread; the JSON goes to build/micro/results-<date>.json.
#   bench/micro.sh                                   everything (~2 minutes)
#   bench/micro.sh --benchmark_filter=Utf8           extra arguments go to the benchmark binary
#   CPU= bench/micro.sh                              do not pin (default: taskset -c 0)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! dpkg-query -W -f='${Status}' libbenchmark-dev 2>/dev/null | grep -q "install ok installed"; then
  echo "micro: installing libbenchmark-dev"
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends libbenchmark-dev >/dev/null
fi

cmake -S bench/micro -B build/micro -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/micro

out="build/micro/results-$(date +%Y%m%d-%H%M%S).json"
pin=()
CPU=${CPU-0}
[[ -n $CPU ]] && command -v taskset >/dev/null && pin=(taskset -c "$CPU")
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- src include 2>/dev/null || echo -dirty)"

"${pin[@]}" build/micro/capstan_micro \
  --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
  --benchmark_context=commit="$commit" \
  --benchmark_out="$out" --benchmark_out_format=json "$@"

# The same figures, compact: median CPU time, its coefficient of variation over the 5 runs,
# and the median rates.
python3 - "$out" <<'PY'
import json, sys
runs = json.load(open(sys.argv[1]))["benchmarks"]
agg = {(b["run_name"], b["aggregate_name"]): b for b in runs if b.get("run_type") == "aggregate"}
def rate(v, base):  # base 1024 for bytes, as the benchmark's own output; 1000 for counts
    for i, unit in ((3, "G"), (2, "M"), (1, "k")):
        if v >= base ** i: return f"{v / base ** i:.2f} {unit}{'i' if base == 1024 else ''}"
    return f"{v:.0f}"
print("\n| benchmark | median CPU time | CV | bytes/s | msgs or frames/s |\n|---|---:|---:|---:|---:|")
for name in dict.fromkeys(b["run_name"] for b in runs):
    med, cv = agg[(name, "median")], agg[(name, "cv")]
    t = med["cpu_time"]
    time = f"{t / 1000:.2f} µs" if t >= 1000 else f"{t:.1f} ns"
    label = f" ({med['label']})" if med.get("label") else ""
    bps = rate(med["bytes_per_second"], 1024) + "B" if "bytes_per_second" in med else ""
    items = med.get("items_per_second", med.get("frames/s"))
    ips = rate(items, 1000) if items else ""
    print(f"| {name}{label} | {time} | {100 * cv['cpu_time']:.1f}% | {bps} | {ips} |")
PY
echo "micro: JSON in $out"
