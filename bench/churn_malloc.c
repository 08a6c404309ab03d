/* churn_malloc.c: allocator churn (churn.h) on plain malloc/free.
 *
 * run.sh runs it three times: on glibc, and with libmimalloc.so and
 * libjemalloc.so in LD_PRELOAD; the malloc in use names the result.
 * Usage: churn_malloc [iterations] [repetitions]
 * Prints: RESULT churn <glibc|mimalloc|jemalloc> <ns> ns/pair (median).
 */
#include "bench_util.h"
#include "churn.h"

static long iterations;

static double churn_once(void *ctx)
{
    (void)ctx;
    return churn_run(iterations, malloc, free);
}

int main(int argc, char **argv)
{
    iterations = bench_arg(argc, argv, 1, CHURN_ITERATIONS);
    int reps = (int)bench_arg(argc, argv, 2, CHURN_REPS);
    bench_result("churn", bench_malloc_name(), bench_median_of(reps, churn_once, NULL), "ns/pair");
    return 0;
}
