#!/usr/bin/env bash
# Cross-node delivery latency through Redis, p50/p99, beside one node's: bench/cluster/latency.py.
#   bench/cluster-latency.sh                       defaults: 10 subscribers, 1000 publications at 200/s
#   SUBSCRIBERS=200 COUNT=5000 RATE=2000 bench/cluster-latency.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-deps.sh >/dev/null
[[ -x build/release/capstan ]] || { cmake --preset release >/dev/null && cmake --build --preset release; }
exec /usr/bin/python3 bench/cluster/latency.py
