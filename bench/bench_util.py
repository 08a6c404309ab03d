"""bench_util.py: the Python side of bench_util.h, for the CPython programs.

The clock, the median of repetitions, the resident set size from
/proc/self/statm, numeric arguments, and the line run.sh parses:

    RESULT <workload> <impl> <value> <unit>
"""
import os
import statistics
import sys
import time

IMPL = "cpython"
now_ns = time.perf_counter_ns


def fail(message):
    """A result that cannot be trusted is not reported: exit with status 1."""
    sys.exit(f"bench: {message}")


def median_of(reps, run):
    """The median of reps calls of run(), each returning one figure."""
    return statistics.median(run() for _ in range(reps))


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def anon_bytes():
    """Resident bytes of anonymous memory (RssAnon in /proc/self/status)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    fail("no RssAnon in /proc/self/status")


def arg(index, fallback):
    """sys.argv[index] as a positive int, fallback when absent."""
    if index >= len(sys.argv):
        return fallback
    value = int(sys.argv[index])
    if value <= 0:
        fail(f"argument {index} must be positive, not {value}")
    return value


def result(workload, value, unit, impl=IMPL):
    print(f"RESULT {workload} {impl} {value:.2f} {unit}", flush=True)
