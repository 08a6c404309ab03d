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
 * Usage: dict_<impl> [n (1000000)] [repetitions (5)]
 */
#ifndef DICT_WORKLOAD_H
#define DICT_WORKLOAD_H

#include "bench_util.h"

#define DICT_N    1000000
#define DICT_REPS 5

enum { DICT_INT, DICT_STR };

static const char *const dict_workload_names[2][2] = {
    {"dict_int_set", "dict_int_get"},
    {"dict_str_set", "dict_str_get"},
};

/* The text of string key i. */
static inline void dict_key_text(char *buf, size_t size, long i)
{
    snprintf(buf, size, "key%ld", i);
}

/* Times of one repetition, per operation. */
typedef struct dict_times {
    double set_ns, get_ns;
} dict_times;

/* Runs reps repetitions of run(kind, n, ctx) and prints the medians. */
static inline void dict_report(const char *impl, int kind, int reps, long n,
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
    bench_result(dict_workload_names[kind][0], impl, bench_median(set, reps), "ns/op");
    bench_result(dict_workload_names[kind][1], impl, bench_median(get, reps), "ns/op");
}

#endif
