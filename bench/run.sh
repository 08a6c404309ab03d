#!/usr/bin/env bash
# run.sh BUILD_DIR: runs every benchmark built in BUILD_DIR/bench and the
# CPython scripts beside this file, then prints one table per workload with
# each implementation's figure, reclaim's ratio to each peer, and PASS/MISS
# against the targets of docs/benchmarks.md.
#
# Each program prints "RESULT <workload> <impl> <value> <unit>" lines; they
# are gathered in BUILD_DIR/bench/results.txt. The malloc programs run three
# times: on glibc, and with libmimalloc.so and libjemalloc.so in LD_PRELOAD.
# A missing peer (library, Boehm program, python3) is skipped and its figures
# show as "-". The exit status is 1 only if a reclaim program failed (a
# crash or a wrong count); a MISS is a finding, not a failure.
#
# Every target that sets reclaim against a peer is judged on paired rounds,
# each running reclaim's program and the peers' back to back (see "paired
# rounds" below): BENCH_ROUNDS of them, 15 by default. The tables show the
# single run's figures.
#
# BENCH_QUICK=1 scales every workload down (a smoke test, not a measurement).
set -uo pipefail

build=${1:?usage: bench/run.sh BUILD_DIR}
bin=$build/bench
here=$(cd "$(dirname "$0")" && pwd)
results=$bin/results.txt
failed=0
: >"$results" || exit 1

# ---- scale ------------------------------------------------------------------
# Empty: each program's defaults (dict_*: a million keys, list_*: ten million
# appends, trace_snapshot: a million traced blocks). Tracing: trace_bintree
# (reclaim) at depth 21, trace_cpython.py (tracemalloc) at 17,
# trace_heaptrack.sh (heaptrack) at 16.
if [[ ${BENCH_QUICK:-0} == 1 ]]; then
  churn_args=(1000000 1); bintree_args=(16 1); py_bintree_args=(14 1)
  gc_args=(1); memory_args=(19); limit=120
  trace_args=(14 1); trace_py_args=(12 1); trace_heaptrack_args=(12 1)
  snapshot_args=(100000 3); dict_args=(100000 1); list_args=(1000000 1)
else
  churn_args=(); bintree_args=(); py_bintree_args=(17 3); gc_args=(); memory_args=()
  limit=600
  trace_args=(21 3); trace_py_args=(17 3); trace_heaptrack_args=(16 3)
  snapshot_args=(); dict_args=(); list_args=()
fi

# ---- finding the peers ------------------------------------------------------
# The path CMake found (peers.env), else the dynamic linker's cache.
find_so() {
  local var=$1 name=$2 path=""
  [[ -f $bin/peers.env ]] && path=$(sed -n "s/^$var=//p" "$bin/peers.env")
  if [[ -z $path || ! -e $path ]]; then
    path=$(ldconfig -p 2>/dev/null | awk -v n="$name" '$1 ~ "^"n"\\.so" {print $NF; exit}')
  fi
  [[ -n $path && -e $path ]] && echo "$path"
}
mimalloc_so=$(find_so MIMALLOC_SO libmimalloc)
jemalloc_so=$(find_so JEMALLOC_SO libjemalloc)
python=$(command -v python3 || true)

# value WORKLOAD IMPL: the figure, empty if none.
value() {
  awk -v w="$1" -v i="$2" '$1 == w && $2 == i {print $3; exit}' "$results"
}

# ratio A B: A/B to two places, empty if either is missing.
ratio() {
  [[ -n $1 && -n $2 ]] && awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b}'
}

# exact_ratio A B: a / b unrounded, for verdicts (0.1012 must not pass
# "<= 0.1" because it prints as 0.10).
exact_ratio() {
  [[ -n $1 && -n $2 ]] && awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.9g", a / b}'
}

# ---- running ------------------------------------------------------------------
# run IMPL PROGRAM ARGS..: runs one program, keeps its RESULT lines for IMPL.
# A line naming another malloc means LD_PRELOAD did not take: it is dropped.
run() {
  local impl=$1 out status
  shift
  echo "bench: running $impl: ${*##*/}" >&2
  out=$(timeout "$limit" "$@")
  status=$?
  while read -r tag workload who value unit; do
    [[ $tag == RESULT ]] || continue
    if [[ $who != "$impl" ]]; then
      echo "bench: expected $impl, the program ran on $who; result dropped" >&2
      continue
    fi
    echo "$workload $who $value $unit" >>"$results"
  done <<<"$out"
  if ((status != 0)); then
    echo "bench: $impl: $* exited with status $status" >&2
    [[ $impl == reclaim ]] && failed=1
  fi
}

