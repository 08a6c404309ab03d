/* churn_reclaim.c: allocator churn (churn.h) on rc_malloc/rc_free, the
 * calling thread's implicit heap.
 *
 * Built twice: churn_reclaim links libreclaim.a (direct calls), and
 * churn_reclaim_shared links libreclaim.so, so that rc_malloc and rc_free
 * are called through the PLT as the peers' malloc and free are under
 * LD_PRELOAD (CHURN_WORKLOAD names its figure "churn_shared").
 *
 * Usage: churn_reclaim[_shared] [iterations] [repetitions]
 * Prints: RESULT churn[_shared] reclaim <ns> ns/pair (median).
 */
#include "bench_util.h"
#include "churn.h"

#include <reclaim.h>

#ifndef CHURN_WORKLOAD
#define CHURN_WORKLOAD "churn"
#endif

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
    bench_result(CHURN_WORKLOAD, "reclaim", bench_median_of(reps, churn_once, NULL), "ns/pair");
    return 0;
}
