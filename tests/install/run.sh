#!/usr/bin/env bash
# run.sh BUILD_DIR [CMAKE] [CC]: the install test. Installs the reclaim
# build in BUILD_DIR into a scratch prefix (BUILD_DIR/install-test/prefix),
# then builds and runs main.c against the installed tree only:
#   1. as a CMake project: find_package(reclaim) with CMAKE_PREFIX_PATH,
#      linked to reclaim::reclaim and to reclaim::reclaim_static;
#   2. with one compiler line: cc main.c $(pkg-config --cflags --libs reclaim),
#      PKG_CONFIG_PATH at the prefix, LD_LIBRARY_PATH at its libdir.
# ctest runs it in the Release tree (test "install_consumer"). Needs cmake,
# a C compiler and pkg-config (scripts/setup.sh installs them on Debian 12).
set -euo pipefail

if [[ $# -lt 1 ]]; then
  echo "usage: $0 BUILD_DIR [CMAKE] [CC]" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
cmake=${2:-cmake}
cc=${3:-cc}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$build/install-test
prefix=$work/prefix

fail() {
  echo "install test: $*" >&2
  exit 1
}
command -v pkg-config >/dev/null || fail "pkg-config not found (scripts/setup.sh build installs it)"

rm -rf "$work"
mkdir -p "$work"
echo "== cmake --install $build --prefix $prefix"
"$cmake" --install "$build" --prefix "$prefix" >"$work/install.log" ||
  { cat "$work/install.log"; fail "cmake --install failed"; }
[[ -f $prefix/include/reclaim.h ]] || fail "no include/reclaim.h in $prefix"

echo "== CMake consumer: find_package(reclaim)"
# nothing but the prefix may supply the package: no package registries
"$cmake" -S "$here" -B "$work/cmake" -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER="$cc" \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
  -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF >"$work/configure.log" 2>&1 ||
  { cat "$work/configure.log"; fail "configuring the consumer failed"; }
grep -q "from $prefix/" "$work/configure.log" ||
  { cat "$work/configure.log"; fail "find_package(reclaim) did not use $prefix"; }
"$cmake" --build "$work/cmake" >"$work/build.log" 2>&1 ||
  { cat "$work/build.log"; fail "building the consumer failed"; }
"$work/cmake/consumer" || fail "consumer (shared) failed"
"$work/cmake/consumer_static" || fail "consumer_static failed"
if command -v ldd >/dev/null; then
  # ldd's output is taken whole first: piped into grep -q, which stops at
  # the first match, ldd could die of SIGPIPE and pipefail fail the test
  linked=$(ldd "$work/cmake/consumer")
  grep -q "$prefix/.*libreclaim.so" <<<"$linked" ||
    { echo "$linked"; fail "consumer is not linked to $prefix's libreclaim.so"; }
fi

echo "== pkg-config consumer"
pc=$(find "$prefix" -name reclaim.pc -print -quit)
[[ -n $pc ]] || fail "no reclaim.pc installed under $prefix"
PKG_CONFIG_PATH=$(dirname "$pc")
export PKG_CONFIG_PATH
includedir=$(pkg-config --variable=includedir reclaim)
libdir=$(pkg-config --variable=libdir reclaim)
# the paths must lead into the prefix the tree was installed to
[[ -f $includedir/reclaim.h && $(realpath "$includedir") == "$prefix"/* ]] ||
  fail "reclaim.pc gives includedir=$includedir, not $prefix/include (the installed .pc must follow the install prefix)"
[[ $(realpath "$libdir") == "$prefix"/* ]] || fail "reclaim.pc gives libdir=$libdir, outside $prefix"
flags=$(pkg-config --cflags --libs reclaim)
echo "$cc main.c $flags"
# shellcheck disable=SC2086 # the flags are words
"$cc" -Wall -Wextra -Werror "$here/main.c" $flags -o "$work/consumer_pc"
LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$work/consumer_pc" ||
  fail "the pkg-config consumer failed"
echo "install test: ok"
