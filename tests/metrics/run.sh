#!/usr/bin/env bash
# Checks a GET /metrics body with Prometheus text parsers nobody here wrote (check.mjs says
# which and how). Installs the pinned npm packages on first run.
# Usage: tests/metrics/run.sh URL|-|--self-test [--json-out FILE] [--expect-capstan]
# The last line printed is `metrics: N passed, M failed`; the exit status is non-zero on failures.
set -euo pipefail
cd "$(dirname "$0")"
if [[ ! -d node_modules/prom-client || ! -d node_modules/parse-prometheus-text-format ]]; then
  npm ci --silent --no-audit --no-fund >&2
fi
exec node check.mjs "$@"
