/* gc.c: the gc module's switches and counters, and running a collection
 * with its callbacks, statistics and debug lines around it.
 *
 * Invariants: objects.collect_at == threshold[0] while enabled and
 * threshold[0] != 0, SIZE_MAX otherwise; `collecting` is true exactly while
 * a collection (callbacks included) runs, and no second one starts then.
 */
#include "gc_internal.h"
#include "../alloc/alloc.h"

#include <time.h>

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void update_collect_at(rc_heap *heap)
{
    rc_gc_state *gc = &heap->gc;
    heap->objects.collect_at = gc->enabled && gc->threshold[0] ? gc->threshold[0] : SIZE_MAX;
}

rc_heap *rc_gc_heap(void)
{
    rc_heap *heap = rc_heap_for_call();
    if (heap)
        rc_object_settle(heap);
    return heap;
}

bool rc_gc_is_collecting(rc_heap *heap) { return heap->gc.collecting; }

static void print_start(rc_heap *heap, unsigned gen)
{
    FILE *out = rc_gc_debug_stream(heap);
    const size_t *count = heap->objects.gen_count;
    fprintf(out, "gc: collecting generation %u...\n", gen);
    fprintf(out, "gc: objects in each generation: %zu %zu %zu\n", count[0], count[1], count[2]);
    fprintf(out, "gc: objects in permanent generation: %zu\n", count[RC_GEN_PERMANENT]);
}

static void print_done(rc_heap *heap, const rc_gc_result *result, uint64_t pause_ns)
{
    fprintf(
        rc_gc_debug_stream(heap), "gc: done, %zu unreachable, %zu uncollectable, %.4fs elapsed\n",
        result->collected + result->uncollectable, result->uncollectable, (double)pause_ns / 1e9);
}

/* CPython's counters: a collection of gen adds one to count[gen+1] and
 * zeroes count[0..gen]. Full collections are paced by long_lived_total and
 * objects.old_pending (CPython's long_lived_pending, but exact: objects
 * promoted to generation 2 that died since do not count). */
static void update_counters(rc_heap *heap, unsigned gen, const rc_gc_result *result)
{
    rc_gc_state *gc = &heap->gc;
    if (gen + 1 < RC_GC_GENERATIONS)
        gc->count[gen + 1]++;
    for (unsigned g = 1; g <= gen; g++)
        gc->count[g] = 0;
    if (gen == 2)
        gc->long_lived_total = result->survivors;
}

static void record_stats(rc_heap *heap, unsigned gen, const rc_gc_result *result, uint64_t pause)
{
    rc_gc_stats *stats = &heap->gc.stats[gen];
    stats->collections++;
    stats->collected += result->collected;
    stats->uncollectable += result->uncollectable;
    stats->pause_ns_total += pause;
    if (pause > stats->pause_ns_max)
        stats->pause_ns_max = pause;
}

static long collect_with_callbacks(rc_heap *heap, unsigned gen)
{
    rc_gc_state *gc = &heap->gc;
    if (gc->collecting)
        return 0;
    gc->collecting = true;
    rc_alloc_drain_remote(heap);
    rc_gc_info info = {(int)gen, 0, 0};
    rc_gc_run_callbacks(heap, RC_GC_START, &info);
    if (gc->debug & RC_GC_DEBUG_STATS)
        print_start(heap, gen);
    uint64_t start = now_ns();
    heap->objects.count0 = 0;
    rc_gc_result result = rc_gc_collect_heap(heap, gen);
    if (gen == 2 && heap->hooks.clear_free_lists)
        heap->hooks.clear_free_lists(heap);
    update_counters(heap, gen, &result);
    uint64_t pause = now_ns() - start;
    record_stats(heap, gen, &result, pause);
    if (gc->debug & RC_GC_DEBUG_STATS)
        print_done(heap, &result, pause);
    info.collected = result.collected;
    info.uncollectable = result.uncollectable;
    rc_gc_run_callbacks(heap, RC_GC_STOP, &info);
    gc->collecting = false;
    if (RC_EXPENSIVE && rc_gc_validate(heap) != 0)
        rc_fatal("collector invariants broken after a collection (rc_gc_validate)");
    return (long)(result.collected + result.uncollectable);
}

