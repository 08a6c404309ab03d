#!/usr/bin/env bash
# trace_heaptrack.sh BINTREE_MALLOC [DEPTH (16)] [ROUNDS (3)]: heaptrack's
# cost on binary-trees with plain malloc (bintree_malloc.c on glibc), the
# peer of reclaim's tracing: the program alone and under heaptrack (which
# preloads its recorder and interprets the data in a second process, as a
# user runs it), interleaved round by round, the median per way of the
# program's own ns per node. The recorded data goes to a scratch directory.
# Prints: RESULT trace_heaptrack_off|trace_heaptrack heaptrack <ns> ns/node
set -euo pipefail

program=${1:?usage: trace_heaptrack.sh BINTREE_MALLOC [DEPTH] [ROUNDS]}
depth=${2:-16}
rounds=${3:-3}
command -v heaptrack >/dev/null || { echo "bench: heaptrack not found" >&2; exit 1; }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# figure ARGS..: the ns/node the program reports, one repetition of its
# 16-byte nodes only (no padded run)
figure() {
  "$@" "$depth" 1 1 2>/dev/null | awk '$1 == "RESULT" && $2 == "bintree" {print $4; exit}'
}

off=() on=()
for ((r = 0; r < rounds; r++)); do
  off+=("$(figure "$program")")
  on+=("$(figure heaptrack -o "$scratch/run$r" "$program")")
  [[ -n ${off[r]} && -n ${on[r]} ]] || { echo "bench: bintree_malloc gave no figure" >&2; exit 1; }
done
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
echo "# trace_heaptrack: bintree_malloc depth $depth, median of $rounds rounds"
echo "RESULT trace_heaptrack_off heaptrack $(median "${off[@]}") ns/node"
echo "RESULT trace_heaptrack heaptrack $(median "${on[@]}") ns/node"
