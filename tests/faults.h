/* faults.h: the fixture the fault-injection tests share. Each run gets a
 * fresh heap (faults_begin), arms the n-th system request to fail (arm),
 * runs its scenario, turns injection off (faults_disarm: did the requests
 * reach the armed point?), and ends with the heap back where it began,
 * consistent, and destroyed (faults_end). */
#ifndef RC_TEST_FAULTS_H
#define RC_TEST_FAULTS_H

#include "check.h"
#include "nodes.h"

#include "alloc/pool.h"
#include "gc/gc_internal.h"

static rc_heap *heap;
static size_t base_in_use;
/* After faults_disarm: a request failed (exact when not sticky; when
 * sticky, a run that just reached the point looks the same). */
static bool hit;

static size_t in_use(void)
{
    rc_alloc_stats s = {.struct_size = sizeof s};
    CHECK_EQ(rc_heap_stats(heap, &s), 0);
    return s.bytes_in_use;
}

static void faults_begin(void)
{
    heap = rc_heap_new();
    CHECK(heap != NULL);
    rc_heap_use(heap);
    counters_reset();
    base_in_use = in_use();
}

static void arm(long n, bool sticky)
{
    rc_heap_inject_faults(heap, RC_FAULT_MMAP | RC_FAULT_MALLOC, n, sticky);
}

/* Turns injection off; true if the scenario's requests reached the armed
 * failure point (false ends the sweep). */
static bool faults_disarm(void)
{
    rc_alloc_state *st = &heap->alloc;
    bool reached = st->fault_after == 0;
    hit = st->fault_sticky ? reached : reached && st->fault_kinds == 0;
    rc_heap_inject_faults(heap, 0, -1, false);
    return reached;
}

/* Leaves a message that any failing call must replace (main checks that
 * it does leave one). */
static void error_reset(void) { rc_gc_collect(99); }

/* Everything dropped: the heap is back where it began, and consistent. */
static void end(void)
{
    CHECK_EQ(in_use(), base_in_use);
    CHECK(rc_alloc_validate(heap));
    CHECK_EQ(rc_gc_validate(heap), 0);
    rc_heap_use(NULL);
    rc_heap_destroy(heap);
    heap = NULL;
}

typedef bool (*scenario)(long n, bool sticky, int variant);

/* Calls of the scenario's subject that failed; each run adds its own. */
static size_t total_failed;

/* The sweep: run(n, sticky, variant) for n = 0, 1, ... until the run's
 * requests no longer reach the armed failure point, with single failures
 * and then sticky ones. The scenario must have at least min_points failure
 * points and fewer than max_points, and a sticky sweep must have made some
 * call fail (a single failure may be absorbed by the allocator's
 * collect-and-retry). Prints the figures under name. */
static inline void faults_sweep(const char *name, scenario run, int variant, long min_points,
                                long max_points)
{
    for (int sticky = 0; sticky < 2; sticky++) {
        long n = 0;
        total_failed = 0;
        while (n < max_points && run(n, sticky, variant))
            n++;
        CHECK(n >= min_points && n < max_points);
        if (sticky)
            CHECK(total_failed > 0);
        printf("%s variant %d %-6s: %ld failure points, %zu failed calls\n", name, variant,
               sticky ? "sticky" : "once", n, total_failed);
    }
}

#endif
