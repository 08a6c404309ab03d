"""dict_cpython.py: CPython's dict on the workload of dict_workload.h.

n keys (1,000,000 by default): the ints 0..n-1, or the strings "key0"..;
made before any timing. One repetition times d[k] = k for every key (in
order) into an empty dict, then d[k] for every key (the count of keys that
find themselves is checked), per operation. Plain for loops, as a program
would write them.
Usage: python3 dict_cpython.py [n (1000000)] [repetitions (5)]
Prints: RESULT dict_<int|str>_<set|get> cpython <ns> ns/op
"""
import statistics

import bench_util as bu


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
    for kind, keys in (("int", list(range(n))), ("str", [f"key{i}" for i in range(n)])):
        times = [run(keys) for _ in range(reps)]
        bu.result(f"dict_{kind}_set", statistics.median(t[0] for t in times), "ns/op")
        bu.result(f"dict_{kind}_get", statistics.median(t[1] for t in times), "ns/op")


if __name__ == "__main__":
    main()