# run_malloc PROGRAM ARGS..: on glibc and on each peer found.
run_malloc() {
  run glibc "$@"
  if [[ -n $mimalloc_so ]]; then
    LD_PRELOAD=$mimalloc_so run mimalloc "$@"
  else
    echo "bench: libmimalloc.so not found; skipped" >&2
  fi
  if [[ -n $jemalloc_so ]]; then
    LD_PRELOAD=$jemalloc_so run jemalloc "$@"
  else
    echo "bench: libjemalloc.so not found; skipped" >&2
  fi
}

# run_if IMPL PROGRAM ARGS..: runs it if it was built (or, for a script,
# if python3 exists).
run_if() {
  local impl=$1 program=$2
  if [[ $impl == cpython ]]; then
    [[ -n $python ]] && { run cpython "$python" "${@:2}"; return; }
  elif [[ -x $program ]]; then
    run "$@"
    return
  fi
  echo "bench: $impl: ${program##*/} not available; skipped" >&2
  [[ $impl == reclaim ]] && failed=1
}

load_before=$(cut -d' ' -f1 /proc/loadavg)
export LD_PRELOAD="" PYTHONDONTWRITEBYTECODE=1  # no __pycache__ in the source tree
run_malloc "$bin/churn_malloc" "${churn_args[@]}"
run_if reclaim "$bin/churn_reclaim" "${churn_args[@]}"
run_if reclaim "$bin/churn_reclaim_shared" "${churn_args[@]}"
run_malloc "$bin/bintree_malloc" "${bintree_args[@]}"
run_if boehm "$bin/bintree_boehm" "${bintree_args[@]}"
run_if reclaim "$bin/bintree_reclaim" "${bintree_args[@]}"
run_if cpython "$here/bintree.py" "${py_bintree_args[@]}"
run_if reclaim "$bin/gc_reclaim" "${gc_args[@]}"
run_if boehm "$bin/gc_boehm" "${gc_args[@]}"
run_if cpython "$here/gc_cpython.py" "${gc_args[@]}"
run_malloc "$bin/memory_malloc" "${memory_args[@]}"
run_if boehm "$bin/memory_boehm" "${memory_args[@]}"
run_if reclaim "$bin/memory_reclaim" "${memory_args[@]}"
run_if cpython "$here/memory.py" "${memory_args[@]}"
run_if reclaim "$bin/dict_reclaim" "${dict_args[@]}"
run_if glib "$bin/dict_glib" "${dict_args[@]}"
run_if cpython "$here/dict_cpython.py" "${dict_args[@]}"
run_if reclaim "$bin/list_reclaim" "${list_args[@]}"
run_if cpython "$here/list_cpython.py" "${list_args[@]}"
run_if reclaim "$bin/sizes_reclaim"
run_if cpython "$here/sizes_cpython.py"
run_if reclaim "$bin/trace_snapshot" "${snapshot_args[@]}"
# trace_bintree's modes take some 12 minutes at depth 21 (3 rounds); the
# copy built without frame pointers runs off and the default walk only
limit=1500 run_if reclaim "$bin/trace_bintree" "${trace_args[@]}"
limit=1500 run_if reclaim "$bin/trace_bintree_nofp" "${trace_args[@]}" ow
run_if cpython "$here/trace_cpython.py" "${trace_py_args[@]}"
if command -v heaptrack >/dev/null; then
  run heaptrack "$here/trace_heaptrack.sh" "$bin/bintree_malloc" "${trace_heaptrack_args[@]}"
else
  echo "bench: heaptrack not found; skipped" >&2
fi

# ---- paired rounds ---------------------------------------------------------------
# Each figure above is one program's median, and the programs ran one after
# the other: a ratio of two of them compares moments minutes apart, and on a
# shared host the other tenants' load moves in between (docs/benchmarks.md,
# "Paired rounds"). So every target that sets reclaim against a peer is
# judged on paired rounds: each round runs reclaim's program and each
# peer's once, reclaim first in odd rounds and last in even ones, and takes
# the ratio of reclaim's figure to each peer's. The verdict reads the median
# of the rounds' ratios; the tables still show the single run's figures.
rounds=${BENCH_ROUNDS:-15}
[[ ${BENCH_QUICK:-0} == 1 ]] && rounds=${BENCH_ROUNDS:-3}

