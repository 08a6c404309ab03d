/* test_alloc_stats: exact statistics after known allocations (the size
 * classes, arenas, large blocks, fragmentation: the arena bytes add up as
 * in sys._debugmallocstats), the text of rc_heap_print_stats line by line,
 * the tracer's hook, and the struct_size check.
 */
#include "check.h"
#include "stats_text.h"

#include "alloc/arena_map.h"
#include "alloc/large.h"

#include <reclaim.h>

static size_t capacity(size_t size) { return RC_POOL_SIZE / size; }

/* Bytes of a pool of this class that no block fits. */
static size_t tail(size_t size) { return RC_POOL_SIZE - capacity(size) * size; }

static size_t fake_overhead(rc_heap *heap)
{
    (void)heap;
    return 12345;
}

static rc_alloc_stats stats_of(rc_heap *heap)
{
    rc_alloc_stats s = {.struct_size = sizeof s};
    CHECK_EQ(rc_heap_stats(heap, &s), 0);
    return s;
}

static void test_counts(rc_heap *heap)
{
    void *small16[10], *small100[5], *small512[3], *objects[4];
    for (int i = 0; i < 10; i++)
        small16[i] = rc_malloc(16);
    for (int i = 0; i < 5; i++)
        small100[i] = rc_malloc(100);
    for (int i = 0; i < 3; i++)
        small512[i] = rc_malloc(512);
    for (int i = 0; i < 4; i++)
        objects[i] = rc_alloc_block(heap, 30, RC_BLOCK_OBJECT);
    void *large1 = rc_malloc(1000), *large2 = rc_malloc(70000);

    rc_alloc_stats s = stats_of(heap);
    CHECK_EQ(s.struct_size, sizeof s);
    CHECK_EQ(s.classes[0].block_size, 16);
    CHECK_EQ(s.classes[31].block_size, 512);
    CHECK_EQ(s.classes[0].pools, 1);
    CHECK_EQ(s.classes[0].blocks_used, 10);
    CHECK_EQ(s.classes[0].blocks_free, capacity(16) - 10);
    CHECK_EQ(s.classes[6].pools, 1);
    CHECK_EQ(s.classes[6].blocks_used, 5);
    CHECK_EQ(s.classes[6].blocks_free, capacity(112) - 5);
    CHECK_EQ(s.classes[31].blocks_used, 3);
    CHECK_EQ(s.classes[31].blocks_free, capacity(512) - 3);
    CHECK_EQ(s.classes[1].pools, 1); /* the object pool of class 1 */
    CHECK_EQ(s.classes[1].blocks_used, 4);
    CHECK_EQ(s.classes[2].pools, 0);
    CHECK_EQ(s.pools_used, 4);
    CHECK_EQ(s.arenas_current, 1);
    CHECK_EQ(s.arenas_allocated, 1);
    CHECK_EQ(s.arenas_highwater, 1);
    CHECK_EQ(s.pools_empty, RC_ARENA_SIZE / RC_POOL_SIZE - 4);
    CHECK_EQ(s.small_bytes_in_use, 10 * 16 + 5 * 112 + 3 * 512 + 4 * 32);
    CHECK_EQ(s.large_blocks, 2);
    CHECK_EQ(s.large_bytes_in_use, 1008 + 70000);
    CHECK_EQ(s.bytes_in_use, s.small_bytes_in_use + s.large_bytes_in_use);
    CHECK(s.bytes_mapped >= RC_ARENA_SIZE + 71008);
    CHECK(s.bytes_mapped <= RC_ARENA_SIZE + 71008 + 4 * 64);
    CHECK_EQ(s.remote_frees, 0);
    /* fragmentation, as sys._debugmallocstats adds it up */
    size_t free_bytes = (capacity(16) - 10) * 16 + (capacity(112) - 5) * 112 +
                        (capacity(512) - 3) * 512 + (capacity(32) - 4) * 32;
    CHECK_EQ(s.free_bytes_in_pools, free_bytes);
    CHECK_EQ(s.pool_tail_bytes, tail(16) + tail(112) + tail(512) + tail(32));
    CHECK_EQ(s.pool_tail_bytes, 16); /* 585 blocks of 112 bytes leave 16 */
    CHECK_EQ(s.empty_pool_bytes, (RC_ARENA_SIZE / RC_POOL_SIZE - 4) * RC_POOL_SIZE);
    CHECK_EQ(s.unused_arena_bytes, s.free_bytes_in_pools + s.empty_pool_bytes + s.pool_tail_bytes);
    CHECK_EQ(s.arenas_current * RC_ARENA_SIZE, s.small_bytes_in_use + s.unused_arena_bytes);
    /* each large header is 64 bytes, moved by 64 more if it would straddle
     * a page */
    size_t header = sizeof(rc_large);
    CHECK(s.large_header_bytes >= 2 * header && s.large_header_bytes <= 4 * header);
    CHECK_EQ(s.large_header_bytes % header, 0);
    CHECK_EQ(s.bytes_mapped, RC_ARENA_SIZE + s.large_bytes_in_use + s.large_header_bytes);
    CHECK_EQ(s.bookkeeping_bytes, sizeof(rc_arena));
    CHECK_EQ(s.quarantine_blocks, 0); /* the debug allocator's: test_debug_alloc */
    CHECK_EQ(s.quarantine_bytes, 0);
    CHECK_EQ(s.requested_bytes, 0);
    /* the tracer's overhead comes from its hook */
    size_t (*saved)(rc_heap *) = heap->hooks.trace_overhead;
    heap->hooks.trace_overhead = NULL;
    CHECK_EQ(stats_of(heap).tracer_overhead, 0);
    heap->hooks.trace_overhead = fake_overhead;
    CHECK_EQ(stats_of(heap).tracer_overhead, 12345);
    char *hooked = printed_stats(heap);
    CHECK_STR_CONTAINS(hooked, "tracer_overhead               12345  bytes the tracer holds");
    free(hooked);
    heap->hooks.trace_overhead = saved;

    /* the printed text */
    char *text = printed_stats(heap);
    char line[160];
    snprintf(line, sizeof line,
             "reclaim heap %p: small blocks (<= 512 bytes) in 64 KiB pools, 16 pools per "
             "1024 KiB arena\nallocator: default\n\n",
             (void *)heap);
    CHECK(strncmp(text, line, strlen(line)) == 0);
    CHECK_STR_CONTAINS(text, "class   size   pools  blocks in use  free blocks");
    snprintf(line, sizeof line, "    0     16       1             10 %12zu", capacity(16) - 10);
    CHECK_STR_CONTAINS(text, line);
    snprintf(line, sizeof line, "   31    512       1              3 %12zu", capacity(512) - 3);
    CHECK_STR_CONTAINS(text, line);
    CHECK_STR_CONTAINS(text, "arenas_current                    1  arenas mapped now");
    CHECK_STR_CONTAINS(text, "large_blocks                      2  large blocks handed out");
    CHECK_STR_CONTAINS(text, "remote_frees");
    CHECK(strstr(text, "\n    2 ") == NULL); /* empty classes are left out */
    snprintf(line, sizeof line, "total              4             22 %12zu\n\n",
             s.classes[0].blocks_free + s.classes[1].blocks_free + s.classes[6].blocks_free +
                 s.classes[31].blocks_free);
    CHECK_STR_CONTAINS(text, line);
    /* the large blocks by size: 1008 bytes (up to 1 KiB), 70000 (up to 128 KiB) */
    CHECK_STR_CONTAINS(text, "\nlarge blocks              count            bytes\n"
                             "         <=    1 KiB          1             1008\n"
                             "         <=  128 KiB          1            70000\n\n");
    CHECK_STR_CONTAINS(text, "pool_tail_bytes                  16  bytes at the ends of pools");
    snprintf(line, sizeof line, "unused_arena_bytes %16zu  arena bytes mapped but not",
             s.unused_arena_bytes);
    CHECK_STR_CONTAINS(text, line);
    snprintf(line, sizeof line,
             "\nfragmentation: %.2f%% of the 1048576 arena bytes mapped are not handed out\n",
             100.0 * (double)s.unused_arena_bytes / RC_ARENA_SIZE);
    CHECK_STR_CONTAINS(text, line);
    /* the sections in order, every statistic once */
    const char *classes = strstr(text, "class   size"), *large = strstr(text, "large blocks   "),
               *first = strstr(text, "arenas_allocated"), *last = strstr(text, "tracer_overhead"),
               *fragmentation = strstr(text, "fragmentation:");
    CHECK(classes && large && first && last && fragmentation);
    CHECK(classes < large && large < first && first < last && last < fragmentation);
#define RC_COUNT_STAT(name, meaning) +1
    int lines = 0, stats = 0 RC_ALLOC_STATS(RC_COUNT_STAT);
#undef RC_COUNT_STAT
    for (const char *c = first; c < fragmentation; c++)
        lines += *c == '\n';
    CHECK_EQ(lines, stats + 1); /* and the blank line */
    free(text);

    for (int i = 0; i < 10; i++)
        rc_free(small16[i]);
    for (int i = 0; i < 5; i++)
        rc_free(small100[i]);
    for (int i = 0; i < 3; i++)
        rc_free(small512[i]);
    for (int i = 0; i < 4; i++)
        rc_alloc_free_block(heap, objects[i]);
    rc_free(large1);
    rc_free(large2);
    s = stats_of(heap);
    for (int c = 0; c < RC_SIZE_CLASSES; c++) {
        CHECK_EQ(s.classes[c].pools, 0);
        CHECK_EQ(s.classes[c].blocks_used, 0);
    }
    CHECK_EQ(s.pools_used, 0);
    CHECK_EQ(s.bytes_in_use, 0);
    CHECK_EQ(s.large_blocks, 0);
    CHECK_EQ(s.arenas_current, 1); /* one spare: only one arena was used */
    CHECK_EQ(s.arenas_freed, 0);
    CHECK_EQ(s.bytes_mapped, RC_ARENA_SIZE);
    CHECK(rc_alloc_validate(heap));
}

