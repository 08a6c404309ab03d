/* churn.h: the allocator churn workload, shared by churn_malloc.c and
 * churn_reclaim.c so that both run exactly the same loop.
 *
 * CHURN_SLOTS blocks stay live. Each iteration draws one splitmix64 number,
 * which picks a slot (high half) and a new size uniform in 8..512 (low
 * half); the slot's block is read, freed, and replaced by a fresh block of
 * the new size whose first word is written. The figure is ns per
 * malloc+free pair over the timed loop (filling and emptying the slots are
 * not timed). Every implementation sees the same seeded sequence.
 */
#ifndef BENCH_CHURN_H
#define BENCH_CHURN_H

#include "bench_util.h"

#define CHURN_SLOTS      10000
#define CHURN_MIN_SIZE   8
#define CHURN_MAX_SIZE   512
#define CHURN_SEED       0x5eed2024u
#define CHURN_ITERATIONS 20000000L
#define CHURN_REPS       5

typedef void *(*churn_alloc_fn)(size_t size);
typedef void (*churn_free_fn)(void *block);

static inline size_t churn_size(uint64_t r)
{
    return CHURN_MIN_SIZE + (size_t)((r & 0xffffffffu) % (CHURN_MAX_SIZE - CHURN_MIN_SIZE + 1));
}

static inline size_t churn_slot(uint64_t r) { return (size_t)((r >> 32) % CHURN_SLOTS); }

static inline void *churn_block(churn_alloc_fn alloc, size_t size, uint64_t word)
{
    uint64_t *block = alloc(size);
    if (!block)
        bench_fail("out of memory");
    *block = word;
    return block;
}

/* One repetition: ns per malloc+free pair. Static inline and called with
 * constant functions, so the compiler makes the calls direct. */
static inline double churn_run(long iterations, churn_alloc_fn alloc, churn_free_fn release)
{
    static void *slots[CHURN_SLOTS];
    uint64_t rng = CHURN_SEED, sum = 0;
    for (size_t i = 0; i < CHURN_SLOTS; i++)
        slots[i] = churn_block(alloc, churn_size(bench_random(&rng)), i);
    uint64_t start = bench_now_ns();
    for (long n = 0; n < iterations; n++) {
        uint64_t r = bench_random(&rng);
        size_t i = churn_slot(r);
        sum += *(uint64_t *)slots[i];
        release(slots[i]);
        slots[i] = churn_block(alloc, churn_size(r), r);
    }
    uint64_t elapsed = bench_now_ns() - start;
    for (size_t i = 0; i < CHURN_SLOTS; i++)
        release(slots[i]);
    bench_keep(sum);
    return (double)elapsed / (double)iterations;
}

#endif