# results_of FUNCTION: the RESULT lines the function's program printed.
results_of() {
  "$1" 2>/dev/null | awk '$1 == "RESULT"'
}

# pick LINES WORKLOAD IMPL: IMPL's WORKLOAD figure in LINES, if any.
pick() {
  awk -v w="$2" -v i="$3" '$2 == w && $3 == i {print $4; exit}' <<<"$1"
}

# record_paired WORKLOAD PEER RATIO..: "paired_WORKLOAD PEER <median> ratio
# <lowest> <highest> <rounds>" and "paired_WORKLOAD_rounds PEER <each ratio,
# by commas> ratios" in the results.
record_paired() {
  local workload=$1 peer=$2
  shift 2
  printf '%s\n' "$@" | sort -g | awk -v n="paired_$workload" -v p="$peer" '
    {r[NR] = $1}
    END {
      m = NR % 2 ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2
      printf "%s %s %.9g ratio %.9g %.9g %d\n", n, p, m, r[1], r[NR], NR
    }' >>"$results"
  echo "paired_${workload}_rounds $peer $(printf '%.2f,' "$@" | sed 's/,$//') ratios" >>"$results"
}

# paired PEER.. -- PAIR..: $rounds rounds of the function reclaim_program
# (reclaim's program) and, for each PEER, the function peer_PEER. A PAIR
# is MINE[=THEIRS]: reclaim's MINE figure against each peer's THEIRS (MINE
# if not given); a peer that prints no THEIRS figure is left out of the
# pair.
paired() {
  local peers=() pairs=() round impl pair workload mine theirs r key
  local -A out=() ratios=()
  while [[ $1 != -- ]]; do
    peers+=("$1")
    shift
  done
  shift
  pairs=("$@")
  echo "bench: paired rounds: ${pairs[*]} against ${peers[*]}, $rounds rounds" >&2
  for ((round = 1; round <= rounds; round++)); do
    ((round % 2)) && out[reclaim]=$(results_of reclaim_program)
    for impl in "${peers[@]}"; do
      out[$impl]=$(results_of "peer_$impl")
    done
    ((round % 2)) || out[reclaim]=$(results_of reclaim_program)
    for pair in "${pairs[@]}"; do
      workload=${pair%%=*}
      mine=$(pick "${out[reclaim]}" "$workload" reclaim)
      if [[ -z $mine ]]; then
        echo "bench: paired rounds: reclaim gave no $workload figure" >&2
        failed=1
        return
      fi
      for impl in "${peers[@]}"; do
        theirs=$(pick "${out[$impl]}" "${pair#*=}" "$impl")
        r=$(exact_ratio "$mine" "$theirs")
        [[ -n $r ]] && ratios["$workload $impl"]+="$r "
      done
    done
  done
  for key in "${!ratios[@]}"; do
    # shellcheck disable=SC2086 # the key is "WORKLOAD PEER", the ratios a list
    record_paired $key ${ratios[$key]}
  done
}

# The peers each group can run: those found (as in the single run).
malloc_peers=(glibc)
[[ -n $mimalloc_so ]] && malloc_peers+=(mimalloc)
python_peer=()
[[ -n $python ]] && python_peer=(cpython)
boehm_peer=()
[[ -x $bin/bintree_boehm ]] && boehm_peer=(boehm)

peer_mimalloc() { LD_PRELOAD=$mimalloc_so "${malloc_cmd[@]}"; }
peer_glibc() { "${malloc_cmd[@]}"; }

malloc_cmd=(timeout "$limit" "$bin/churn_malloc" "${churn_args[@]}")
reclaim_program() { timeout "$limit" "$bin/churn_reclaim" "${churn_args[@]}"; }
[[ -n $mimalloc_so ]] && paired mimalloc -- churn
reclaim_program() { timeout "$limit" "$bin/churn_reclaim_shared" "${churn_args[@]}"; }
[[ -n $mimalloc_so ]] && paired mimalloc -- churn_shared=churn

