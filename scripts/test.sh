#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test suite: unit tests and the
# integration, conformance (Autobahn case groups) and abuse suites against the release build
# and again under ASan+UBSan, the conformance, abuse and component tests over TLS (release
# only), the headless-Chromium test of the demo, the PHP client
# library's PHPUnit tests, the fuzzers for a
# bounded time, and examples built against the installed package (shared and static, CMake
# and pkg-config), one of them run and tested. A throwaway
# PostgreSQL server (scripts/postgres.sh) serves the PostgreSQL tests and is stopped at exit.
# Usage: scripts/test.sh        (FUZZ_SECONDS=20 by default per target)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
FUZZ_SECONDS=${FUZZ_SECONDS:-20}

step() { printf '\n=== %s\n' "$*"; }

step "dependencies"
scripts/install-deps.sh

step "PostgreSQL for the tests"
pgdir=$(mktemp -d -u /tmp/capstan-pg.XXXXXX)
prefix=$(mktemp -d)
cleanup() { scripts/postgres.sh stop "$pgdir" >/dev/null 2>&1 || true; rm -rf "$prefix"; }
trap cleanup EXIT
CAPSTAN_TEST_POSTGRES=$(scripts/postgres.sh start "$pgdir")
export CAPSTAN_TEST_POSTGRES
echo "postgres: $CAPSTAN_TEST_POSTGRES"

status=0
run() {  # run a suite, remember a failure, go on with the next suite
  if ! "$@"; then status=1; echo "FAILED: $*"; fi
}

for preset in release asan; do
  step "build ($preset)"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset"
  step "unit tests ($preset)"
  run ctest --preset "$preset" -j2
  step "integration, conformance and abuse tests ($preset)"
  run env CAPSTAN_BIN="$root/build/$preset/capstan" /usr/bin/python3 -m pytest \
    tests/integration tests/conformance tests/abuse -q -p no:cacheprovider
  if [[ $preset == release ]]; then
    # The same clients over wss:// / https:// (tests/integration/tlsenv.py): every component,
    # the conformance cases and the abuse suite; release only, to keep CI time.
    step "conformance, abuse and component tests over TLS (release)"
    run env CAPSTAN_TEST_TLS=1 CAPSTAN_BIN="$root/build/release/capstan" /usr/bin/python3 -m pytest \
      tests/conformance tests/abuse \
      tests/integration/test_{echo,notify,pubsub,event_proxy,action_proxy,connect_proxy,publish_api,mercure}.py \
      tests/integration/test_{compression,backpressure,http,protocol_violations,timeouts,limits,tls}.py \
      -q -p no:cacheprovider
  fi
done

step "deployment files: Dockerfile build steps in a copy, compose, systemd unit (once, release)"
run env CAPSTAN_BIN="$root/build/release/capstan" /usr/bin/python3 -m pytest tests/deploy -q -p no:cacheprovider

step "browser test (headless Chromium, playwright-core)"
run env CAPSTAN_BIN="$root/build/release/capstan" tests/browser/run.sh

step "PHP client library (phpunit)"
run clients/php/run-tests.sh

step "metrics checker self-test (prom-client, parse-prometheus-text-format)"
run tests/metrics/run.sh --self-test

step "fuzzers (${FUZZ_SECONDS}s each, ASan+UBSan)"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz
run tests/fuzz/run.sh "$FUZZ_SECONDS" build/fuzz

step "install + find_package(capstan) + pkg-config, shared and static"
cmake --install build/release --prefix "$prefix" >/dev/null
run cmake -S examples/chat -B "$prefix/example-build" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
run cmake --build "$prefix/example-build"
# As the README says: the shared library with the plain flags, the static one with capstan-static.
for module in capstan capstan-static; do
  run bash -c "g++ -o '$prefix/chat-$module' examples/chat/chat.cpp \$(PKG_CONFIG_PATH='$prefix/lib/pkgconfig' pkg-config --cflags --libs $module)"
done
# A component type of a program's own, built against the install four ways and run over ws://.
run examples/custom-component/test/run.sh "$prefix" "$prefix/custom-component"

if [[ $status -eq 0 ]]; then echo "ALL SUITES PASSED"; else echo "SOME SUITES FAILED"; fi
exit $status
