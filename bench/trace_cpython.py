"""trace_cpython.py: CPython's own cost of tracemalloc on binary-trees.

Runs bintree.py (the algorithm of tree.h on tuples) as a child process three
ways: plainly, under -X tracemalloc=1 and under -X tracemalloc=16 (tracing
from start-up, as PYTHONTRACEMALLOC does), the ways interleaved round by
round so that a change of machine load touches them alike; the median of the
rounds per way. run.sh prints the ratios beside reclaim's (trace_bintree.c).
Usage: python3 trace_cpython.py [max depth (17)] [rounds (3)]
Prints: RESULT trace_bintree_off|_1|_16 cpython <ns> ns/node
"""
import os
import statistics
import subprocess
import sys

import bench_util as bu

HERE = os.path.dirname(os.path.abspath(__file__))
WAYS = (("trace_bintree_off", []), ("trace_bintree_1", ["-X", "tracemalloc=1"]),
        ("trace_bintree_16", ["-X", "tracemalloc=16"]))


def once(flags, depth):
    """ns per node of one bintree.py run with the interpreter flags."""
    out = subprocess.run([sys.executable, *flags, os.path.join(HERE, "bintree.py"),
                          str(depth), "1"], check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        fields = line.split()
        if fields[:3] == ["RESULT", "bintree", "cpython"]:
            return float(fields[3])
    bu.fail(f"bintree.py {' '.join(flags)} printed no result")


def main():
    depth = bu.arg(1, 17)
    rounds = bu.arg(2, 3)
    print(f"# trace_cpython: bintree.py depth {depth}, median of {rounds} rounds")
    figures = {name: [] for name, _ in WAYS}
    for _ in range(rounds):
        for name, flags in WAYS:
            figures[name].append(once(flags, depth))
    for name, _ in WAYS:
        bu.result(name, statistics.median(figures[name]), "ns/node")


if __name__ == "__main__":
    main()