depth=${bintree_args[0]:-20}
malloc_cmd=(timeout "$limit" "$bin/bintree_malloc" "$depth" 1 1)
reclaim_program() { timeout "$limit" "$bin/bintree_reclaim" "$depth" 1 1; }
peer_boehm() { timeout "$limit" "$bin/bintree_boehm" "$depth" 1; }
peer_cpython() { timeout "$limit" "$python" "$here/bintree.py" "${py_bintree_args[0]}" 1; }
paired "${malloc_peers[@]}" "${boehm_peer[@]}" "${python_peer[@]}" -- bintree

reclaim_program() { timeout "$limit" "$bin/gc_reclaim" "${gc_args[@]}"; }
peer_boehm() { timeout "$limit" "$bin/gc_boehm" "${gc_args[@]}"; }
peer_cpython() { timeout "$limit" "$python" "$here/gc_cpython.py" "${gc_args[@]}"; }
gc_peers=("${python_peer[@]}")
[[ -x $bin/gc_boehm ]] && gc_peers+=(boehm)
paired "${gc_peers[@]}" -- gc_pairs gc_rings gc_live

reclaim_program() { timeout "$limit" "$bin/dict_reclaim" "${dict_args[@]}"; }
peer_glib() { timeout "$limit" "$bin/dict_glib" "${dict_args[@]}"; }
peer_cpython() { timeout "$limit" "$python" "$here/dict_cpython.py" "${dict_args[@]}"; }
dict_peers=("${python_peer[@]}")
[[ -x $bin/dict_glib ]] && dict_peers+=(glib)
paired "${dict_peers[@]}" -- dict_int_set dict_int_get dict_str_set dict_str_get

reclaim_program() { timeout "$limit" "$bin/list_reclaim" "${list_args[@]}"; }
peer_cpython() { timeout "$limit" "$python" "$here/list_cpython.py" "${list_args[@]}"; }
[[ -n $python ]] && paired cpython -- list_append

# ---- reporting ------------------------------------------------------------------
# table WORKLOAD TITLE IMPL..: each figure; reclaim's line carries its ratios.
# The peers' figures are those of workload $peer_workload if set: reclaim's
# variant of a workload is set against the peers' figures for it, or
# reclaim's figure against the peers' own variant (bintree_padded).
table() {
  local workload=$1 title=$2 impl v unit ratios from
  shift 2
  unit=$(awk -v w="$workload" '$1 == w {print $4; exit}' "$results")
  printf '\n== %s (%s) ==\n' "$title" "${unit:-no results}"
  for impl in "$@" reclaim; do
    from=$workload
    [[ $impl != reclaim && -n ${peer_workload:-} ]] && from=$peer_workload
    v=$(value "$from" "$impl")
    ratios=""
    if [[ $impl == reclaim ]]; then
      for peer in "$@"; do
        r=$(ratio "$v" "$(value "${peer_workload:-$workload}" "$peer")")
        [[ -n $r ]] && ratios+="  reclaim/$peer = ${r}x"
      done
    fi
    printf '  %-9s %10s%s\n' "$impl" "${v:--}" "$ratios"
  done
}

passes=0 misses=0 unknown=0
# verdict TEXT OK: one target line; OK is 1, 0 or empty (a figure missing).
verdict() {
  local word
  case $2 in
    1) word=PASS; passes=$((passes + 1)) ;;
    0) word=MISS; misses=$((misses + 1)) ;;
    *) word=N/A; unknown=$((unknown + 1)) ;;
  esac
  printf '  target: %-52s %s\n' "$1" "$word"
}

# limit WORKLOAD LIMIT TEXT [DECIMALS]: reclaim's figure <= LIMIT, the figure
# rounded to DECIMALS first if given (a limit stated to that precision).
limit() {
  local v shown
  v=$(value "$1" reclaim)
  shown=$v
  [[ -n $v && -n ${4:-} ]] && shown=$(printf "%.${4}f" "$v")
  verdict "$3 (${v:--})" "$(compare "$shown" "<=" "$2")"
}