static void test_struct_size(rc_heap *heap)
{
    rc_alloc_stats s = {.struct_size = sizeof s - 8};
    CHECK_EQ(rc_heap_stats(heap, &s), RC_EINVAL);
    CHECK_STR_CONTAINS(rc_last_error(), "struct_size");
    CHECK_EQ(rc_heap_stats(heap, NULL), RC_EINVAL);
    s.struct_size = sizeof s;
    CHECK_EQ(rc_heap_stats(NULL, &s), 0); /* NULL: the current heap */
}

/* 512-byte blocks an arena holds. */
enum { PER_ARENA = RC_POOLS_PER_ARENA * (RC_POOL_SIZE / 512) };

/* Fills `arenas` arenas with 512-byte blocks, into blocks[], and frees
 * them again. */
static void alloc_arenas(void **blocks, size_t arenas)
{
    for (size_t i = 0; i < arenas * PER_ARENA; i++) {
        blocks[i] = rc_malloc(500);
        CHECK(blocks[i] != NULL);
    }
}

static void free_arenas(void **blocks, size_t arenas)
{
    for (size_t i = 0; i < arenas * PER_ARENA; i++)
        rc_free(blocks[i]);
}

/* Many arenas: highwater, freeing down to the kept spares, and the spares
 * used again before any new arena is mapped. */
