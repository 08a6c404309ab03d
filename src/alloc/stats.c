/* stats.c: what the allocator can tell about a heap: statistics, the text
 * dump, the object spans the collector scans, and the whole-heap validator.
 *
 * Nothing here is counted on the fast paths: per-class figures come from
 * walking the pools of every arena (pool->used), so a statistics call costs
 * O(pools) and an allocation costs nothing extra. The scalar statistics are
 * the X-macro list RC_ALLOC_STATS (reclaim/alloc.h): the struct and the dump
 * both come from it.
 */
#include "arena_map.h"
#include "large.h"

#include <string.h>

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
    c->pools++;
    c->blocks_used += pool->used;
    c->blocks_free += rc_pool_capacity(pool->cls) - pool->used;
    out->pools_used++;
    out->small_bytes_in_use += (size_t)pool->used * rc_class_size[pool->cls];
}

static bool may_work_on(rc_heap *heap)
{
    uintptr_t owner = atomic_load_explicit(&heap->owner, memory_order_relaxed);
    return owner == 0 || owner == rc_thread_token();
}

int rc_heap_stats(rc_heap *heap, rc_alloc_stats *out)
{
    if (!out || out->struct_size != sizeof *out)
        return rc_set_error(RC_EINVAL, "rc_heap_stats: struct_size is %zu, this library's is %zu",
                            out ? out->struct_size : 0, sizeof *out);
    if (!heap && !(heap = rc_heap_for_call()))
        return RC_ENOMEM;
    if (may_work_on(heap))
        rc_alloc_drain_remote(heap);
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
    out->bytes_in_use = out->small_bytes_in_use + st->large_bytes;
    out->bytes_mapped = st->arenas_current * RC_ARENA_SIZE + st->large_sys_bytes;
    out->remote_frees = st->remote_frees;
    RC_ASSERT(!RC_EXPENSIVE || !may_work_on(heap) || rc_alloc_validate(heap));
    return 0;
}

void rc_heap_print_stats(rc_heap *heap, FILE *out)
{
    rc_alloc_stats s = {.struct_size = sizeof s};
    if (!out)
        out = stderr;
    if (!heap && !(heap = rc_heap_for_call()))
        return;
    rc_heap_stats(heap, &s);
    fprintf(out, "reclaim heap %p: small blocks (<= %d bytes) in %zu KiB pools\n", (void *)heap,
            RC_SMALL_MAX, RC_POOL_SIZE >> 10);
    fprintf(out, "%5s %6s %7s %14s %12s\n", "class", "size", "pools", "blocks in use",
            "free blocks");
    rc_class_stats total = {0};
    for (unsigned c = 0; c < RC_SIZE_CLASSES; c++) {
        const rc_class_stats *k = &s.classes[c];
        if (k->pools == 0)
            continue;
        fprintf(out, "%5u %6zu %7zu %14zu %12zu\n", c, k->block_size, k->pools, k->blocks_used,
                k->blocks_free);
        total.pools += k->pools;
        total.blocks_used += k->blocks_used;
        total.blocks_free += k->blocks_free;
    }
    fprintf(out, "%5s %6s %7zu %14zu %12zu\n", "total", "", total.pools, total.blocks_used,
            total.blocks_free);
#define RC_PRINT_STAT(name, text) fprintf(out, "%-20s %14zu  %s\n", #name, s.name, text);
    RC_ALLOC_STATS(RC_PRINT_STAT)
#undef RC_PRINT_STAT
}

/* ---- object spans ------------------------------------------------------- */

typedef struct span_walk {
    rc_span_fn fn;
    void *arg;
} span_walk;

static void object_pool_span(const rc_pool *pool, void *arg)
{
    if (pool->kind != RC_BLOCK_OBJECT)
        return;
    const span_walk *walk = arg;
    size_t size = rc_pool_block_size(pool);
    rc_block_span span = {.first = pool->mem, .stride = size, .count = pool->carved / size};
    walk->fn(&span, walk->arg);
}

void rc_alloc_object_spans(rc_heap *heap, rc_span_fn fn, void *arg)
{
    span_walk walk = {fn, arg};
    for_each_pool(heap, object_pool_span, &walk);
    for (rc_large *h = heap->alloc.large; h; h = h->next) {
        if (h->kind != RC_BLOCK_OBJECT)
            continue;
        rc_block_span span = {.first = rc_large_block(h), .stride = h->size, .count = 1};
        fn(&span, arg);
    }
}
