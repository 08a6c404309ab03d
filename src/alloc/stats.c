/* stats.c: what the allocator can tell about a heap: statistics and the
 * object spans the collector scans (stats_print.c writes the text dump).
 *
 * Nothing here is counted on the fast paths: per-class figures come from
 * walking the pools of every arena (pool->used), so a statistics call costs
 * O(pools) and an allocation costs nothing extra. The scalar statistics are
 * the X-macro list RC_ALLOC_STATS (reclaim/alloc.h): the struct and the dump
 * both come from it. The arena bytes add up (rc_alloc_stats's comment):
 * every pool of a mapped arena is in use (its blocks handed out or free,
 * and its tail) or empty.
 */
#include "arena_map.h"
#include "debug_guard.h"
#include "large.h"

#include <stddef.h>
#include <string.h>

/* rc_alloc_stats as it was before the large-block cache's figures: a
 * caller built then passes this struct_size and gets those fields. */
#define STATS_SIZE_BEFORE_CACHE offsetof(rc_alloc_stats, large_cache_bytes)

/* ---- pools of a heap ------------------------------------------------ */

typedef void (*pool_fn)(const rc_pool *pool, void *arg);

/* Calls fn for every pool in use (holding blocks) of every arena. */
static void for_each_pool(rc_heap *heap, pool_fn fn, void *arg)
{
    for (rc_arena *a = heap->alloc.arenas; a; a = a->all_next) {
        for (unsigned i = 0; i < a->ntouched; i++) {
            if (a->pools[i].used > 0)
                fn(&a->pools[i], arg);
        }
    }
}

static void count_pool(const rc_pool *pool, void *arg)
{
    rc_alloc_stats *out = arg;
    rc_class_stats *c = &out->classes[pool->cls];
    size_t size = rc_class_size[pool->cls], free_blocks = rc_pool_capacity(pool->cls) - pool->used;
    c->pools++;
    c->blocks_used += pool->used;
    c->blocks_free += free_blocks;
    out->pools_used++;
    out->small_bytes_in_use += (size_t)pool->used * size;
    out->free_bytes_in_pools += free_blocks * size;
    out->pool_tail_bytes += RC_POOL_SIZE - pool->limit;
}

/* The debug allocator's figures and bookkeeping. */
static void count_debug(const rc_heap *heap, rc_alloc_stats *out)
{
    const rc_debug_state *debug = heap->alloc.debug;
    if (!debug)
        return;
    out->quarantine_blocks = debug->count;
    out->quarantine_bytes = debug->bytes;
    out->requested_bytes = debug->requested_bytes;
    out->bytes_in_use -= debug->bytes; /* freed, though not yet reusable */
    out->bookkeeping_bytes += sizeof *debug + debug->ring_cap * sizeof *debug->ring;
}

/* The large-block cache's figures. */
static void count_cache(const rc_large_cache *cache, rc_alloc_stats *out)
{
    out->large_cache_bytes = cache->bytes;
    out->large_cache_hits = cache->hits;
    out->large_cache_misses = cache->misses;
    out->large_cache_decayed = cache->decayed;
    out->large_cache_evicted = cache->evicted;
    out->bytes_mapped += cache->bytes;
}

static void fill_stats(rc_heap *heap, rc_alloc_stats *out)
{
    const rc_alloc_state *st = &heap->alloc;
    memset(out, 0, sizeof *out);
    out->struct_size = sizeof *out;
    for (unsigned c = 0; c < RC_SIZE_CLASSES; c++)
        out->classes[c].block_size = rc_class_size[c];
    for_each_pool(heap, count_pool, out);
    out->arenas_allocated = st->arenas_allocated;
    out->arenas_freed = st->arenas_freed;
    out->arenas_current = st->arenas_current;
    out->arenas_highwater = st->arenas_highwater;
    out->pools_empty = st->arenas_current * RC_POOLS_PER_ARENA - out->pools_used;
    out->large_blocks = st->large_blocks;
    out->large_bytes_in_use = st->large_bytes;
    out->freelist_blocks = st->freelist_blocks;
    out->freelist_bytes = st->freelist_bytes;
    out->bytes_in_use = out->small_bytes_in_use + st->large_bytes - st->freelist_bytes;
    out->bytes_mapped = st->arenas_current * RC_ARENA_SIZE + st->large_sys_bytes;
    out->remote_frees = st->remote_frees;
    out->empty_pool_bytes = out->pools_empty * RC_POOL_SIZE;
    out->unused_arena_bytes =
        out->free_bytes_in_pools + out->empty_pool_bytes + out->pool_tail_bytes;
    out->large_header_bytes = st->large_sys_bytes - st->large_bytes;
    out->bookkeeping_bytes = st->arenas_current * sizeof(rc_arena);
    count_debug(heap, out);
    out->tracer_overhead = heap->hooks.trace_overhead ? heap->hooks.trace_overhead(heap) : 0;
    count_cache(&st->cache, out);
}