static void test_arenas(rc_heap *heap)
{
    enum { ARENAS = RC_EMPTY_ARENAS_KEPT + 3, N = ARENAS * PER_ARENA };
    static void *blocks[N]; /* 512-byte blocks */
    alloc_arenas(blocks, ARENAS);
    rc_alloc_stats s = stats_of(heap);
    CHECK_EQ(s.arenas_current, ARENAS);
    CHECK_EQ(s.classes[31].blocks_used, N);
    CHECK_EQ(s.classes[31].blocks_free, 0);
    CHECK_EQ(s.pools_empty, 0);
    free_arenas(blocks, ARENAS);
    s = stats_of(heap);
    CHECK_EQ(s.arenas_current, RC_EMPTY_ARENAS_KEPT);
    CHECK_EQ(s.arenas_highwater, ARENAS);
    CHECK_EQ(s.arenas_freed, ARENAS - RC_EMPTY_ARENAS_KEPT);
    CHECK_EQ(s.arenas_allocated, ARENAS);
    CHECK_EQ(s.bytes_mapped, RC_EMPTY_ARENAS_KEPT * RC_ARENA_SIZE);
    CHECK(rc_alloc_validate(heap));
    alloc_arenas(blocks, RC_EMPTY_ARENAS_KEPT);
    s = stats_of(heap);
    CHECK_EQ(s.arenas_allocated, ARENAS); /* the spares, no new mapping */
    CHECK_EQ(s.arenas_current, RC_EMPTY_ARENAS_KEPT);
    CHECK_EQ(s.pools_empty, 0);
    free_arenas(blocks, RC_EMPTY_ARENAS_KEPT);
    CHECK(rc_alloc_validate(heap));
}

