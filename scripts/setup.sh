#!/usr/bin/env bash
# setup.sh [test|bench|all]: installs, with apt-get, the Debian packages that
# reclaim's build, tests and benchmarks need and that the machine lacks.
# Safe to run again: installed packages are left alone. Called by the
# Makefile's test, demo and bench targets, so a fresh Debian 12 machine needs
# nothing but `make test` or `make demo`.
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config libunwind-dev libdw-dev)
test_pkgs=(valgrind clang clang-format libclang-rt-14-dev python3)
bench_pkgs=(libmimalloc-dev libjemalloc-dev libgc-dev libglib2.0-dev python3 heaptrack hyperfine)

want=("${build_pkgs[@]}")
case "${1:-test}" in
  build) ;;
  test) want+=("${test_pkgs[@]}") ;;
  bench) want+=("${bench_pkgs[@]}") ;;
  all) want+=("${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
  *) echo "usage: $0 [build|test|bench|all]" >&2; exit 2 ;;
esac

missing=()
for pkg in "${want[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
