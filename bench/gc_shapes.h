/* gc_shapes.h: the heaps gc_reclaim.c, gc_boehm.c and gc_cpython.py
 * collect. Each is `groups` chains of `group_size` one-reference objects;
 * a closed chain (its last object refers to its first) is a garbage cycle,
 * an open one is live, held by the program. */
#ifndef BENCH_GC_SHAPES_H
#define BENCH_GC_SHAPES_H

#include "bench_util.h"

#include <stdbool.h>

/* The clock a collection is timed with: wall time, or with BENCH_GC_CPU
 * set in the environment, the process's CPU time (on a shared machine the
 * steadier figure; Boehm may mark in threads of its own, which it counts,
 * and reclaim's collection runs in the calling thread). */
static inline uint64_t gc_clock_ns(void)
{
    static int cpu = -1;
    if (cpu < 0)
        cpu = getenv("BENCH_GC_CPU") != NULL;
    if (!cpu)
        return bench_now_ns();
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#define GC_REPS 5

/* The object of every shape: one reference. */
typedef struct gc_link {
    struct gc_link *ref;
} gc_link;

typedef struct gc_shape {
    const char *name; /* the workload in RESULT lines */
    long groups;
    long group_size;
    bool closed;
} gc_shape;

enum { GC_SHAPE_PAIRS, GC_SHAPE_RINGS, GC_SHAPE_LIVE, GC_SHAPE_COUNT };

static const gc_shape gc_shapes[GC_SHAPE_COUNT] = {
    [GC_SHAPE_PAIRS] = {"gc_pairs", 500000, 2, true},
    [GC_SHAPE_RINGS] = {"gc_rings", 10000, 100, true},
    [GC_SHAPE_LIVE] = {"gc_live", 1, 1000000, false},
};

static inline long gc_shape_objects(const gc_shape *shape)
{
    return shape->groups * shape->group_size;
}

/* A collection must find exactly the garbage: all objects, or none. */
static inline void gc_shape_check(const gc_shape *shape, const char *impl, long found)
{
    long expected = shape->closed ? gc_shape_objects(shape) : 0;
    if (found != expected)
        bench_fail("%s %s: the collection found %ld unreachable objects, not %ld", impl,
                   shape->name, found, expected);
}

#endif
