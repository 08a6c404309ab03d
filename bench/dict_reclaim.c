/* dict_reclaim.c: rc_dict set and get of 1,000,000 int keys and of
 * 1,000,000 str keys (the workload of dict_workload.h): rc_dict_set(d, k, k)
 * for each key object, then rc_dict_get(d, k), on the thread's heap.
 * Usage: dict_reclaim [n (1000000)] [repetitions (5)]
 */
#include "dict_workload.h"

#include <reclaim.h>

static dict_times run(int kind, long n, void *ctx)
{
    void **keys = ctx;
    (void)kind;
    void *d = rc_dict_new();
    if (!d)
        bench_fail("rc_dict_new: %s", rc_last_error());
    uint64_t start = bench_now_ns();
    for (long i = 0; i < n; i++) {
        if (rc_dict_set(d, keys[i], keys[i]) != 0)
            bench_fail("rc_dict_set: %s", rc_last_error());
    }
    uint64_t mid = bench_now_ns();
    long found = 0;
    for (long i = 0; i < n; i++)
        found += rc_dict_get(d, keys[i]) == keys[i];
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
    void **keys = malloc((size_t)n * sizeof *keys);
    if (!keys)
        bench_fail("out of memory");
    for (int kind = DICT_INT; kind <= DICT_STR; kind++) {
        for (long i = 0; i < n; i++) {
            char text[32];
            dict_key_text(text, sizeof text, i);
            keys[i] = kind == DICT_INT ? rc_int_new(i) : rc_str_from(text);
            if (!keys[i])
                bench_fail("making keys: %s", rc_last_error());
        }
        dict_report("reclaim", kind, reps, n, run, keys);
        for (long i = 0; i < n; i++)
            rc_decref(keys[i]);
    }
    free(keys);
    return 0;
}
