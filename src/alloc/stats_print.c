/* stats_print.c: rc_heap_print_stats, reclaim's sys._debugmallocstats().
 *
 * The text, in order: a title line naming the heap and its allocator (plain
 * or debug); the size classes in use (class, block size, pools, blocks in
 * use, free blocks) and their totals; the large blocks by size, one line per
 * power of two that holds any; every statistic of RC_ALLOC_STATS as
 * "name  value  meaning" (the list is the only place a statistic is
 * named); the fragmentation of the mapped arenas; and the large-block
 * cache's bytes and settings. Columns are fixed, so that tests and
 * scripts can read the lines.
 */
#include "debug_guard.h"
#include "large.h"

#define LARGE_BUCKETS 64

static void print_title(rc_heap *heap, FILE *out)
{
    fprintf(out,
            "reclaim heap %p: small blocks (<= %d bytes) in %zu KiB pools, %u pools per %zu KiB "
            "arena\n",
            (void *)heap, RC_SMALL_MAX, RC_POOL_SIZE >> 10, RC_POOLS_PER_ARENA,
            RC_ARENA_SIZE >> 10);
    const rc_debug_state *debug = heap->alloc.debug;
    if (debug)
        fprintf(out,
                "allocator: debug (%d bytes of guards and records a block; quarantine of at most "
                "%zu blocks and %zu bytes)\n",
                RC_DEBUG_OVERHEAD, debug->ring_cap, debug->max_bytes);
    else
        fprintf(out, "allocator: default\n");
}

static void print_classes(const rc_alloc_stats *s, FILE *out)
{
    fprintf(out, "\n%5s %6s %7s %14s %12s\n", "class", "size", "pools", "blocks in use",
            "free blocks");
    rc_class_stats total = {0};
    for (unsigned c = 0; c < RC_SIZE_CLASSES; c++) {
        const rc_class_stats *k = &s->classes[c];
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
}

/* The smallest power of two >= size, as its exponent. */
static unsigned size_bucket(size_t size)
{
    unsigned k = 0;
    while (k + 1 < LARGE_BUCKETS && ((size_t)1 << k) < size)
        k++;
    return k;
}

static void print_size(FILE *out, unsigned exponent)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    fprintf(out, "%*s<= %4zu %-3s", 9, "", (size_t)1 << (exponent % 10), units[exponent / 10]);
}

static void print_large(rc_heap *heap, FILE *out)
{
    size_t count[LARGE_BUCKETS] = {0}, bytes[LARGE_BUCKETS] = {0};
    for (const rc_large *h = heap->alloc.large; h; h = h->next) {
        unsigned k = size_bucket(h->size);
        count[k]++;
        bytes[k] += h->size;
    }
    fprintf(out, "\n%-20s %10s %16s\n", "large blocks", "count", "bytes");
    for (unsigned k = 0; k < LARGE_BUCKETS; k++) {
        if (count[k] == 0)
            continue;
        print_size(out, k);
        fprintf(out, " %10zu %16zu\n", count[k], bytes[k]);
    }
}

static void print_cache(const rc_large_cache *cache, FILE *out)
{
    if (!rc_large_cache_is_on(cache))
        fprintf(out, "large-block cache: off\n");
    else
        fprintf(out,
                "large-block cache: %zu bytes kept (at most %zu; unmapped after %llu ms unused)\n",
                cache->bytes, cache->max, (unsigned long long)(cache->decay_ns / 1000000u));
}

void rc_heap_print_stats(rc_heap *heap, FILE *out)
{
    rc_alloc_stats s = {.struct_size = sizeof s};
    if (!out)
        out = stderr;
    if (!heap && !(heap = rc_heap_for_call()))
        return;
    rc_heap_stats(heap, &s);
    print_title(heap, out);
    print_classes(&s, out);
    print_large(heap, out);
    fputc('\n', out);
#define RC_PRINT_STAT(name, text) fprintf(out, "%-20s %14zu  %s\n", #name, s.name, text);
    RC_ALLOC_STATS(RC_PRINT_STAT)
#undef RC_PRINT_STAT
    size_t arena_bytes = s.arenas_current * RC_ARENA_SIZE;
    double share = arena_bytes ? 100.0 * (double)s.unused_arena_bytes / (double)arena_bytes : 0;
    fprintf(out, "\nfragmentation: %.2f%% of the %zu arena bytes mapped are not handed out\n",
            share, arena_bytes);
    print_cache(&heap->alloc.cache, out);
}
