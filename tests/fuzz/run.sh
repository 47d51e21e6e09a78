#!/usr/bin/env bash
# Runs every fuzz target for a bounded time on a copy of its seed corpus.
#
# Usage: tests/fuzz/run.sh [SECONDS] [BUILD_DIR]
#   SECONDS    per target, default 20
#   BUILD_DIR  where the fuzz_* binaries are (a CAPSTAN_FUZZ=ON build), default build/fuzz
#
# The committed corpora (tests/fuzz/corpus/<target>/) are never written to: each run works on
# a copy in a temporary folder, where crash artifacts go too. That folder is removed when all
# targets pass and kept (its path printed) when one fails. Exits non-zero if any target crashed,
# leaked, hung or is missing.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
seconds=${1:-20}
build_dir=${2:-build/fuzz}
# A relative BUILD_DIR is taken from the current folder, else from the repository.
if [[ ! -d $build_dir && $build_dir != /* ]]; then build_dir="$root/$build_dir"; fi
targets=(fuzz_frame_decoder fuzz_http_parser fuzz_config fuzz_utf8 fuzz_deflate fuzz_timestamp fuzz_jwt fuzz_action_json fuzz_cluster_message fuzz_pubsub_bus fuzz_connect_answer fuzz_proxy_header)

if ! [[ $seconds =~ ^[0-9]+$ ]] || ((seconds < 1)); then
  echo "usage: $0 [SECONDS] [BUILD_DIR]" >&2
  exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/capstan-fuzz.XXXXXX")
failed=()
for target in "${targets[@]}"; do
  bin="$build_dir/$target"
  if [[ ! -x $bin ]]; then
    echo "$target: MISSING ($bin not built; configure with -DCAPSTAN_FUZZ=ON)"
    failed+=("$target")
    continue
  fi
  mkdir -p "$work/$target/corpus" "$work/$target/artifacts"
  cp -R "$here/corpus/$target/." "$work/$target/corpus/"
  log="$work/$target/log.txt"
  # -timeout: an input taking over 10 s counts as a hang; ASan leak checks stay on.
  "$bin" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$work/$target/artifacts/" "$work/$target/corpus" >"$log" 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  if [[ $rc -eq 0 ]]; then
    echo "$target: ok (${runs:-?} runs in ${seconds}s)"
  else
    echo "$target: FAILED (exit $rc) — log: $log"
    ls "$work/$target/artifacts" | sed "s|^|  artifact: $work/$target/artifacts/|"
    grep -m 5 -E "ERROR|invariant|SUMMARY" "$log" | sed 's/^/  /'
    failed+=("$target")
  fi
done

if ((${#failed[@]})); then
  echo "fuzzing FAILED: ${failed[*]} (work folder kept: $work)"
  exit 1
fi
rm -rf "$work"
echo "fuzzing passed: ${#targets[@]} targets, ${seconds}s each"