int rc_heap_stats(rc_heap *heap, rc_alloc_stats *out)
{
    size_t size = out ? out->struct_size : 0;
    if (size != sizeof *out && size != STATS_SIZE_BEFORE_CACHE)
        return rc_set_error(RC_EINVAL, "rc_heap_stats: struct_size is %zu, this library's is %zu",
                            size, sizeof *out);
    if (!heap && !(heap = rc_heap_for_call()))
        return RC_ENOMEM;
    bool mine = rc_heap_may_work_on(heap);
    if (mine) {
        rc_alloc_drain_remote(heap);
        rc_large_cache_tick(heap, true); /* the figures after any decay due */
    }
    rc_alloc_stats all;
    fill_stats(heap, &all);
    memcpy(out, &all, size); /* an older caller's struct is a prefix */
    out->struct_size = size;
    RC_ASSERT(!RC_EXPENSIVE || !mine || (rc_alloc_validate(heap) && rc_large_cache_is_valid(heap)));
    return 0;
}

/* ---- object spans ------------------------------------------------------- */

typedef struct span_walk {
    rc_span_fn fn;
    void *arg;
    size_t front; /* the heap's: spans list user pointers (block_layout.h) */
} span_walk;

static void object_pool_span(const rc_pool *pool, void *arg)
{
    if (pool->kind != RC_BLOCK_OBJECT)
        return;
    const span_walk *walk = arg;
    size_t size = rc_pool_block_size(pool);
    rc_block_span span = {
        .first = pool->mem + walk->front, .stride = size, .count = pool->carved / size};
    walk->fn(&span, walk->arg);
}

void rc_alloc_large_object_spans(rc_heap *heap, rc_span_fn fn, void *arg)
{
    for (rc_large *h = heap->alloc.large; h; h = h->next) {
        if (h->kind != RC_BLOCK_OBJECT)
            continue;
        rc_block_span span = {.first = rc_layout_user(heap, rc_large_block(h)),
                              .stride = h->size,
                              .count = 1,
                              .large = true};
        fn(&span, arg);
    }
}

void rc_alloc_object_spans(rc_heap *heap, rc_span_fn fn, void *arg)
{
    span_walk walk = {fn, arg, heap->alloc.front};
    for_each_pool(heap, object_pool_span, &walk);
    rc_alloc_large_object_spans(heap, fn, arg);
}

size_t rc_alloc_arena_bases(rc_heap *heap, char **bases, size_t cap)
{
    size_t n = 0;
    for (rc_arena *a = heap->alloc.arenas; a; a = a->all_next, n++)
        if (n < cap)
            bases[n] = a->base;
    return n;
}

/* An arena's pools lie in index order (pool i at base + i * RC_POOL_SIZE). */
void rc_alloc_arena_object_spans(rc_heap *heap, const char *base, bool down, rc_span_fn fn,
                                 void *arg)
{
    span_walk walk = {fn, arg, heap->alloc.front};
    const rc_arena *a = rc_arena_map_get(base);
    RC_ASSERT(a && a->base == base && a->heap == heap);
    for (unsigned k = 0; k < a->ntouched; k++) {
        unsigned i = down ? a->ntouched - 1 - k : k;
        if (a->pools[i].used > 0)
            object_pool_span(&a->pools[i], &walk);
    }
}
