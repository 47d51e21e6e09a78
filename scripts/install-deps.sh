#!/usr/bin/env bash
# Installs what building, testing and benchmarking Capstan needs on Debian 12.
# Idempotent: packages already present are skipped, so a second run costs one dpkg query.
#   scripts/install-deps.sh            build + test dependencies (what scripts/test.sh needs)
#   scripts/install-deps.sh --demo     only what building and running the program and the demo
#                                      need (scripts/run.sh): no test tools, browser or databases
#   scripts/install-deps.sh --build    the same list, for the Dockerfile's build stage
#   scripts/install-deps.sh --runtime  only what running it needs (the Dockerfile's runtime
#                                      stage): the shared libraries `capstan` links
#   scripts/install-deps.sh --bench    also the peers the benchmark compares against
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-}
case $mode in
  "" | --demo | --build | --runtime | --bench) ;;
  *) echo "usage: $0 [--demo|--build|--runtime|--bench]" >&2; exit 2 ;;
esac

# Building libcapstan and the capstan program (the libraries CMakeLists.txt finds), and
# python3 for the demo's database setup (examples/notify/setup.py, standard library only).
build_packages=(
  cmake ninja-build g++ pkg-config
  libssl-dev zlib1g-dev libtomlplusplus-dev libcli11-dev libsimdjson-dev
  libsqlite3-dev libpq-dev libhiredis-dev libcurl4-openssl-dev
  python3
)
# tests/deploy/test_container_files.py checks this list against `ldd capstan`.
runtime_packages=(
  libstdc++6 libssl3 zlib1g libtomlplusplus3 libsimdjson14 libsqlite3-0 libpq5 libhiredis0.14 libcurl4
  ca-certificates
)
case $mode in
  --demo | --build) packages=("${build_packages[@]}") ;;
  --runtime) packages=("${runtime_packages[@]}") ;;
  *)
    # The test suites: sanitizers and fuzzers (clang), unit tests, the Python, browser, PHP and
    # Node clients, and the servers they run against.
    packages=(
      "${build_packages[@]}" clang libclang-rt-14-dev
      libgtest-dev libgmock-dev
      python3-websockets python3-pytest python3-jwt python3-cryptography python3-yaml
      openssl postgresql chromium nodejs
      php-cli php-symfony-mercure php-symfony-http-client redis-server
      php-curl php-sqlite3 phpunit
      nginx libnginx-mod-stream   # tests/integration/test_deploy_nginx.py: a real nginx in front
    )
    # Debian's nodejs needs its npm package; a NodeSource nodejs bundles npm and conflicts with it.
    command -v npm >/dev/null 2>&1 || packages+=(npm)
    ;;
esac
if [[ $mode == --bench ]]; then
  packages+=(libboost1.81-dev libbenchmark-dev)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ $mode == --bench && ! -d bench/node/node_modules/ws ]]; then
  (cd bench/node && npm ci --silent --no-audit --no-fund)
fi
echo "install-deps: ok"
