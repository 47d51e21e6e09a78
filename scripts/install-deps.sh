#!/usr/bin/env bash
# Installs what building, testing and benchmarking Capstan needs on Debian 12.
# Idempotent: packages already present are skipped, so a second run costs one dpkg query.
#   scripts/install-deps.sh            build + test dependencies
#   scripts/install-deps.sh --bench    also the peers the benchmark compares against
#   scripts/install-deps.sh --build    only what building the capstan program needs (the
#                                      Dockerfile's build stage; the demo's setup.py included)
#   scripts/install-deps.sh --runtime  only what running it needs (the Dockerfile's runtime
#                                      stage): the shared libraries `capstan` links
set -euo pipefail
cd "$(dirname "$0")/.."

build_packages=(
  cmake ninja-build g++ pkg-config
  libssl-dev zlib1g-dev libtomlplusplus-dev libcli11-dev libsimdjson-dev
  libsqlite3-dev libpq-dev libhiredis-dev libcurl4-openssl-dev python3
)
# tests/deploy/test_container_files.py checks this list against `ldd capstan`.
runtime_packages=(
  libstdc++6 libssl3 zlib1g libtomlplusplus3 libsimdjson14 libsqlite3-0 libpq5 libhiredis0.14 libcurl4
  ca-certificates
)
case "${1:-}" in
  --build) packages=("${build_packages[@]}") ;;
  --runtime) packages=("${runtime_packages[@]}") ;;
  *)
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
if [[ "${1:-}" == "--bench" ]]; then
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

if [[ "${1:-}" == "--bench" && ! -d bench/node/node_modules/ws ]]; then
  (cd bench/node && npm ci --silent --no-audit --no-fund)
fi
echo "install-deps: ok"
