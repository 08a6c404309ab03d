/* dict_workload.h: what the dict benchmarks share (dict_reclaim.c,
 * dict_glib.c; dict_cpython.py follows it).
 *
 * n keys (1,000,000 by default) of one kind: the ints 0..n-1, or the
 * strings "key0".."key<n-1>", made before any timing. One repetition makes
 * an empty table, times n insertions (key -> key, in key order), then n
 * lookups of the same key objects (each must find its own key: the count
 * is checked, or the program fails), then frees the table untimed. The
 * figures are the medians of the repetitions, in ns per operation:
 *
 *     RESULT dict_int_set <impl> <ns> ns/op    RESULT dict_int_get ...
 *     RESULT dict_str_set <impl> <ns> ns/op    RESULT dict_str_get ...
 *
 * With "shuffled" as a third argument, both loops visit the keys in one
 * fixed random order instead (dict_order), and the workloads are named
 * dict_<kind>_<op>_shuffled: a check that no figure owes much to the
 * locality consecutive keys give a hash that keeps their order (GLib's
 * string hash does; SipHash, reclaim's and CPython's, does not). run.sh
 * runs key order only.
 *
 * Usage: dict_<impl> [n (1000000)] [repetitions (5)] [shuffled]
 */
#ifndef DICT_WORKLOAD_H
#define DICT_WORKLOAD_H

#include "bench_util.h"

#include <stdbool.h>

#define DICT_N    1000000
#define DICT_REPS 5

enum { DICT_INT, DICT_STR };

static const char *const dict_workload_names[2][2] = {
    {"dict_int_set", "dict_int_get"},
    {"dict_str_set", "dict_str_get"},
};

/* The order the keys are visited in: NULL for key order, or, with
 * "shuffled" as argument 3, a permutation of 0..n-1 (Fisher-Yates over
 * xorshift64 from the seed 42, high to low; dict_cpython.py makes the same
 * one). */
static inline long *dict_order(int argc, char **argv, long n)
{
    if (argc <= 3)
        return NULL;
    if (strcmp(argv[3], "shuffled") != 0)
        bench_fail("argument 3 must be 'shuffled', not '%s'", argv[3]);
    long *order = malloc((size_t)n * sizeof *order);
    if (!order)
        bench_fail("out of memory");
    uint64_t x = 42;
    for (long i = 0; i < n; i++)
        order[i] = i;
    for (long i = n - 1; i > 0; i--) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        long j = (long)(x % (uint64_t)(i + 1)), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    return order;
}

/* The key visited i-th. */
static inline long dict_visit(const long *order, long i) { return order ? order[i] : i; }

/* The text of string key i. */
static inline void dict_key_text(char *buf, size_t size, long i)
{
    snprintf(buf, size, "key%ld", i);
}

/* Times of one repetition, per operation. */
typedef struct dict_times {
    double set_ns, get_ns;
} dict_times;

/* Runs reps repetitions of run(kind, n, ctx) and prints the medians
 * (workloads named for a shuffled order if `shuffled`). */
static inline void dict_report(const char *impl, int kind, int reps, long n, bool shuffled,
                               dict_times (*run)(int kind, long n, void *ctx), void *ctx)
{
    double set[BENCH_MAX_REPS], get[BENCH_MAX_REPS];
    if (reps < 1 || reps > BENCH_MAX_REPS)
        bench_fail("repetitions must be 1..%d, not %d", BENCH_MAX_REPS, reps);
    for (int r = 0; r < reps; r++) {
        dict_times t = run(kind, n, ctx);
        set[r] = t.set_ns;
        get[r] = t.get_ns;
    }
    for (int op = 0; op < 2; op++) {
        char name[64];
        snprintf(name, sizeof name, "%s%s", dict_workload_names[kind][op],
                 shuffled ? "_shuffled" : "");
        bench_result(name, impl, bench_median(op ? get : set, reps), "ns/op");
    }
}

#endif
