/* churn_reclaim.c: allocator churn (churn.h) on rc_malloc/rc_free, the
 * calling thread's implicit heap.
 *
 * Usage: churn_reclaim [iterations] [repetitions]
 * Prints: RESULT churn reclaim <ns> ns/pair (median).
 */
#include "bench_util.h"
#include "churn.h"

#include <reclaim.h>

static long iterations;

static double churn_once(void *ctx)
{
    (void)ctx;
    return churn_run(iterations, rc_malloc, rc_free);
}

int main(int argc, char **argv)
{
    iterations = bench_arg(argc, argv, 1, CHURN_ITERATIONS);
    int reps = (int)bench_arg(argc, argv, 2, CHURN_REPS);
    bench_result("churn", "reclaim", bench_median_of(reps, churn_once, NULL), "ns/pair");
    return 0;
}
