"""dict_cpython.py: CPython's dict on the workload of dict_workload.h.

n keys (1,000,000 by default): the ints 0..n-1, or the strings "key0"..;
made before any timing. One repetition times d[k] = k for every key (in
order) into an empty dict, then d[k] for every key (the count of keys that
find themselves is checked), per operation. Plain for loops, as a program
would write them. With "shuffled" as a third argument the keys are visited
in the fixed random order of dict_workload.h's dict_order (the loops run
over the keys listed in that order), and the workloads are named
dict_<kind>_<op>_shuffled.
Usage: python3 dict_cpython.py [n (1000000)] [repetitions (5)] [shuffled]
Prints: RESULT dict_<int|str>_<set|get>[_shuffled] cpython <ns> ns/op
"""
import statistics
import sys

import bench_util as bu

MASK64 = (1 << 64) - 1


def order(n):
    """dict_workload.h's dict_order: Fisher-Yates over xorshift64, seed 42."""
    perm = list(range(n))
    x = 42
    for i in range(n - 1, 0, -1):
        x ^= (x << 13) & MASK64
        x ^= x >> 7
        x ^= (x << 17) & MASK64
        j = x % (i + 1)
        perm[i], perm[j] = perm[j], perm[i]
    return perm


def run(keys):
    d = {}
    start = bu.now_ns()
    for k in keys:
        d[k] = k
    mid = bu.now_ns()
    found = 0
    for k in keys:
        if d[k] is k:
            found += 1
    end = bu.now_ns()
    if found != len(keys):
        bu.fail(f"cpython: {found} of {len(keys)} keys found")
    n = len(keys)
    return (mid - start) / n, (end - mid) / n


def main():
    n = bu.arg(1, 1_000_000)
    reps = bu.arg(2, 5)
    shuffled = len(sys.argv) > 3
    if shuffled and sys.argv[3] != "shuffled":
        bu.fail(f"argument 3 must be 'shuffled', not '{sys.argv[3]}'")
    visit = order(n) if shuffled else None
    suffix = "_shuffled" if shuffled else ""
    for kind, keys in (("int", list(range(n))), ("str", [f"key{i}" for i in range(n)])):
        if visit:
            keys = [keys[k] for k in visit]
        times = [run(keys) for _ in range(reps)]
        bu.result(f"dict_{kind}_set{suffix}", statistics.median(t[0] for t in times), "ns/op")
        bu.result(f"dict_{kind}_get{suffix}", statistics.median(t[1] for t in times), "ns/op")


if __name__ == "__main__":
    main()
