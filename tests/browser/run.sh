#!/usr/bin/env bash
# Runs the headless-browser test of the demo page (examples/notify) with Chromium through
# playwright-core. Installs the pinned npm packages on first run. CAPSTAN_BIN picks the
# binary (default build/release/capstan); the exit status is the test's.
set -euo pipefail
cd "$(dirname "$0")"
[[ -d node_modules/playwright-core ]] || npm ci --silent --no-audit --no-fund
exec node notify_demo.test.mjs "$@"
