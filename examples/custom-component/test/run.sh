#!/usr/bin/env bash
# Builds examples/custom-component against an installed Capstan four ways (find_package with
# the shared and the static library, pkg-config `capstan` and `capstan-static`) and runs
# test_shout.py against each binary over loopback.
# Usage: examples/custom-component/test/run.sh PREFIX WORKDIR
#   PREFIX   what `cmake --install build/release --prefix PREFIX` wrote
#   WORKDIR  a scratch folder for the builds (made if missing)
set -euo pipefail
[[ $# -eq 2 ]] || { echo "usage: $0 PREFIX WORKDIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
prefix=$(cd "$1" && pwd)
mkdir -p "$2"
work=$(cd "$2" && pwd)
libdir=$(dirname "$(find "$prefix" -name capstan.pc -path '*/pkgconfig/*' | head -n1)")/..
libdir=$(cd "$libdir" && pwd)

status=0
check() {  # check NAME BINARY shared|static
  local name=$1 bin=$2 kind=$3
  echo "--- custom-component: $name"
  # Which libcapstan the binary runs with: the shared build must load libcapstan.so, the
  # static one must not need it. (ldd's output is read whole: grep -q stopping early would
  # fail the pipe under pipefail.)
  local libs
  libs=$(LD_LIBRARY_PATH=$libdir ldd "$bin")
  if [[ $kind == shared && $libs != *libcapstan.so* ]]; then
    echo "FAILED: $name does not load libcapstan.so"; status=1; return
  fi
  if [[ $kind == static && $libs == *libcapstan* ]]; then
    echo "FAILED: $name loads a shared libcapstan"; status=1; return
  fi
  # Not through LD_LIBRARY_PATH for the find_package builds: CMake gives them a run path.
  local env=(SHOUT_BIN="$bin")
  [[ $name == pkg-config* ]] && env+=(LD_LIBRARY_PATH="$libdir")
  env "${env[@]}" /usr/bin/python3 -m pytest "$here/test_shout.py" -q -p no:cacheprovider || status=1
}

for kind in shared static; do
  flag=OFF
  [[ $kind == static ]] && flag=ON
  # No pkg-config file may be needed, libpq's included: pkg-config sees none at all here.
  PKG_CONFIG_LIBDIR=/nonexistent PKG_CONFIG_PATH='' \
    cmake -S "$src" -B "$work/cmake-$kind" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" -DSHOUT_STATIC=$flag >/dev/null
  cmake --build "$work/cmake-$kind" >/dev/null
  check "find_package ($kind)" "$work/cmake-$kind/shout-server" $kind
done

for module in capstan capstan-static; do
  kind=shared
  [[ $module == capstan-static ]] && kind=static
  mkdir -p "$work/pc-$kind"
  # shellcheck disable=SC2046  # pkg-config's output is meant to be split
  g++ -O2 -o "$work/pc-$kind/shout-server" "$src"/main.cpp "$src"/shout.cpp "$src"/shout_type.cpp \
    $(PKG_CONFIG_LIBDIR="$libdir/pkgconfig" PKG_CONFIG_PATH='' pkg-config --cflags --libs "$module")  # capstan's .pc alone
  check "pkg-config $module" "$work/pc-$kind/shout-server" $kind
done
exit $status
