"""gc_cpython.py: CPython's gc.collect() time per object on the shapes of
gc_shapes.h: 500,000 garbage pairs, 10,000 garbage rings of 100, and
1,000,000 live objects in one chain held by the program.

An object is an instance of a class with __slots__ = ('ref',): one tracked
object per node and no __dict__ (a plain class would add a dict object per
node). gc.freeze() first moves the interpreter's own objects out of the
collector's sight, and gc.disable() keeps automatic collections from running
while a heap is built; only gc.collect() is timed, and it must return the
garbage count (1,000,000, 1,000,000, 0) or the program fails.
Usage: python3 gc_cpython.py [repetitions (5)]; BENCH_GC_CPU=1 times CPU
time, as gc_shapes.h says
Prints: RESULT <gc_pairs|gc_rings|gc_live> cpython <ns> ns/object
"""
import gc
import os
import time

import bench_util as bu

# wall time, or with BENCH_GC_CPU set the process's CPU time (gc_shapes.h)
CLOCK = time.process_time_ns if os.environ.get("BENCH_GC_CPU") else bu.now_ns

# name, groups, group size, closed: as gc_shapes.h
SHAPES = [
    ("gc_pairs", 500_000, 2, True),
    ("gc_rings", 10_000, 100, True),
    ("gc_live", 1, 1_000_000, False),
]


class Link:
    __slots__ = ("ref",)


def make_chain(count, closed):
    """count links each holding the next; closed: the last holds the first
    and the chain is garbage (None is returned), open: the head is returned."""
    head = tail = Link()
    for _ in range(count - 1):
        tail.ref = Link()
        tail = tail.ref
    if not closed:
        return head
    tail.ref = head
    return None


def collect_once(shape):
    name, groups, size, closed = shape
    heads = [make_chain(size, closed) for _ in range(groups)]
    start = CLOCK()
    found = gc.collect()
    elapsed = CLOCK() - start
    expected = groups * size if closed else 0
    if found != expected:
        bu.fail(f"cpython {name}: gc.collect() found {found}, not {expected}")
    del heads
    return elapsed / (groups * size)


def main():
    reps = bu.arg(1, 5)
    gc.collect()
    gc.freeze()
    gc.disable()
    for shape in SHAPES:
        bu.result(shape[0], bu.median_of(reps, lambda: collect_once(shape)), "ns/object")


if __name__ == "__main__":
    main()
