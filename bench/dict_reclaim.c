/* dict_reclaim.c: rc_dict set and get of 1,000,000 int keys and of
 * 1,000,000 str keys (the workload of dict_workload.h): rc_dict_set(d, k, k)
 * for each key object, then rc_dict_get(d, k), on the thread's heap.
 * Usage: dict_reclaim [n (1000000)] [repetitions (5)] [shuffled]
 */
#include "dict_workload.h"

#include <reclaim.h>

typedef struct keyset {
    void **keys;
    const long *order; /* dict_order */
} keyset;

static dict_times run(int kind, long n, void *ctx)
{
    keyset *ks = ctx;
    (void)kind;
    void *d = rc_dict_new();
    if (!d)
        bench_fail("rc_dict_new: %s", rc_last_error());
    uint64_t start = bench_now_ns();
    for (long i = 0; i < n; i++) {
        void *key = ks->keys[dict_visit(ks->order, i)];
        if (rc_dict_set(d, key, key) != 0)
            bench_fail("rc_dict_set: %s", rc_last_error());
    }
    uint64_t mid = bench_now_ns();
    long found = 0;
    for (long i = 0; i < n; i++) {
        void *key = ks->keys[dict_visit(ks->order, i)];
        found += rc_dict_get(d, key) == key;
    }
    uint64_t end = bench_now_ns();
    if (found != n || (long)rc_dict_len(d) != n)
        bench_fail("reclaim: %ld of %ld keys found, length %zu", found, n, rc_dict_len(d));
    rc_decref(d);
    return (dict_times){(double)(mid - start) / (double)n, (double)(end - mid) / (double)n};
}

int main(int argc, char **argv)
{
    long n = bench_arg(argc, argv, 1, DICT_N);
    int reps = (int)bench_arg(argc, argv, 2, DICT_REPS);
    keyset ks = {malloc((size_t)n * sizeof *ks.keys), dict_order(argc, argv, n)};
    if (!ks.keys)
        bench_fail("out of memory");
    for (int kind = DICT_INT; kind <= DICT_STR; kind++) {
        for (long i = 0; i < n; i++) {
            char text[32];
            dict_key_text(text, sizeof text, i);
            ks.keys[i] = kind == DICT_INT ? rc_int_new(i) : rc_str_from(text);
            if (!ks.keys[i])
                bench_fail("making keys: %s", rc_last_error());
        }
        dict_report("reclaim", kind, reps, n, ks.order != NULL, run, &ks);
        for (long i = 0; i < n; i++)
            rc_decref(ks.keys[i]);
    }
    free(ks.keys);
    free((void *)ks.order);
    return 0;
}
