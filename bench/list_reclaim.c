/* list_reclaim.c: rc_list_append of one small int object, 10,000,000 times
 * into a new list, per append (the growth is CPython's list_resize, so the
 * list reallocates as often as CPython's). The length and the last item
 * are checked; the list is freed untimed. Median of the repetitions.
 * Usage: list_reclaim [n (10000000)] [repetitions (5)]
 * Prints: RESULT list_append reclaim <ns> ns/op
 */
#include "bench_util.h"

#include <reclaim.h>

typedef struct job {
    long n;
    void *item;
} job;

static double append_all(void *ctx)
{
    job *j = ctx;
    void *list = rc_list_new();
    if (!list)
        bench_fail("rc_list_new: %s", rc_last_error());
    uint64_t start = bench_now_ns();
    for (long i = 0; i < j->n; i++) {
        if (rc_list_append(list, j->item) != 0)
            bench_fail("rc_list_append: %s", rc_last_error());
    }
    uint64_t elapsed = bench_now_ns() - start;
    if ((long)rc_list_len(list) != j->n || rc_list_get(list, (size_t)j->n - 1) != j->item)
        bench_fail("reclaim: the list holds %zu items, not %ld", rc_list_len(list), j->n);
    rc_decref(list);
    return (double)elapsed / (double)j->n;
}

int main(int argc, char **argv)
{
    job j = {bench_arg(argc, argv, 1, 10000000), rc_int_new(1)};
    int reps = (int)bench_arg(argc, argv, 2, 5);
    bench_result("list_append", "reclaim", bench_median_of(reps, append_all, &j), "ns/op");
    return 0;
}