/* The hook run when count[0] passes threshold[0]: collects the oldest
 * generation whose count passed its threshold, as CPython does. */
static void collect_due(rc_heap *heap)
{
    rc_gc_state *gc = &heap->gc;
    if (gc->collecting || !gc->enabled)
        return;
    for (int gen = RC_GC_GENERATIONS - 1; gen >= 0; gen--) {
        size_t count = gen == 0 ? heap->objects.count0 : gc->count[gen];
        if (count <= gc->threshold[gen])
            continue;
        if (gen == 2 && heap->objects.old_pending < gc->long_lived_total / 4)
            continue;
        collect_with_callbacks(heap, (unsigned)gen);
        return;
    }
}

/* The allocator's out-of-memory hook: one full collection, then the
 * allocation is retried. Automatic like threshold collections, so it too
 * is off while the collector is disabled. */
static void collect_for_memory(rc_heap *heap)
{
    if (heap->gc.enabled)
        collect_with_callbacks(heap, 2);
}

int rc_gc_init(rc_heap *heap)
{
    rc_gc_state *gc = &heap->gc;
    gc->threshold[0] = 2000;
    gc->threshold[1] = 10;
    gc->threshold[2] = 10;
    gc->enabled = true;
    update_collect_at(heap);
    heap->hooks.collect_due = collect_due;
    heap->hooks.out_of_memory = collect_for_memory;
    return 0;
}

void rc_gc_fini(rc_heap *heap)
{
    rc_gc_state *gc = &heap->gc;
    rc_gc_garbage_fini(heap);
    rc_gc_callbacks_fini(heap);
    rc_sys_free(heap, gc->mark_stack);
    rc_sys_free(heap, gc->unreachable);
    gc->mark_stack = gc->unreachable = NULL;
}

long rc_gc_collect(int generation)
{
    if (generation < 0 || generation >= RC_GC_GENERATIONS)
        return rc_set_error(RC_EINVAL, "rc_gc_collect: invalid generation %d (0, 1 or 2)",
                            generation);
    rc_heap *heap = rc_gc_heap();
    return heap ? collect_with_callbacks(heap, (unsigned)generation) : RC_ENOMEM;
}

void rc_gc_enable(void)
{
    rc_heap *heap = rc_gc_heap();
    if (heap) {
        heap->gc.enabled = true;
        update_collect_at(heap);
    }
}

void rc_gc_disable(void)
{
    rc_heap *heap = rc_gc_heap();
    if (heap) {
        heap->gc.enabled = false;
        update_collect_at(heap);
    }
}

bool rc_gc_is_enabled(void)
{
    rc_heap *heap = rc_gc_heap();
    return heap && heap->gc.enabled;
}

void rc_gc_get_count(size_t count[RC_GC_GENERATIONS])
{
    rc_heap *heap = rc_gc_heap();
    count[0] = heap ? heap->objects.count0 : 0;
    for (int g = 1; g < RC_GC_GENERATIONS; g++)
        count[g] = heap ? heap->gc.count[g] : 0;
}

void rc_gc_get_threshold(size_t threshold[RC_GC_GENERATIONS])
{
    rc_heap *heap = rc_gc_heap();
    for (int g = 0; g < RC_GC_GENERATIONS; g++)
        threshold[g] = heap ? heap->gc.threshold[g] : 0;
}

void rc_gc_set_threshold(size_t t0, size_t t1, size_t t2)
{
    rc_heap *heap = rc_gc_heap();
    if (!heap)
        return;
    heap->gc.threshold[0] = t0;
    heap->gc.threshold[1] = t1;
    heap->gc.threshold[2] = t2;
    update_collect_at(heap);
}

void rc_gc_get_stats(rc_gc_stats stats[RC_GC_GENERATIONS])
{
    rc_heap *heap = rc_gc_heap();
    for (int g = 0; g < RC_GC_GENERATIONS; g++)
        stats[g] = heap ? heap->gc.stats[g] : (rc_gc_stats){0};
}