# paired_target NAME PEER OP LIMIT TEXT: the median of NAME's paired rounds
# against PEER, OP LIMIT; the rounds' range and each ratio shown.
paired_target() {
  local median lowest highest count each
  read -r _ _ median _ lowest highest count < <(awk -v w="paired_$1" -v i="$2" \
    '$1 == w && $2 == i {print; exit}' "$results")
  each=$(value "paired_$1_rounds" "$2")
  verdict "$5 (median $(ratio "${median:-}" 1 || echo -)x of ${count:-0} paired rounds)" \
    "$(compare "${median:-}" "$3" "$4")"
  [[ -n $each ]] && printf '    rounds, reclaim/%s: %s (%s-%s)\n' "$2" "${each//,/ }" \
    "$(ratio "$lowest" 1)" "$(ratio "$highest" 1)"
}

# compare X OP Y: 1 or 0, nothing if X is empty.
compare() {
  [[ -n $1 ]] && awk -v x="$1" -v op="$2" -v y="$3" \
    'BEGIN {print (op == "<" ? x < y : x <= y) ? 1 : 0}'
}

echo
echo "reclaim benchmarks: $(uname -m), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)" \
  "${BENCH_QUICK:+(QUICK: smoke test only)}"
echo "peers: mimalloc=${mimalloc_so:-missing} jemalloc=${jemalloc_so:-missing}" \
  "boehm=$([[ -x $bin/gc_boehm ]] && echo built || echo missing)" \
  "cpython=$([[ -n $python ]] && "$python" -c 'import platform; print(platform.python_version())' || echo missing)"
echo "load average before the run: $load_before$(awk -v l="$load_before" \
  'BEGIN {if (l > 0.5) print " (other work shares the cores: figures are noisy)"}')"

table churn "churn: per malloc+free pair, 10,000 live blocks of 8..512 B" glibc mimalloc jemalloc
paired_target churn mimalloc "<=" 1 "churn no slower than mimalloc"
peer_workload=churn table churn_shared \
  "churn, reclaim through libreclaim.so (PLT calls, as the peers'), peers as above" \
  glibc mimalloc jemalloc
paired_target churn_shared mimalloc "<=" 1 "churn through libreclaim.so no slower"

table bintree "binary-trees depth ${bintree_args[0]:-20} (CPython ${py_bintree_args[0]}): per node" \
  glibc mimalloc jemalloc boehm cpython
paired_target bintree mimalloc "<=" 1.5 "bintree within 1.5x of mimalloc"
paired_target bintree glibc "<" 1 "bintree faster than glibc"
paired_target bintree boehm "<" 1 "bintree faster than Boehm GC"
paired_target bintree cpython "<" 1 "bintree faster than CPython"
peer_workload=bintree_padded table bintree \
  "binary-trees, the malloc peers' nodes padded to 32 bytes (reclaim's footprint per node): per node" \
  glibc mimalloc jemalloc
peer_workload=bintree table bintree_traverse \
  "binary-trees, reclaim's nodes with their own traverse (not rc_traverse_refs), the peers' 16-byte nodes: per node" \
  glibc mimalloc boehm
peer_workload=bintree table bintree_mutable \
  "binary-trees, reclaim's nodes mutable (tracked for life), the peers' 16-byte nodes: per node" \
  glibc mimalloc boehm

table gc_pairs "full collection of 500,000 garbage pairs: per object" cpython
paired_target gc_pairs cpython "<=" 0.2 "pairs at most 1/5 of CPython"
table gc_rings "full collection of 10,000 garbage rings of 100: per object" cpython
paired_target gc_rings cpython "<=" 0.2 "rings at most 1/5 of CPython"
table gc_live "full collection of 1,000,000 live objects: per object" cpython boehm
paired_target gc_live cpython "<=" 0.2 "live at most 1/5 of CPython"
paired_target gc_live boehm "<=" 1 "live no slower than Boehm's full mark"

table memory_rss "long-lived 4M-node tree: resident bytes per node" glibc mimalloc jemalloc boehm cpython
table memory_anon "long-lived 4M-node tree: anonymous resident bytes per node (heap pages only)" \
  glibc mimalloc jemalloc boehm cpython
limit memory_anon 32 "at most 32 bytes per node, to the one decimal of the issue's figures" 1
table memory_heap "long-lived 4M-node tree: allocator's bytes in use per node" boehm
table header_bytes "header bytes per tracked object" cpython

