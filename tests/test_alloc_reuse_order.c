/* test_alloc_reuse_order: the order in which an arena's free pools and the
 * heap's wholly free arenas are used again (arena.c), which the
 * collector's full sweep relies on (src/gc/collect_full.c: it takes the
 * arenas in the order of the heap's list, oldest first, and each arena's
 * pools by address).
 *
 *   - an arena's free pools are taken again lowest address first, whatever
 *     order they came free in; untouched pools only after every free one;
 *   - an arena started on again once wholly free goes to the front of the
 *     heap's list (rc_alloc_arena_bases), where a new arena goes;
 *   - a structure built, freed from its first block on and built again
 *     lies in the list's order: its blocks' (arena place, address) rise
 *     from its first block to its last.
 * Each case runs on a heap of its own, one size class of 512-byte blocks
 * (32 a pool, 2048 an arena), checked against the expected addresses and
 * rc_alloc_validate.
 */
#include "check.h"

#include "alloc/arena_map.h"

#include <reclaim.h>

enum {
    SIZE = 512,
    PER_POOL = RC_POOL_SIZE / SIZE,
    PER_ARENA = PER_POOL * RC_POOLS_PER_ARENA,
    ARENAS = 3,
};

static char *blocks[ARENAS * PER_ARENA];

/* A plain heap (a debug heap's quarantine holds freed blocks back), made
 * current; it holds no pool yet. */
static rc_heap *own_heap(void)
{
    rc_heap_options plain = {.struct_size = sizeof plain, .malloc_mode = RC_MALLOC_DEFAULT};
    rc_heap *heap = rc_heap_new_with(&plain);
    CHECK(heap != NULL);
    rc_heap_use(heap);
    rc_alloc_stats s = {.struct_size = sizeof s};
    CHECK_EQ(rc_heap_stats(heap, &s), 0);
    CHECK_EQ(s.pools_used, 0); /* the cases count every pool */
    return heap;
}

static void end_heap(rc_heap *heap, rc_heap *previous)
{
    CHECK(rc_alloc_validate(heap));
    rc_heap_use(previous);
    rc_heap_destroy(heap);
}

static size_t pool_index(const void *p) { return rc_pool_of(rc_arena_map_get(p), p)->index; }

static char *arena_base(const void *p) { return rc_arena_map_get(p)->base; }

/* Frees the PER_POOL blocks of pool number i of the first arena. */
static void free_pool(size_t i)
{
    for (size_t b = i * PER_POOL; b < (i + 1) * PER_POOL; b++)
        rc_free(blocks[b]);
}

/* Ten pools of one arena, emptied in a scrambled order: taken again
 * lowest first, then the untouched pools above them. */
static void test_pools_lowest_first(void)
{
    static const size_t order[] = {7, 2, 9, 0, 4, 8, 1, 6, 3, 5};
    enum { POOLS = sizeof order / sizeof order[0] };
    rc_heap *previous = rc_heap_current(), *heap = own_heap();
    for (size_t b = 0; b < POOLS * PER_POOL; b++) {
        blocks[b] = rc_malloc(SIZE);
        CHECK_EQ(pool_index(blocks[b]), b / PER_POOL); /* a fresh arena fills upwards */
    }
    for (size_t k = 0; k < POOLS; k++)
        free_pool(order[k]);
    CHECK(rc_alloc_validate(heap));
    size_t bad = 0;
    char *again[(POOLS + 2) * PER_POOL];
    for (size_t b = 0; b < (POOLS + 2) * PER_POOL; b++) {
        again[b] = rc_malloc(SIZE);
        bad += pool_index(again[b]) != b / PER_POOL;
        bad += arena_base(again[b]) != arena_base(blocks[0]);
    }
    CHECK_EQ(bad, 0);
    for (size_t b = 0; b < (POOLS + 2) * PER_POOL; b++)
        rc_free(again[b]);
    end_heap(heap, previous);
}

/* Three arenas filled; the first one emptied (kept, a spare) and started
 * on again: it goes to the front of the list, its lowest pool first. */
static void test_restarted_arena_first(void)
{
    rc_heap *previous = rc_heap_current(), *heap = own_heap();
    for (size_t b = 0; b < ARENAS * PER_ARENA; b++)
        blocks[b] = rc_malloc(SIZE);
    char *a = arena_base(blocks[0]), *b = arena_base(blocks[PER_ARENA]),
         *c = arena_base(blocks[2 * PER_ARENA]), *bases[ARENAS + 1];
    CHECK(a != b && b != c && a != c);
    CHECK_EQ(rc_alloc_arena_bases(heap, bases, ARENAS + 1), ARENAS);
    CHECK(bases[0] == c && bases[1] == b && bases[2] == a); /* newest first */
    for (size_t i = 0; i < PER_ARENA; i++)
        rc_free(blocks[i]);
    CHECK_EQ(rc_alloc_arena_bases(heap, bases, ARENAS + 1), ARENAS); /* kept */
    CHECK(bases[0] == c && bases[1] == b && bases[2] == a);
    char *first = rc_malloc(SIZE);
    CHECK(arena_base(first) == a);
    CHECK_EQ(pool_index(first), 0);
    CHECK_EQ(rc_alloc_arena_bases(heap, bases, ARENAS + 1), ARENAS);
    CHECK(bases[0] == a && bases[1] == c && bases[2] == b);
    rc_free(first);
    for (size_t i = PER_ARENA; i < ARENAS * PER_ARENA; i++)
        rc_free(blocks[i]);
    end_heap(heap, previous);
}

/* The place of p in the list's order, oldest arena first, then by address:
 * the key that must rise along a structure built in one go. */
static uint64_t place_of(const void *p, char *const *bases, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (arena_base(p) == bases[i])
            return (uint64_t)(n - 1 - i) * RC_ARENA_SIZE + (uint64_t)((const char *)p - bases[i]);
    return UINT64_MAX;
}

static size_t out_of_place(size_t count)
{
    char *bases[2 * ARENAS];
    size_t n = rc_alloc_arena_bases(rc_heap_current(), bases, 2 * ARENAS), bad = 0;
    CHECK(n <= 2 * ARENAS);
    for (size_t i = 1; i < count; i++)
        bad += place_of(blocks[i], bases, n) <= place_of(blocks[i - 1], bases, n);
    return bad;
}

/* Blocks made in one go over three arenas, freed first to last (so their
 * pools come free lowest first in every arena, and the arenas one after
 * the other: the last freed is the first started on again), and made
 * again, three times: each time they lie in the list's order. */
static void test_rebuilt_in_list_order(void)
{
    rc_heap *previous = rc_heap_current(), *heap = own_heap();
    for (int round = 0; round < 3; round++) {
        for (size_t b = 0; b < ARENAS * PER_ARENA; b++)
            blocks[b] = rc_malloc(SIZE);
        CHECK_EQ(out_of_place(ARENAS * PER_ARENA), 0);
        CHECK(rc_alloc_validate(heap));
        for (size_t b = 0; b < ARENAS * PER_ARENA; b++)
            rc_free(blocks[b]);
    }
    end_heap(heap, previous);
}

int main(void)
{
    test_pools_lowest_first();
    test_restarted_arena_first();
    test_rebuilt_in_list_order();
    return check_report();
}
