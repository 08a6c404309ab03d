"""list_cpython.py: CPython's list.append of one small int, 10,000,000 times
into a new list, per append (list_reclaim.c's workload). The bound method
is looked up once (append = lst.append), CPython's fastest plain loop.
Usage: python3 list_cpython.py [n (10000000)] [repetitions (5)]
Prints: RESULT list_append cpython <ns> ns/op
"""
import bench_util as bu


def append_all(n):
    lst = []
    append = lst.append
    start = bu.now_ns()
    for _ in range(n):
        append(1)
    elapsed = bu.now_ns() - start
    if len(lst) != n:
        bu.fail(f"cpython: the list holds {len(lst)} items, not {n}")
    return elapsed / n


def main():
    n = bu.arg(1, 10_000_000)
    reps = bu.arg(2, 5)
    bu.result("list_append", bu.median_of(reps, lambda: append_all(n)), "ns/op")


if __name__ == "__main__":
    main()