dict_n=${dict_args[0]:-1000000}
for kind in int str; do
  for op in set get; do
    table dict_${kind}_$op "dict $op, $dict_n $kind keys (GLib: GHashTable): per op" glib cpython
    paired_target dict_${kind}_$op glib "<" 1 "$kind $op faster than GHashTable"
    paired_target dict_${kind}_$op cpython "<=" 0.2 "$kind $op at least 5x faster than CPython"
  done
done
table list_append "list append of ${list_args[0]:-10000000} items: per op" cpython
paired_target list_append cpython "<=" 0.1 "append at least 10x faster than CPython"
for obj in int str10 list_empty dict1000_int dict1000_str; do
  table sizes_$obj "sys.getsizeof: $obj" cpython
  mine=$(value sizes_$obj reclaim) theirs=$(value sizes_$obj cpython)
  verdict "$obj smaller than CPython's (${mine:--} vs ${theirs:--})" \
    "$([[ -n $theirs ]] && compare "$mine" "<" "$theirs")"
done

# tracing's cost: each tracer's figure against the same run untraced
# slowdown IMPL UNTRACED TRACED LABEL: "LABEL 12.34 (1.23x)"
slowdown() {
  local v r
  v=$(value "$3" "$1")
  r=$(ratio "$v" "$(value "$2" "$1")")
  printf '  %s %s%s' "$4" "${v:--}" "${r:+ (${r}x)}"
}
printf '\n== tracing binary-trees: ns per node, and the slowdown against the run untraced ==\n'
printf '  %-9s' reclaim
slowdown reclaim trace_bintree_off trace_bintree_off "off"
slowdown reclaim trace_bintree_off trace_bintree_1 "  1 frame"
slowdown reclaim trace_bintree_off trace_bintree_16 "  16 frames"
slowdown reclaim trace_bintree_off trace_bintree_16fp "  16 frames (fp)"
printf '\n  %-9s' ""
slowdown reclaim trace_bintree_off_nofp trace_bintree_off_nofp "off, built without frame pointers"
slowdown reclaim trace_bintree_off_nofp trace_bintree_16_nofp "  16 frames"
printf '\n  %-9s' cpython
slowdown cpython trace_bintree_off trace_bintree_off "off"
slowdown cpython trace_bintree_off trace_bintree_1 "  1 frame"
slowdown cpython trace_bintree_off trace_bintree_16 "  16 frames"
printf '\n  %-9s' heaptrack
slowdown heaptrack trace_heaptrack_off trace_heaptrack_off "off (malloc)"
slowdown heaptrack trace_heaptrack_off trace_heaptrack "  heaptrack"
printf '\n  depth: reclaim %s, cpython %s, heaptrack %s\n' "${trace_args[0]}" "${trace_py_args[0]}" \
  "${trace_heaptrack_args[0]}"
for run in "1 1.5 1 frame" "16 3 16 frames" "16fp 3 16 frames, frame pointers" \
  "16_nofp 3 16 frames, built without frame pointers"; do
  read -r n max text <<<"$run"
  off=trace_bintree_off
  [[ $n == *_nofp ]] && off=trace_bintree_off_nofp
  traced=$(value trace_bintree_$n reclaim) untraced=$(value $off reclaim)
  r=$(ratio "$traced" "$untraced")
  verdict "tracing at $text at most ${max}x (${r:--}x)" \
    "$(compare "$(exact_ratio "$traced" "$untraced")" "<=" "$max")"
done
table trace_frame_cfi "tracing: each frame beyond the first, by the checked walk (default)"
table trace_frame_lu "tracing: each frame beyond the first, by libunwind"
table trace_frame_fp "tracing: each frame beyond the first, by frame pointers"
table trace_bytes_1 "tracer memory per traced block, 1 frame (4M-object tree)"
limit trace_bytes_1 16 "at most 16 bytes per traced block"
table trace_bytes_16 "tracer memory per traced block, 16 frames (with its tracebacks)"

table snapshot_take "rc_snapshot_take of ${snapshot_args[0]:-1000000} traced blocks"
limit snapshot_take 100 "a snapshot of 1M traced blocks in at most 100 ms"
table snapshot_stats "its first statistics by line (symbolization included)"
table snapshot_file "its dump file per traced block"

echo
echo "targets: $passes PASS, $misses MISS, $unknown N/A; results in $results"
((failed)) && echo "bench: a reclaim benchmark failed or is missing (see above)" >&2
exit "$failed"