/* The spares kept follow the arenas in use: 8, one more for every arena
 * in use, the oldest unmapped first; a heap that frees everything keeps 8. */
static void test_spares_follow_the_heap(void)
{
    _Static_assert(RC_EMPTY_ARENAS_KEPT == 8 && RC_EMPTY_ARENAS_MAX == 64,
                   "the counts below follow these");
    enum { LIVE = 10, TEMP = 30 };
    static void *live[LIVE * PER_ARENA], *temp[TEMP * PER_ARENA];
    rc_heap *heap = rc_heap_new();
    rc_heap *previous = rc_heap_use(heap);
    alloc_arenas(live, LIVE);
    alloc_arenas(temp, TEMP);
    rc_alloc_stats s = stats_of(heap);
    CHECK_EQ(s.arenas_current, 40);
    CHECK_EQ(heap->alloc.arenas_empty, 0);
    /* freed in order: after k, 40 - k in use and 48 - k kept, so the 25th
     * to empty is the first the bound unmaps; 10 in use at the end, 18 kept */
    free_arenas(temp, TEMP);
    s = stats_of(heap);
    CHECK_EQ(heap->alloc.arenas_empty, 18);
    CHECK_EQ(s.arenas_current, 28);
    CHECK_EQ(s.arenas_freed, 12);
    /* the oldest spares went: the first 12 temporary arenas to empty are
     * unmapped, the last 18 kept */
    for (size_t a = 0; a < TEMP; a++)
        CHECK_EQ(rc_arena_map_get(temp[a * PER_ARENA]) != NULL, a >= 12);
    CHECK(rc_alloc_validate(heap));
    alloc_arenas(temp, 18); /* the spares, no new mapping */
    s = stats_of(heap);
    CHECK_EQ(s.arenas_allocated, 40);
    CHECK_EQ(heap->alloc.arenas_empty, 0);
    free_arenas(temp, 18);
    CHECK_EQ(heap->alloc.arenas_empty, 18);
    CHECK_EQ(stats_of(heap).arenas_freed, 12);
    /* everything freed: the floor */
    free_arenas(live, LIVE);
    s = stats_of(heap);
    CHECK_EQ(heap->alloc.arenas_empty, RC_EMPTY_ARENAS_KEPT);
    CHECK_EQ(s.arenas_current, RC_EMPTY_ARENAS_KEPT);
    CHECK_EQ(s.arenas_freed, 40 - RC_EMPTY_ARENAS_KEPT);
    CHECK(rc_alloc_validate(heap));
    /* the bound: 64 once 56 arenas are in use (the formula alone: a heap
     * that big is too much for a test) */
    rc_alloc_state st = {.arenas_current = 65, .arenas_empty = 10};
    CHECK_EQ(rc_arena_spares_kept(&st), 8 + 55);
    st.arenas_current = 66;
    CHECK_EQ(rc_arena_spares_kept(&st), RC_EMPTY_ARENAS_MAX);
    st.arenas_current = 10000;
    CHECK_EQ(rc_arena_spares_kept(&st), RC_EMPTY_ARENAS_MAX);
    CHECK_EQ(rc_heap_trim(heap), RC_EMPTY_ARENAS_KEPT * RC_ARENA_SIZE);
    CHECK_EQ(heap->alloc.arenas_empty, 0);
    CHECK_EQ(stats_of(heap).arenas_current, 0);
    CHECK(rc_alloc_validate(heap));
    rc_heap_use(previous);
    rc_heap_destroy(heap);
}

int main(void)
{
    rc_heap *heap = rc_heap_new();
    CHECK(heap != NULL);
    rc_heap_use(heap);
    test_counts(heap);
    test_struct_size(heap);
    test_arenas(heap);
    test_spares_follow_the_heap();
    rc_heap_use(NULL);
    rc_heap_destroy(heap);
    return check_report();
}
